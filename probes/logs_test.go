package probes

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/perfbot/perfbot/errs"
)

// kubeTestAppendLog appends lines to the simulator's log file, which the stack's node log server
// serves as the pods' container log.
func kubeTestAppendLog(t *testing.T, lines ...string) {
	t.Helper()
	path := filepath.Join(kubeStackDir(), "logs", "studio-app.log")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	if _, err := f.WriteString(strings.Join(lines, "\n") + "\n"); err != nil {
		t.Fatalf("append to %s: %v", path, err)
	}
}

func TestLogsThroughAPIServer(t *testing.T) {
	c := kubeTestClient(t, "admin")
	ns := kubeTestNamespace(t, c)
	for _, p := range kubeTestDeployment(t, c, ns, "studio", 3) {
		kubeTestBind(t, c, p)
	}
	id := kubeTestID()
	now := time.Now().UTC()
	stamp := func(ago time.Duration) string { return now.Add(-ago).Format(time.RFC3339Nano) }
	kubeTestAppendLog(t,
		fmt.Sprintf("%s ERROR test-%s payment failed", stamp(3*time.Second), id),
		fmt.Sprintf("%s WARN test-%s upstream connection reset", stamp(2*time.Second), id),
		fmt.Sprintf("%s INFO test-%s slow query 1200ms SELECT", stamp(time.Second), id),
		fmt.Sprintf("%s ERROR test-%s rate limit exceeded", stamp(0), id),
		fmt.Sprintf("%s ERROR test-%s from two hours ago", stamp(2*time.Hour), id),
	)
	env := kubeTestEnv(c, ns, "studio")
	ctx := context.Background()

	res, err := LogsMatching(ctx, env, "test-"+id, 0)
	if err != nil {
		t.Fatalf("LogsMatching: %v", err)
	}
	// Each line appears once across the three pods, and the two-hour-old line is outside the hour.
	if f := kubeFind(res, "Log lines matching", ""); len(f) != 1 || f[0].Value != 4 {
		t.Fatalf("matching lines = %+v, want 4", res.Findings)
	}
	rows := res.Tables[0].Rows
	if !strings.Contains(rows[0][2], "rate limit exceeded") || !strings.Contains(rows[3][2], "payment failed") {
		t.Errorf("lines not newest first: %v", rows)
	}

	res, err = Logs(ctx, env)
	if err != nil {
		t.Fatalf("Logs: %v", err)
	}
	for _, name := range []string{"errors", "timeout/connection/memory", "slow query", "rate limit"} {
		t.Run(name, func(t *testing.T) {
			f := kubeFind(res, "Log lines: "+name, "")
			if len(f) != 1 || f[0].Value < 1 || f[0].Status != Warn {
				t.Fatalf("finding = %+v, want a WARN with our line counted", f)
			}
			for _, tb := range res.Tables {
				if tb.Title == name+": newest lines" && strings.Contains(fmt.Sprint(tb.Rows), "test-"+id) {
					return
				}
			}
			t.Errorf("no %q table shows our line: %+v", name, res.Tables)
		})
	}
}

func TestLogsMatchingInvalid(t *testing.T) {
	env := &Env{}
	for _, tt := range []struct {
		name, pattern string
		since         time.Duration
	}{
		{"bad regexp", "(timeout", 0},
		{"empty", "  ", 0},
		{"too long", strings.Repeat("a", logMaxPattern+1), 0},
		{"negative span", "ERROR", -time.Minute},
		{"span too long", "ERROR", 30 * 24 * time.Hour},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := LogsMatching(context.Background(), env, tt.pattern, tt.since); errs.KindOf(err) != errs.Invalid {
				t.Errorf("err = %v, want Invalid", err)
			}
		})
	}
}

func TestLogParse(t *testing.T) {
	body := []byte("2026-01-02T03:04:05.123456789Z ERROR boom\nno stamp here\n")
	got := logParse("p", body)
	if len(got) != 2 || got[0].Text != "ERROR boom" || got[0].T.Nanosecond() != 123456789 || !got[1].T.IsZero() || got[1].Text != "no stamp here" {
		t.Errorf("logParse = %+v", got)
	}
	if s := logTrim(strings.Repeat("é", 300), logLineRunes); len([]rune(s)) != logLineRunes+1 {
		t.Errorf("logTrim kept %d runes", len([]rune(s)))
	}
}
