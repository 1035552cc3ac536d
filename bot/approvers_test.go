package bot_test

import (
	"context"
	"testing"

	"github.com/perfbot/perfbot/bot"
	"github.com/perfbot/perfbot/dev/slackserver"
)

func TestGroupApproversReadsTheGroupOnceAMinute(t *testing.T) {
	srv := slackserver.NewTestServer(t)
	srv.AddUser("U0ALICE", "alice")
	srv.AddUser("U0BOB", "bob")
	srv.AddUserGroup("S0APPROVE", "U0ALICE")
	b, err := bot.New(bot.Options{AppToken: srv.AppToken(), BotToken: srv.BotToken(), APIURL: srv.APIURL(), Commands: &slowCommands{}})
	if err != nil {
		t.Fatal(err)
	}
	g := b.Approvers("S0APPROVE")
	for range 30 { // a burst of clicks
		ok, err := g.IsApprover(context.Background(), "U0ALICE")
		if err != nil || !ok {
			t.Fatalf("alice: %v, %v", ok, err)
		}
		if ok, _ := g.IsApprover(context.Background(), "U0BOB"); ok {
			t.Fatal("bob is not in the group")
		}
	}
	if n := srv.Calls("usergroups.users.list"); n != 1 {
		t.Errorf("usergroups.users.list called %d times for 60 checks", n)
	}
}
