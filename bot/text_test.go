package bot

import (
	"context"
	"log/slog"
	"math/rand"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/perfbot/perfbot/dev/slackserver"
	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/handlers"
	"github.com/perfbot/perfbot/incidents"
)

func TestMrkdwnText(t *testing.T) {
	h := struct {
		T                         func(...handlers.Part) handlers.Text
		Plain, Data, Bold, Code   func(string) handlers.Piece
		User, Group, Channel, Who func(string) handlers.Piece
		Link                      func(string, string) handlers.Piece
		Break                     func() handlers.Piece
	}{handlers.T, handlers.Plain, handlers.Data, handlers.Bold, handlers.Code, handlers.User, handlers.Group, handlers.Channel,
		handlers.Who, handlers.Link, handlers.Break}
	tests := []struct {
		name string
		text handlers.Text
		want string
	}{
		{"incident opened", h.T(handlers.IconIncident, h.Plain("Incident #3 "), h.Bold("checkout slow"), h.Plain(" (sev2) opened by "),
			h.Who("U0ALICE"), h.Plain(" in "), h.Channel("C0INC"), h.Plain(".")),
			":rotating_light: Incident #3 *checkout slow* (sev2) opened by <@U0ALICE> in <#C0INC>."},
		{"escalation pages users and groups", h.T(handlers.IconEscalation, h.Bold("Escalation — L2"), h.Plain(" "), h.Who("U0BOB"), h.Plain(" "),
			h.Who("S0SRE"), h.Plain(" "), h.Who("bob")), ":rotating_light: *Escalation — L2* <@U0BOB> <!subteam^S0SRE> bob"},
		{"every icon has an emoji", h.T(handlers.IconNote, h.Plain("x")), ":memo: x"},
		{"icon without text", h.T(handlers.IconWarning), ""},
		{"data is escaped", h.T(h.Data("<!channel> @here <@U1> &lt; <https://evil.example|x> *b*")),
			"&lt;!channel&gt; @" + zwsp + "here &lt;@U1&gt; &amp;lt; &lt;https://evil.example|x&gt; ∗b∗"},
		{"plain words are literal too", h.T(h.Plain("usage: /perf incident open <title> & *more*")),
			"usage: /perf incident open &lt;title&gt; &amp; ∗more∗"},
		{"broadcast split over pieces", h.T(h.Plain("ping @"), h.Data("Here now")), "ping @" + zwsp + "Here now"},
		{"bold is trimmed so Slack shows it bold", h.T(h.Plain("a "), h.Bold(" x \u200b\n"), h.Bold("")), "a *x*"},
		{"bold cannot be closed by data", h.T(h.Bold("fix *prod*")), "*fix ∗prod∗*"},
		{"bold keeps a starred word whole", h.T(h.Bold("a*b")), "*a∗b*"},
		{"ids of the wrong shape are data", h.T(h.User("U1> <!channel"), h.Plain(" "), h.Group("S0SRE"), h.Plain(" "), h.Group("U0ALICE"),
			h.Plain(" "), h.Channel("#general"), h.Plain(" "), h.User("")), "U1&gt; &lt;!channel <!subteam^S0SRE> U0ALICE #general"},
		{"code", h.T(h.Code("/perf incident note <text>"), h.Plain(" "), h.Code("a`b *c*"), h.Code("  ")),
			"`/perf incident note &lt;text&gt;` `aˋb *c*`"},
		{"link", h.T(h.Link("https://grafana.example/d?a=1&b=2|x y", "Grafana <board>")),
			"<https://grafana.example/d?a=1&amp;b=2%7Cx%20y|Grafana &lt;board&gt;>"},
		{"link without label", h.T(h.Link("http://x.example/", "")), "<http://x.example/>"},
		{"other schemes are not links", h.T(h.Link("javascript:alert(1)", "click"), h.Plain(" "), h.Link("<!here>", "")), "click &lt;!here&gt;"},
		{"line breaks", h.T(h.Plain("a"), h.Break(), h.Data("b\n\n\n\nc")), "a\nb\n\nc"},
		{"controls and invisibles", h.T(h.Data("a\x1b[31mred\x00\u202e!")), "a [31mred !"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mrkdwnText(tt.text, -1); got != tt.want {
				t.Errorf("mrkdwnText = %q\nwant         %q", got, tt.want)
			}
		})
	}
}

func TestMrkdwnTextCuts(t *testing.T) {
	tests := []struct {
		name string
		text handlers.Text
		max  int
		want string
	}{
		{"fits exactly", handlers.T(handlers.Plain("abc"), handlers.User("U0ALICE")), 13, "abc<@U0ALICE>"},
		{"a mention is never split", handlers.T(handlers.Plain("ab"), handlers.User("U0ALICE"), handlers.Plain("cd")), 6, "ab…"},
		{"an entity is never split", handlers.T(handlers.Data("a<b")), 4, "a…"},
		{"bold cut is closed", handlers.T(handlers.Bold("abcdefgh")), 6, "*abc…*"},
		{"code cut is closed", handlers.T(handlers.Plain("x "), handlers.Code("abcdefgh")), 8, "x `abc…`"},
		{"one rune", handlers.T(handlers.Plain("hello")), 1, "…"},
		{"zero", handlers.T(handlers.Plain("hello")), 0, ""},
		{"huge data is bounded", handlers.T(handlers.Data(strings.Repeat("x", 1_000_000))), 5, "xxxx…"},
		{"huge invisible data still says it was cut", handlers.T(handlers.Data(strings.Repeat("\u200b", 50_000) + "tail")), 10, "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mrkdwnText(tt.text, tt.max); got != tt.want {
				t.Errorf("mrkdwnText(…, %d) = %q, want %q", tt.max, got, tt.want)
			}
		})
	}
}

// TestMrkdwnTextHostile: whatever the pieces hold and wherever the cut falls, the result fits,
// is valid UTF-8 and neither pings nor links anyone.
func TestMrkdwnTextHostile(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for i := 0; i < 2000; i++ {
		text := hostileText(rng)
		max := []int{-1, 1, 2, 5, 40, 300, 3000}[rng.Intn(7)]
		got := mrkdwnText(text, max)
		if max >= 0 && utf8.RuneCountInString(got) > max {
			t.Fatalf("%d runes, max %d: %q", utf8.RuneCountInString(got), max, got)
		}
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8: %q", got)
		}
		checkSafe(t, "mrkdwnText", "mrkdwn", got)
		if t.Failed() {
			t.Fatalf("text %+v", text)
		}
	}
}

func TestErrorText(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{errs.NotFoundf("deployment <x>"), ":mag: Not found: deployment &lt;x&gt;"},
		{errs.Invalidf("unknown command. Try `/perf help`."), ":grey_question: unknown command. Try `/perf help`."},
		{errs.Forbiddenf("not an approver"), ":no_entry: Not allowed: not an approver"},
		{errs.Conflictf("already approved"), ":hourglass: already approved"},
		{errs.Unavailablef("no kubeconfig"), ":electric_plug: Unavailable: no kubeconfig"},
		{context.Canceled, ":warning: internal error (ref r1). The details are in perfbot's log."},
	}
	for _, tt := range tests {
		if got := errorText(tt.err, "r1", 3000); got != tt.want {
			t.Errorf("errorText(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
	if got := errorText(errs.Invalidf("%s", strings.Repeat("x", 5000)), "r1", 100); utf8.RuneCountInString(got) > 100 {
		t.Errorf("errorText is %d runes, want ≤ 100", utf8.RuneCountInString(got))
	}
}

// TestWorkspacePostAndPublish: a posted Text arrives as mrkdwn with its mentions; a published
// document puts canvas mentions in the canvas and keeps the Markdown file free of Slack syntax.
func TestWorkspacePostAndPublish(t *testing.T) {
	srv := slackserver.NewTestServer(t, slackserver.Options{RateLimits: slackserver.RateLimits{Disabled: true}})
	ch := srv.AddChannel("inc-1-slow")
	b, err := New(Options{AppToken: srv.AppToken(), BotToken: srv.BotToken(), APIURL: srv.APIURL(), Commands: nil,
		Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ws, ctx := b.Workspace(), context.Background()
	text := handlers.T(handlers.IconAlertFiring, handlers.Plain("Alert firing: "), handlers.Bold("HighLatency"), handlers.Plain(" — "),
		handlers.Data("p95 <!here> @channel"), handlers.Plain(" cc "), handlers.User("U0ALICE"))
	if err := ws.Post(ctx, ch, text); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages(ch)
	want := ":bell: Alert firing: *HighLatency* — p95 &lt;!here&gt; @" + zwsp + "channel cc <@U0ALICE>"
	if len(msgs) != 1 || msgs[0].Text != want {
		t.Fatalf("messages = %+v, want one with %q", msgs, want)
	}

	doc := handlers.Document{Title: "Postmortem #1: slow", Markdown: "| Resolved by | @U0ALICE |\n", Filename: "postmortem-inc-1-slow.md",
		WithPeople: func(person incidents.Person) (string, error) {
			return "| Resolved by | " + person("U0ALICE") + " |\n", nil
		}}
	if err := ws.Publish(ctx, ch, doc); err != nil {
		t.Fatal(err)
	}
	canvases := srv.Canvases(ch)
	if len(canvases) != 1 || canvases[0].Markdown != "| Resolved by | ![](@U0ALICE) |\n" {
		t.Errorf("canvases = %+v, want the canvas mention", canvases)
	}
	files := srv.Files(ch)
	if len(files) != 1 || string(files[0].Bytes) != doc.Markdown {
		t.Errorf("files = %+v, want the plain Markdown", files)
	}
}

// hostileText returns structured text of up to 12 pieces of every kind, each holding hostile text
// (so no mention or link is valid: checkSafe allows none).
func hostileText(rng *rand.Rand) handlers.Text {
	kinds := []func(string) handlers.Piece{handlers.Plain, handlers.Data, handlers.Bold, handlers.Code, handlers.User, handlers.Group,
		handlers.Channel, handlers.Who, func(s string) handlers.Piece { return handlers.Link(s, s) },
		func(string) handlers.Piece { return handlers.Break() }}
	parts := []handlers.Part{handlers.Icon(rng.Intn(9))}
	for n := rng.Intn(13); n > 0; n-- {
		s := hostile(rng)
		if rng.Intn(10) == 0 {
			s = hostileBig(rng)
		}
		parts = append(parts, kinds[rng.Intn(len(kinds))](s))
	}
	return handlers.T(parts...)
}

// repeatText is parts n times over.
func repeatText(n int, parts ...handlers.Part) handlers.Text {
	var all []handlers.Part
	for i := 0; i < n; i++ {
		all = append(all, parts...)
	}
	return handlers.T(all...)
}
