package pg

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/internal/probetest"
	"github.com/perfbot/perfbot/probes"
)

// TestPostgresQueryTimeIsCurrent: the "DB query time" trigger is the statement running longest now,
// CRIT past the threshold while it runs, and OK once nothing slow is running (however slow the past was).
func TestPostgresQueryTimeIsCurrent(t *testing.T) {
	db := pgTestNewDB(t)
	env := pgTestEnv(db.Pool, func(s *config.Service) { s.Thresholds.DBQueryTime = config.Duration(300 * time.Millisecond) })
	r, err := queryTime(pgTestCtx(t), env)
	if f, _ := probetest.Finding(r, "DB query time"); err != nil || f.Status != probes.OK {
		t.Fatalf("idle database: %+v, %v", f, err)
	}
	sleeper := db.Conn(t)
	pid := pgTestPIDOf(t, sleeper.QueryRow(context.Background(), "SELECT pg_backend_pid()"))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = sleeper.Exec(context.Background(), "SELECT pg_sleep(30), 'frank@example.com'")
	}()
	var f probes.Finding
	probetest.Eventually(t, 10*time.Second, "the running pg_sleep as DB query time CRIT", func() bool {
		r, err := queryTime(pgTestCtx(t), env)
		if err != nil {
			t.Fatal(err)
		}
		f, _ = probetest.Finding(r, "DB query time")
		return f.Status == probes.Crit
	})
	if f.Value < 300 || f.Subject != "pid "+pgPID(pid) || strings.Contains(f.Message, "frank@") {
		t.Errorf("finding = %+v, want pid %d over 300 ms with the literal redacted", f, pid)
	}
	db.Exec(t, "SELECT pg_cancel_backend("+pgPID(pid)+")")
	<-done
	probetest.Eventually(t, 10*time.Second, "DB query time back to OK", func() bool {
		r, _ := queryTime(pgTestCtx(t), env)
		f, _ = probetest.Finding(r, "DB query time")
		return f.Status == probes.OK
	})
}
