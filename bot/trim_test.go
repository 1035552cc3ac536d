package bot_test

import (
	"testing"
	"time"

	"github.com/perfbot/perfbot/bot"
	"github.com/perfbot/perfbot/dev/slackserver"
	"github.com/perfbot/perfbot/internal/stacktest"
)

// TestMemoryIsReturnedAfterABurst: once the commands of a burst are answered and the bot stays idle,
// it hands the memory back to the operating system, once per burst; an idle bot that did no work
// does not.
func TestMemoryIsReturnedAfterABurst(t *testing.T) {
	srv := slackserver.NewTestServer(t)
	ch := srv.AddChannel("perf")
	srv.AddUser("U0TRIM", "trim")
	b := startBot(t, srv, bot.Options{Commands: answerCommands{}, Workers: 2, TrimAfter: 200 * time.Millisecond})
	if n := b.Trims(); n != 0 {
		t.Fatalf("%d trims before any work", n)
	}
	for range 3 {
		slash(t, srv, "U0TRIM", ch, "assess")
	}
	waitServer(t, srv, 20*time.Second, "three answers", func() bool { return countWith(srv.Messages(ch), "answered U0TRIM") == 3 })
	stacktest.Eventually(t, 20*time.Second, 50*time.Millisecond, func() bool { return b.Trims() == 1 }, "memory returned after the burst")
	slash(t, srv, "U0TRIM", ch, "assess")
	waitServer(t, srv, 20*time.Second, "a fourth answer", func() bool { return countWith(srv.Messages(ch), "answered U0TRIM") == 4 })
	stacktest.Eventually(t, 20*time.Second, 50*time.Millisecond, func() bool { return b.Trims() == 2 }, "memory returned after the next burst")
}
