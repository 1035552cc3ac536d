package bot_test

import (
	"context"
	"testing"
	"time"

	"github.com/perfbot/perfbot/bot"
	"github.com/perfbot/perfbot/dev/slackserver"
)

// TestReconnectsWhenSlackAsks: after a disconnect message (Slack refreshes connections every few
// hours) the bot opens a new connection, and commands keep running.
func TestReconnectsWhenSlackAsks(t *testing.T) {
	srv := slackserver.NewTestServer(t, slackserver.Options{RateLimits: slackserver.RateLimits{Disabled: true}})
	ch := srv.AddChannel("perf")
	srv.AddUser("U0A1", "a")
	startBot(t, srv, bot.Options{Commands: &slowCommands{}})
	for _, reason := range []string{"refresh_requested", "warning"} {
		srv.Disconnect(reason)
		waitServer(t, srv, 10*time.Second, "the old connection to drain", func() bool { return srv.Sockets() == 0 })
		waitServer(t, srv, 10*time.Second, "a new connection", func() bool { return srv.Sockets() == 1 })
	}
	slash(t, srv, "U0A1", ch, "assess")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.WaitFor(ctx, func() bool { return countWith(srv.Messages(ch), "WARN: done") == 1 }); err != nil {
		t.Fatal("no report after reconnecting")
	}
}
