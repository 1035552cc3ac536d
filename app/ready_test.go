package app_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/perfbot/perfbot/actions"
	"github.com/perfbot/perfbot/app"
	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/dev/slackserver"
	"github.com/perfbot/perfbot/incidents"
	"github.com/perfbot/perfbot/internal/stacktest"
	"github.com/perfbot/perfbot/journal"
)

// TestReadyzFollowsSocketAndDatabase: /readyz is 200 only while the Socket Mode connection is open
// and the state database answers with its migrations applied. It turns 503 when the Slack server
// goes away and when PostgreSQL stops, and 200 again when each comes back; /healthz stays 200.
func TestReadyzFollowsSocketAndDatabase(t *testing.T) {
	pg := stacktest.StartPostgres(t)
	opts := slackserver.Options{RateLimits: slackserver.RateLimits{Disabled: true}}
	slack := slackserver.NewTestServer(t, opts)
	cfg := &config.Config{
		Services: config.Default().Services,
		Slack:    config.Slack{AppToken: slack.AppToken(), BotToken: slack.BotToken(), APIURL: slack.APIURL()},
		State:    config.State{PostgresDSN: pg.DSN},
		HTTP:     config.HTTP{Listen: "127.0.0.1:0"},
	}
	cfg.ApplyDefaults()
	a, err := app.Start(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	base := "http://" + a.Addr
	get := func(path string) (int, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	var last string
	waitFor := func(code int, want, what string) {
		t.Helper()
		stacktest.Eventually(t, 60*time.Second, 50*time.Millisecond, func() bool {
			got, body := get("/readyz")
			last = body
			return got == code && strings.Contains(body, want)
		}, "%s: /readyz never answered %d with %q; last:\n%s", what, code, want, &last)
	}
	waitFor(http.StatusOK, "ok   slack: Socket Mode connection open", "started")
	for _, want := range []string{"ok   state database: answers", "ok   migrations: applied", "probe sharing: across replicas through redis"} {
		if !strings.Contains(last, want) {
			t.Errorf("ready /readyz lacks %q:\n%s", want, last)
		}
	}

	addr := slack.Addr()
	slack.Close()
	waitFor(http.StatusServiceUnavailable, "FAIL slack: Socket Mode connection not open", "Slack server gone")
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d while Slack is unreachable; it is a liveness check", code)
	}
	opts.Addr, opts.AppToken, opts.BotToken = addr, cfg.Slack.AppToken, cfg.Slack.BotToken
	slackserver.NewTestServer(t, opts)
	waitFor(http.StatusOK, "ok   slack: Socket Mode connection open", "Slack server back")

	pg.Stop()
	waitFor(http.StatusServiceUnavailable, "FAIL state database: does not answer", "PostgreSQL stopped")
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d while PostgreSQL is stopped; it is a liveness check", code)
	}
	pg.Start()
	waitFor(http.StatusOK, "ok   migrations: applied", "PostgreSQL started again")
}

// TestReadyzWantsMigrations: a state database without perfbot's tables is not ready, and says which
// migrations are missing.
func TestReadyzWantsMigrations(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, stacktest.Database(t, "perfbot_ready"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	r := app.Readiness{State: pool, Connected: func() bool { return true }}
	ready, lines := r.Check(ctx)
	if ready {
		t.Fatalf("ready with no migrations applied: %v", lines)
	}
	if err := incidents.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if body := rec.Body.String(); rec.Code != http.StatusServiceUnavailable || !strings.Contains(body, "FAIL migrations: not applied: 001_requests, 002_leases, 0001_journal") {
		t.Errorf("incidents migrated only: %d\n%s", rec.Code, body)
	}
	if err := errors.Join(actions.Migrate(ctx, pool), journal.Migrate(ctx, pool)); err != nil {
		t.Fatal(err)
	}
	if ready, lines := r.Check(ctx); !ready {
		t.Errorf("not ready with every migration applied: %v", lines)
	}
}
