package bot_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/perfbot/perfbot/bot"
	"github.com/perfbot/perfbot/dev/slackserver"
	"github.com/perfbot/perfbot/handlers"
)

// TestARepublishedDocumentEditsTheChannelCanvas: publishing a postmortem again (regenerated) edits
// the channel's canvas; it does not create a second one beside a stale first.
func TestARepublishedDocumentEditsTheChannelCanvas(t *testing.T) {
	srv := slackserver.NewTestServer(t)
	ch := srv.AddChannel("inc-1")
	ws := startBot(t, srv, bot.Options{Commands: &slowCommands{}}).Workspace()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, md := range []string{"# Postmortem\n\nfirst draft", "# Postmortem\n\nregenerated"} {
		if err := ws.Publish(ctx, ch, handlers.Document{Title: "Postmortem #1", Markdown: md, Filename: "postmortem-1.md"}); err != nil {
			t.Fatal(err)
		}
	}
	canvases := srv.Canvases(ch)
	if len(canvases) != 1 {
		t.Fatalf("%d canvases in the channel, want 1", len(canvases))
	}
	if c := canvases[0]; c.Markdown != "# Postmortem\n\nregenerated" || c.Edits != 1 {
		t.Errorf("canvas = %q after %d edits, want the regenerated postmortem after 1", c.Markdown, c.Edits)
	}
	if c, _ := srv.Channel(ch); c.CanvasID != canvases[0].ID {
		t.Errorf("channel canvas %s, want %s", c.CanvasID, canvases[0].ID)
	}
}

// TestEveryoneIsInvitedOnce: inviting people already in the channel (the opener, then the on-call,
// then the level paged by the escalation clock) asks Slack only for those not yet there.
func TestEveryoneIsInvitedOnce(t *testing.T) {
	srv := slackserver.NewTestServer(t)
	ch := srv.AddChannel("inc-1")
	for _, u := range []string{"U0ALICE", "U0BOB", "U0CAROL"} {
		srv.AddUser(u, u)
	}
	ws := startBot(t, srv, bot.Options{Commands: &slowCommands{}}).Workspace()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, users := range [][]string{{"U0ALICE", "U0BOB", "U0ALICE"}, {"U0BOB"}, {"U0BOB", "U0CAROL", srv.BotUserID()}} {
		if err := ws.Invite(ctx, ch, users); err != nil {
			t.Fatalf("invite %v: %v", users, err)
		}
	}
	if n := srv.Refusals("conversations.invite", "already_in_channel") + srv.Refusals("conversations.invite", "cant_invite_self"); n != 0 {
		t.Errorf("%d invitations were refused as needless", n)
	}
	if n := srv.Calls("conversations.invite"); n != 3 {
		t.Errorf("%d invitations, want 3 (one per person)", n)
	}
	c, _ := srv.Channel(ch)
	for _, u := range []string{"U0ALICE", "U0BOB", "U0CAROL"} {
		if !slices.Contains(c.Members, u) {
			t.Errorf("%s is not in the channel", u)
		}
	}
}
