package bot_test

import (
	"context"

	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/perfbot/perfbot/bot"
	"github.com/perfbot/perfbot/dev/slackserver"
	"github.com/perfbot/perfbot/handlers"
	"github.com/perfbot/perfbot/probes"
)

// slowCommands reports progress for a few seconds, like an assessment, then returns a report.
type slowCommands struct{ panics atomic.Int32 }

func (s *slowCommands) Handle(ctx context.Context, req handlers.Request) (handlers.Report, error) {
	if req.Text == "panic" {
		s.panics.Add(1)
		panic("handler bug")
	}
	step := handlers.Step{Command: "/perf assess", Service: "svc", Total: 4}
	req.Progress(step)
	for i := 1; i <= 4; i++ {
		time.Sleep(600 * time.Millisecond)
		step.Done, step.Last = i, handlers.Section{Title: "check", Status: probes.OK}
		req.Progress(step)
	}
	return handlers.Report{Command: "/perf assess", Title: "Assessment of svc", Status: probes.Warn, Headline: "WARN: done " + req.User + ".",
		Findings: []probes.Finding{{Check: "c", Status: probes.Warn}}, Sections: []handlers.Section{{Title: "check"}}}, nil
}

func startTestBot(t *testing.T, srv *slackserver.Server, cmds bot.Commander) {
	t.Helper()
	startBot(t, srv, bot.Options{Commands: cmds, Workers: 16, Log: slog.New(slog.NewTextHandler(testLog{t}, nil))})
}

// TestReportsArriveUnderSlackRateLimits: a dozen slow commands at once in one channel, against Slack's
// real limits (chat.postMessage ~1/s per channel, chat.update ~50/min): every report still arrives.
func TestReportsArriveUnderSlackRateLimits(t *testing.T) {
	srv := slackserver.NewTestServer(t) // Slack's rate limits on
	ch := srv.AddChannel("perf")
	users := []string{"U0A1", "U0A2", "U0A3", "U0A4", "U0A5", "U0A6", "U0A7", "U0A8", "U0A9", "U0A10", "U0A11", "U0A12"}
	for _, u := range users {
		srv.AddUser(u, strings.ToLower(u))
	}
	startTestBot(t, srv, &slowCommands{})
	for _, u := range users {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if _, err := srv.SlashCommand(ctx, u, ch, "/perf", "assess"); err != nil {
			t.Fatal(err)
		}
		cancel()
	}
	final := func() int {
		n := 0
		for _, m := range srv.Messages(ch) {
			if strings.Contains(m.Text, "WARN: done") {
				n++
			}
		}
		return n
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := srv.WaitFor(ctx, func() bool { return final() == len(users) }); err != nil {
		t.Fatalf("%d of %d reports arrived", final(), len(users))
	}
	for _, u := range users {
		if n := countWith(srv.Messages(ch), "done "+u+"."); n != 1 {
			t.Errorf("report for %s arrived %d times", u, n)
		}
	}
}

// TestAPanickingCommandDoesNotStopTheBot: a handler bug is logged; the next command still runs.
func TestAPanickingCommandDoesNotStopTheBot(t *testing.T) {
	srv := slackserver.NewTestServer(t, slackserver.Options{RateLimits: slackserver.RateLimits{Disabled: true}})
	ch := srv.AddChannel("perf")
	srv.AddUser("U0A1", "a")
	cmds := &slowCommands{}
	startTestBot(t, srv, cmds)
	for _, text := range []string{"panic", "assess"} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if _, err := srv.SlashCommand(ctx, "U0A1", ch, "/perf", text); err != nil {
			t.Fatal(err)
		}
		cancel()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.WaitFor(ctx, func() bool { return countWith(srv.Messages(ch), "WARN: done") == 1 }); err != nil {
		t.Fatal("no report after a command panicked")
	}
	if cmds.panics.Load() != 1 {
		t.Errorf("panicking command ran %d times", cmds.panics.Load())
	}
}

func countWith(msgs []slackserver.Message, s string) int {
	n := 0
	for _, m := range msgs {
		if strings.Contains(m.Text, s) {
			n++
		}
	}
	return n
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
