package handlers_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/perfbot/perfbot/bot"
	"github.com/perfbot/perfbot/dev/slackserver"
	"github.com/perfbot/perfbot/handlers"
	"github.com/perfbot/perfbot/incidents"
)

// noCommands is a bot's command handler that is never called: these tests only use its Workspace.
type noCommands struct{}

func (noCommands) Handle(context.Context, handlers.Request) (handlers.Report, error) {
	return handlers.Report{}, nil
}

// slackWorkspace is the bot's real Workspace over a local Slack server with alice and bob.
func slackWorkspace(t *testing.T) (*slackserver.Server, handlers.Workspace) {
	t.Helper()
	srv := slackserver.NewTestServer(t, slackserver.Options{RateLimits: slackserver.RateLimits{Disabled: true}})
	srv.AddUser("U0ALICE", "alice")
	srv.AddUser("U0BOB", "bob")
	b, err := bot.New(bot.Options{AppToken: srv.AppToken(), BotToken: srv.BotToken(), APIURL: srv.APIURL(),
		Commands: noCommands{}})
	if err != nil {
		t.Fatal(err)
	}
	return srv, b.Workspace()
}

// TestPageGoesOutWhenAnInviteFails: one person on the level who cannot be invited (not in the
// workspace any more) keeps nobody else out and does not stop the page: everyone else is invited,
// the page is posted once mentioning the whole level, and it says who could not be invited and why.
func TestPageGoesOutWhenAnInviteFails(t *testing.T) {
	srv, ws := slackWorkspace(t)
	channel := srv.AddChannel("inc-1-checkout-slow")
	level := incidents.Level{Number: 1, Name: "On-call", Page: []string{"U0GONE", "U0ALICE", "S0SRE", "U0BOB"}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := (handlers.Pager{WS: ws}).Page(ctx, incidents.Incident{Number: 1, ChannelID: channel}, level); err != nil {
		t.Fatalf("Page: %v", err)
	}
	ch, _ := srv.Channel(channel)
	for _, u := range []string{"U0ALICE", "U0BOB"} {
		if !slices.Contains(ch.Members, u) {
			t.Errorf("%s was not invited; members %v", u, ch.Members)
		}
	}
	msgs := srv.Messages(channel)
	if len(msgs) != 1 {
		t.Fatalf("%d messages posted, want the one page: %+v", len(msgs), msgs)
	}
	text := msgs[0].Text
	for _, want := range []string{"Escalation — On-call", "<@U0ALICE>", "<@U0BOB>", "<!subteam^S0SRE>", "<@U0GONE>",
		"Could not invite <@U0GONE>", "user_not_found", "please add them by hand"} {
		if !strings.Contains(text, want) {
			t.Errorf("page lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "Could not invite <@U0ALICE>") || strings.Contains(text, "Could not invite <@U0BOB>") {
		t.Errorf("page says an invited person failed:\n%s", text)
	}
}

// TestPageFailsOnlyWhenItCannotBePosted: a page that could not be posted is an error (the clock
// retries it), naming the post's failure and the invites'.
func TestPageFailsOnlyWhenItCannotBePosted(t *testing.T) {
	_, ws := slackWorkspace(t)
	level := incidents.Level{Number: 2, Name: "Senior", Page: []string{"U0ALICE"}}
	err := (handlers.Pager{WS: ws}).Page(context.Background(), incidents.Incident{Number: 1, ChannelID: "C0GONE"}, level)
	if err == nil || !strings.Contains(err.Error(), "channel_not_found") || !strings.Contains(err.Error(), "invite U0ALICE") {
		t.Fatalf("Page into a missing channel = %v, want the post's and the invite's errors", err)
	}
}
