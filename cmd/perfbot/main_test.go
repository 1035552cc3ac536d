package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/incidents"
	"github.com/perfbot/perfbot/internal/stacktest"
)

func runMain(t *testing.T, env map[string]string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

// TestUsageErrorsExitTwo: a malformed invocation or command exits with status 2. The unknown command
// runs with a real, valid configuration, so it is the command that fails, not the file.
func TestUsageErrorsExitTwo(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "perfbot.yaml")
	valid := "services:\n  - name: agentic-studio\n    prometheus: {url: 'http://127.0.0.1:19090'}\n"
	if err := os.WriteFile(cfg, []byte(valid), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := runMain(t, nil, "-config", cfg, "check-config"); err != nil {
		t.Fatalf("the test's configuration is not valid: %v\n%s", err, stderr)
	}
	for _, args := range [][]string{{}, {"nosuch"}, {"-config", cfg, "exec", "/perf nosuch"}, {"-config", cfg, "exec", "/perf assess --bogus"}, {"exec"}, {"-nosuchflag"}} {
		_, _, err := runMain(t, nil, args...)
		if got := exitCode(err); err == nil || got != 2 {
			t.Errorf("perfbot %v: err=%v exit=%d, want exit 2", args, err, got)
		}
	}
	missing := filepath.Join(t.TempDir(), "none.yaml")
	if _, _, err := runMain(t, nil, "-config", missing, "exec", "/perf assess"); err == nil || exitCode(err) != 1 {
		t.Errorf("a missing -config file: err=%v exit=%d, want exit 1", err, exitCode(err))
	}
}

func TestRunWithoutTokensSaysWhich(t *testing.T) {
	path := filepath.Join(t.TempDir(), "perfbot.yaml")
	if err := os.WriteFile(path, []byte("slack:\n  app_token: ${SLACK_APP_TOKEN}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := runMain(t, map[string]string{"SLACK_BOT_TOKEN": "xapp-wrong-kind"}, "-config", path, "run")
	if err == nil {
		t.Fatal("perfbot run started without Slack tokens")
	}
	for _, want := range []string{"SLACK_APP_TOKEN", "SLACK_BOT_TOKEN"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

func TestCheckConfigListsEveryProblem(t *testing.T) {
	path := filepath.Join(t.TempDir(), "perfbot.yaml")
	if err := os.WriteFile(path, []byte("services:\n  - name: a\n    thresholds: {error_rate: 3, cpu_usage: 7}\ntime_zone: Nowhere/Land\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := runMain(t, nil, "-config", path, "check-config")
	if err == nil {
		t.Fatal("a bad config was accepted")
	}
	for _, want := range []string{"error_rate", "cpu_usage", "time_zone"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("check-config did not report %s:\n%s", want, stderr)
		}
	}
}

func TestPostmortemCommandPrintsTheDocument(t *testing.T) {
	dsn := stacktest.Database(t, "perfbot_pm")
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := incidents.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	opts, err := incidents.OptionsFrom(cfg)
	if err != nil {
		t.Fatal(err)
	}
	store := incidents.New(pool, opts)
	inc, err := store.Open(ctx, incidents.OpenParams{Title: "checkout slow", Service: "agentic-studio", OpenedBy: "U0ALICE", Source: "console"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Record(ctx, inc.ID, incidents.Event{Kind: incidents.KindNote, Actor: "U0ALICE", Summary: "rolled back release 42"}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Resolve(ctx, inc.ID, "U0ALICE", "bad release"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "perfbot.yaml")
	if err := os.WriteFile(path, []byte("state:\n  postgres_dsn: "+dsn+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := runMain(t, nil, "-config", path, "postmortem", "1")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	for _, want := range []string{"# Postmortem", "checkout slow", "rolled back release 42", "bad release", "## Timeline"} {
		if !strings.Contains(out, want) {
			t.Errorf("postmortem lacks %q", want)
		}
	}
	_, _, err = runMain(t, nil, "-config", path, "postmortem", "99")
	if err == nil || !errors.Is(err, errReported) {
		t.Errorf("unknown incident: err = %v", err)
	}
}
