package bot

import (
	"regexp"
	"strings"
	"testing"

	"github.com/perfbot/perfbot/dev/slackserver"
	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/handlers"
)

var strong = regexp.MustCompile(`<strong>(.*?)</strong>`)

// TestFormattingMarkersInDataStayLiteral: a title with *, _, ~ or ` shown in perfbot's own bold (the
// incident summary) or as data is rendered by a mrkdwn parser as exactly the bold perfbot meant: the
// data neither closes the bold early nor starts formatting of its own.
func TestFormattingMarkersInDataStayLiteral(t *testing.T) {
	for _, title := range []string{"*x*", "db *slow* again", "_x_", "~x~", "`x`", "a*b", "p95 > 1s*"} {
		summary := handlers.T(handlers.Bold("Incident #1: "+title), handlers.Plain(" opened by "), handlers.User("U0ALICE"))
		html := slackserver.MrkdwnHTML(mrkdwnText(summary, 3000), slackserver.Names{})
		got := strong.FindAllStringSubmatch(html, -1)
		if len(got) != 1 || !strings.HasPrefix(got[0][1], "Incident #1: ") || strings.Contains(html, "<em>") || strings.Contains(html, "<del>") || strings.Contains(html, "<code>") {
			t.Errorf("bold title %q renders as %s", title, html)
		}
		data := slackserver.MrkdwnHTML(mrkdwnText(handlers.T(handlers.Plain("Title: "), handlers.Data(title)), 3000), slackserver.Names{})
		if strings.Contains(data, "<strong>") || strings.Contains(data, "<em>") || strings.Contains(data, "<del>") || strings.Contains(data, "<code>") {
			t.Errorf("data %q formats itself: %s", title, data)
		}
	}
}

// TestRefusalsShowMentions: a refusal naming people shows them as mentions after the kind's words.
func TestRefusalsShowMentions(t *testing.T) {
	err := handlers.Refuse(errs.Forbidden, handlers.T(handlers.Plain("you may not approve changes; approvers are "),
		handlers.User("U0ALICE"), handlers.Plain(", "), handlers.User("U0CAROL"), handlers.Plain(" and members of "), handlers.Group("S0APPROVE")))
	got := errorText(err, "ref", maxSectionText)
	want := ":no_entry: Not allowed: you may not approve changes; approvers are <@U0ALICE>, <@U0CAROL> and members of <!subteam^S0APPROVE>"
	if got != want {
		t.Errorf("errorText = %q\nwant %q", got, want)
	}
}
