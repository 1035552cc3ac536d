package bot_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/perfbot/perfbot/bot"
	"github.com/perfbot/perfbot/dev/slackserver"
	"github.com/perfbot/perfbot/handlers"
	"github.com/perfbot/perfbot/probes"
)

// shutdownHelperEnv makes TestShutdownHelperProcess run a bot (in a child process).
const shutdownHelperEnv = "PERFBOT_SHUTDOWN_HELPER"

// TestSIGTERMTellsEveryQueuedCommand: a bot process with two workers busy and 40 commands queued gets
// SIGTERM. It closes its socket at once (a second replica answers what comes next), tells each of
// the 40 users that perfbot is restarting and logs what it dropped, lets the two running commands
// post their reports, and exits 0: every command gets its report or a "restarting" message.
func TestSIGTERMTellsEveryQueuedCommand(t *testing.T) {
	srv := slackserver.NewTestServer(t)
	ch := srv.AddChannel("perf")
	var users []string
	for i := range 42 {
		u := fmt.Sprintf("U0Q%03d", i)
		srv.AddUser(u, strings.ToLower(u))
		users = append(users, u)
	}
	child, stderr, release := startShutdownHelper(t, srv)
	waitServer(t, srv, 20*time.Second, "the child's socket", func() bool { return srv.Sockets() == 1 })
	for _, u := range users {
		slash(t, srv, u, ch, "assess")
	}
	waitServer(t, srv, 20*time.Second, "two commands running", func() bool { return countWith(srv.Messages(ch), "Assessing") == 2 })

	startBot(t, srv, bot.Options{Commands: &slowCommands{}}) // the replica that stays
	waitServer(t, srv, 10*time.Second, "the second replica", func() bool { return srv.Sockets() == 2 })
	if err := child.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitServer(t, srv, 10*time.Second, "the stopping replica's socket to close", func() bool { return srv.Sockets() == 1 })
	later := []string{"U0LATER1", "U0LATER2", "U0LATER3"}
	for _, u := range later {
		srv.AddUser(u, strings.ToLower(u))
		slash(t, srv, u, ch, "assess")
	}
	restarting := func(u string) bool {
		for _, m := range srv.Ephemerals(ch, u) {
			if strings.Contains(m.Text, "restarting") {
				return true
			}
		}
		return false
	}
	waitServer(t, srv, 30*time.Second, "40 users told that perfbot is restarting", func() bool {
		n := 0
		for _, u := range users {
			if restarting(u) {
				n++
			}
		}
		return n == 40
	})
	close(release) // the running commands finish
	exited := make(chan error, 1)
	go func() { exited <- child.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("the bot exited with %v", err)
		}
	case <-time.After(time.Minute):
		_ = child.Process.Kill()
		t.Fatalf("the bot did not exit after SIGTERM; its log:\n%s", stderr)
	}
	waitServer(t, srv, 30*time.Second, "the later commands' reports from the other replica", func() bool {
		for _, u := range later {
			if countWith(srv.Messages(ch), "done "+u+".") != 1 {
				return false
			}
		}
		return true
	})
	reports := 0
	for _, u := range users {
		report, told := countWith(srv.Messages(ch), "held done "+u+".") == 1, restarting(u)
		switch {
		case report && told:
			t.Errorf("%s got both a report and a restarting message", u)
		case report:
			reports++
		case !told:
			t.Errorf("%s heard nothing", u)
		}
	}
	if reports != 2 {
		t.Errorf("%d running commands posted their report, want 2", reports)
	}
	if n := strings.Count(stderr.String(), "not run: perfbot is stopping"); n != 40 {
		t.Errorf("the log names %d dropped commands, want 40:\n%s", n, stderr)
	}
	for _, u := range later {
		if restarting(u) {
			t.Errorf("%s, who asked after the stopping replica closed its socket, was told it is restarting", u)
		}
	}
}

// TestShutdownHelperProcess is the bot process of TestSIGTERMTellsEveryQueuedCommand: two workers,
// commands that hold until stdin closes, SIGTERM to stop.
func TestShutdownHelperProcess(t *testing.T) {
	if os.Getenv(shutdownHelperEnv) == "" {
		t.Skip("the child process of TestSIGTERMTellsEveryQueuedCommand")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	release := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(release) }()
	b, err := bot.New(bot.Options{AppToken: os.Getenv("SLACK_APP_TOKEN"), BotToken: os.Getenv("SLACK_BOT_TOKEN"),
		APIURL: os.Getenv("SLACK_API_URL"), Commands: heldCommands{release: release}, Workers: 2, QueueSize: 64,
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Run(ctx); err != nil {
		t.Fatal(err)
	}
}

// heldCommands show progress, then wait for release before reporting.
type heldCommands struct{ release chan struct{} }

func (h heldCommands) Handle(_ context.Context, req handlers.Request) (handlers.Report, error) {
	req.Progress(handlers.Step{Command: "/perf assess", Service: "svc", Total: 1})
	<-h.release
	return handlers.Report{Command: "/perf assess", Title: "Assessment of svc", Status: probes.OK, Headline: "OK: held done " + req.User + ".",
		Sections: []handlers.Section{{Title: "check"}}}, nil
}

// startShutdownHelper starts TestShutdownHelperProcess in a child process against srv; closing
// release closes its stdin.
func startShutdownHelper(t *testing.T, srv *slackserver.Server) (*exec.Cmd, *syncBuffer, chan struct{}) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestShutdownHelperProcess$", "-test.v")
	cmd.Env = append(os.Environ(), shutdownHelperEnv+"=1", "SLACK_APP_TOKEN="+srv.AppToken(),
		"SLACK_BOT_TOKEN="+srv.BotToken(), "SLACK_API_URL="+srv.APIURL())
	stderr := &syncBuffer{}
	cmd.Stderr, cmd.Stdout = stderr, stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	go func() { <-release; _ = stdin.Close() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		if t.Failed() {
			t.Logf("the bot process's log:\n%s", stderr)
		}
	})
	return cmd, stderr, release
}

func slash(t *testing.T, srv *slackserver.Server, user, ch, text string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := srv.SlashCommand(ctx, user, ch, "/perf", text); err != nil {
		t.Fatal(err)
	}
}

func waitServer(t *testing.T, srv *slackserver.Server, d time.Duration, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if err := srv.WaitFor(ctx, cond); err != nil {
		t.Fatalf("waited in vain for %s: %v", what, errors.Unwrap(err))
	}
}

// syncBuffer is a bytes.Buffer safe for a child's output and the test reading it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }
