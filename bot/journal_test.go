package bot_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/perfbot/perfbot/bot"
	"github.com/perfbot/perfbot/dev/slackserver"
	"github.com/perfbot/perfbot/handlers"
	"github.com/perfbot/perfbot/internal/stacktest"
	"github.com/perfbot/perfbot/journal"
	"github.com/perfbot/perfbot/probes"
)

// journalHelperEnv makes TestJournalHelperProcess run a journaled bot (in a child process).
const journalHelperEnv = "PERFBOT_JOURNAL_HELPER"

// journalLease is short so the test does not wait long for a killed replica's leases to lapse.
const journalLease = time.Second

// TestKilledReplicaLeavesNoCommandUnanswered: a bot process with two commands running (their
// placeholders posted) and four more queued is SIGKILLed. The second replica takes up all six from the
// journal once their leases lapse: each user gets exactly one answer, the two that showed progress in
// the message that showed it, and no placeholder is left behind.
func TestKilledReplicaLeavesNoCommandUnanswered(t *testing.T) {
	dsn := stacktest.Database(t, "perfbot_bot_journal")
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := journal.Migrate(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	srv := slackserver.NewTestServer(t)
	ch := srv.AddChannel("perf")
	var users []string
	for i := range 6 {
		u := fmt.Sprintf("U0J%03d", i)
		srv.AddUser(u, strings.ToLower(u))
		users = append(users, u)
	}
	child := startJournalHelper(t, srv, dsn)
	waitServer(t, srv, 20*time.Second, "the child's socket", func() bool { return srv.Sockets() == 1 })
	for _, u := range users {
		slash(t, srv, u, ch, "assess")
	}
	waitServer(t, srv, 20*time.Second, "two commands showing progress", func() bool { return countWith(srv.Messages(ch), "Assessing") == 2 })
	placeholders := map[string]bool{}
	for _, m := range srv.Messages(ch) {
		placeholders[m.TS] = true
	}

	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	startBot(t, srv, bot.Options{Commands: answerCommands{}, Workers: 4,
		Journal: journal.New(pool, "replica-b", journalLease)})
	waitServer(t, srv, 30*time.Second, "an answer for every user", func() bool {
		for _, u := range users {
			if countWith(srv.Messages(ch), "answered "+u) == 0 {
				return false
			}
		}
		return true
	})
	msgs := srv.Messages(ch)
	for _, u := range users {
		if n := countWith(msgs, "answered "+u); n != 1 {
			t.Errorf("%s got %d answers, want 1", u, n)
		}
	}
	if n := countWith(msgs, "Assessing"); n != 0 {
		t.Errorf("%d placeholders left behind", n)
	}
	if len(msgs) != len(users) {
		t.Errorf("%d messages in the channel, want one per command (%d)", len(msgs), len(users))
	}
	kept := 0
	for _, m := range msgs {
		if placeholders[m.TS] {
			kept++
		}
	}
	if kept != 2 {
		t.Errorf("%d answers are in the placeholders the killed replica posted, want 2", kept)
	}
	var open int
	stacktest.Eventually(t, 10*time.Second, 20*time.Millisecond, func() bool {
		if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM work_journal WHERE state = 'open'`).Scan(&open); err != nil {
			t.Fatal(err)
		}
		return open == 0
	}, "every journal entry closed")
}

// TestJournalHelperProcess is the replica TestKilledReplicaLeavesNoCommandUnanswered kills: two
// workers whose commands show progress and never finish.
func TestJournalHelperProcess(t *testing.T) {
	if os.Getenv(journalHelperEnv) == "" {
		t.Skip("the child process of TestKilledReplicaLeavesNoCommandUnanswered")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	pool, err := pgxpool.New(ctx, os.Getenv("PERFBOT_JOURNAL_DSN"))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	b, err := bot.New(bot.Options{AppToken: os.Getenv("SLACK_APP_TOKEN"), BotToken: os.Getenv("SLACK_BOT_TOKEN"),
		APIURL: os.Getenv("SLACK_API_URL"), Commands: heldCommands{release: make(chan struct{})}, Workers: 2, QueueSize: 64,
		Journal: journal.New(pool, "replica-a", journalLease),
		Log:     slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Run(ctx); err != nil {
		t.Fatal(err)
	}
}

func startJournalHelper(t *testing.T, srv *slackserver.Server, dsn string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestJournalHelperProcess$", "-test.v")
	cmd.Env = append(os.Environ(), journalHelperEnv+"=1", "PERFBOT_JOURNAL_DSN="+dsn, "SLACK_APP_TOKEN="+srv.AppToken(),
		"SLACK_BOT_TOKEN="+srv.BotToken(), "SLACK_API_URL="+srv.APIURL())
	out := &syncBuffer{}
	cmd.Stderr, cmd.Stdout = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		if t.Failed() {
			t.Logf("the killed replica's log:\n%s", out)
		}
	})
	return cmd
}

// answerCommands show progress and answer at once, naming the user.
type answerCommands struct{}

func (answerCommands) Handle(_ context.Context, req handlers.Request) (handlers.Report, error) {
	req.Progress(handlers.Step{Command: "/perf assess", Service: "svc", Total: 1})
	return handlers.Report{Command: "/perf assess", Title: "Assessment of svc", Status: probes.OK, Headline: "OK: answered " + req.User + ".",
		Sections: []handlers.Section{{Title: "check"}}}, nil
}

// TestJournalForgetsOldWork: finished work older than a day is deleted by a running bot; newer work and
// open work stay.
func TestJournalForgetsOldWork(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, stacktest.Database(t, "perfbot_bot_forget"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := journal.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	j := journal.New(pool, "replica-a", time.Hour)
	for _, id := range []string{"OLD", "NEW", "OPEN"} {
		if _, err := j.Accept(ctx, id, "events_api", []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"OLD", "NEW"} {
		if err := j.Done(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, `UPDATE work_journal SET done_at = now() - interval '25 hours' WHERE id = 'OLD'`); err != nil {
		t.Fatal(err)
	}
	srv := slackserver.NewTestServer(t)
	startBot(t, srv, bot.Options{Commands: answerCommands{}, Journal: journal.New(pool, "replica-b", time.Hour)})
	var left []string
	stacktest.Eventually(t, 10*time.Second, 20*time.Millisecond, func() bool {
		rows, err := pool.Query(ctx, `SELECT id FROM work_journal ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		left, err = pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return len(left) == 2
	}, "the day-old entry deleted")
	if strings.Join(left, ",") != "NEW,OPEN" {
		t.Errorf("left %v, want NEW and OPEN", left)
	}
}
