package bot

import "regexp"

// escapedMention is a user or user group as Slack sends it in an escaped slash command's text:
// <@U123|name>, <!subteam^S123|@name>.
var escapedMention = regexp.MustCompile(`<@([UW][A-Z0-9]+)(?:\|[^>]*)?>|<!subteam\^(S[A-Z0-9]+)(?:\|[^>]*)?>`)

// plainMentions turns Slack's escaped mentions in command text into platform-neutral references,
// @U123 and @S123, so handlers read people without knowing Slack's markup.
func plainMentions(text string) string {
	return escapedMention.ReplaceAllStringFunc(text, func(m string) string {
		sub := escapedMention.FindStringSubmatch(m)
		if sub[1] != "" {
			return "@" + sub[1]
		}
		return "@" + sub[2]
	})
}
