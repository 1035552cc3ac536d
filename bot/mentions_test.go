package bot

import "testing"

// TestPlainMentions: escaped user and group mentions in a slash command reach handlers as @ID; other
// text, and markup that only looks like a mention, is left alone.
func TestPlainMentions(t *testing.T) {
	for in, want := range map[string]string{
		"incident lead <@U0ALICE|alice>":             "incident lead @U0ALICE",
		"incident lead <@W0ENT>":                     "incident lead @W0ENT",
		"note ask <!subteam^S0DBA|@dba> and <@U1|b>": "note ask @S0DBA and @U1",
		"note <#C0PERF|perf> stays":                  "note <#C0PERF|perf> stays",
		"note <@lowercase> stays":                    "note <@lowercase> stays",
		"assess agentic-studio 15m":                  "assess agentic-studio 15m",
	} {
		if got := plainMentions(in); got != want {
			t.Errorf("plainMentions(%q) = %q, want %q", in, got, want)
		}
	}
}
