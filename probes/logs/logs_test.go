package logs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/perfbot/perfbot/dev/nodelogs"
	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/internal/probetest"
	"github.com/perfbot/perfbot/internal/stacktest"
	"github.com/perfbot/perfbot/probes"
)

// kubeTestNamespaceLog writes the log the stack's node log server serves for the pods of ns
// (its -namespace-dir), removed when the test ends; other namespaces keep the simulator's log.
func kubeTestNamespaceLog(t *testing.T, ns string, lines ...string) {
	t.Helper()
	dir := filepath.Join(stacktest.StackDir(t), "logs", "namespaces")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, ns+".log")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	t.Cleanup(func() { os.Remove(path) })
}

func TestLogsThroughAPIServer(t *testing.T) {
	c := probetest.KubeClient(t, "admin")
	ns := probetest.KubeNamespace(t, c)
	for _, p := range probetest.KubeDeployment(t, c, ns, "studio", 3) {
		probetest.KubeBind(t, c, p)
	}
	id := stacktest.RandomSuffix()
	now := time.Now().UTC()
	stamp := func(ago time.Duration) string { return now.Add(-ago).Format(time.RFC3339Nano) }
	kubeTestNamespaceLog(t, ns,
		fmt.Sprintf("%s ERROR test-%s payment failed", stamp(3*time.Second), id),
		fmt.Sprintf("%s WARN test-%s upstream connection reset", stamp(2*time.Second), id),
		fmt.Sprintf("%s INFO test-%s slow query 1200ms SELECT", stamp(time.Second), id),
		fmt.Sprintf("%s ERROR test-%s rate limit exceeded", stamp(0), id),
		fmt.Sprintf("%s ERROR test-%s from two hours ago", stamp(2*time.Hour), id),
	)
	env := probetest.KubeEnv(c, ns, "studio")
	ctx := context.Background()

	res, err := matching(ctx, env, "test-"+id, 0)
	if err != nil {
		t.Fatalf("matching: %v", err)
	}
	// Each line appears once across the three pods, and the two-hour-old line is outside the hour.
	if f := probetest.Findings(res, "Log lines matching", ""); len(f) != 1 || f[0].Value != 4 {
		t.Fatalf("matching lines = %+v, want 4", res.Findings)
	}
	rows := res.Tables[0].Rows
	if !strings.Contains(rows[0][2], "rate limit exceeded") || !strings.Contains(rows[3][2], "payment failed") {
		t.Errorf("lines not newest first: %v", rows)
	}

	res, err = patterns(ctx, env)
	if err != nil {
		t.Fatalf("patterns: %v", err)
	}
	for _, name := range []string{"errors", "timeout/connection/memory", "slow query", "rate limit"} {
		t.Run(name, func(t *testing.T) {
			f := probetest.Findings(res, "Log lines: "+name, "")
			if len(f) != 1 || f[0].Value < 1 || f[0].Status != probes.Warn {
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

// TestLogsFromSimulator reads agentic-studio's logs with the bot's token: the newest line the
// simulator wrote comes back through the API server.
func TestLogsFromSimulator(t *testing.T) {
	bot := probetest.KubeClient(t, "perfbot")
	lines, err := nodelogsTail(filepath.Join(stacktest.StackDir(t), "logs", "studio-app.log"))
	if err != nil || len(lines) == 0 || time.Since(lines[len(lines)-1].T) > 30*time.Minute {
		t.Skipf("the simulator has not written its log lately (scripts/stack up runs it): %v", err)
	}
	last := lines[len(lines)-1]
	env := probetest.KubeEnv(bot, "agentic-studio", "agentic-studio")
	res, err := matching(context.Background(), env, regexp.QuoteMeta(last.Text), time.Hour)
	if err != nil {
		t.Fatalf("matching: %v", err)
	}
	if f := probetest.Findings(res, "Log lines matching", ""); len(f) != 1 || f[0].Value < 1 {
		t.Fatalf("the simulator's line %q did not come back: %+v", last.Text, res.Findings)
	}
}

// nodelogsTail reads the simulator's log the way the node log server does.
func nodelogsTail(path string) ([]nodelogs.Line, error) { return nodelogs.ReadTail(path, 1<<20) }

func TestLogsMatchingInvalid(t *testing.T) {
	env := &probes.Env{}
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
			if _, err := matching(context.Background(), env, tt.pattern, tt.since); errs.KindOf(err) != errs.Invalid {
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
	if s := logWithoutStamp("2026-01-02T03:04:05.366Z WARN slow query"); s != "WARN slow query" {
		t.Errorf("logWithoutStamp = %q", s)
	}
	if s := logWithoutStamp("WARN slow query"); s != "WARN slow query" {
		t.Errorf("logWithoutStamp changed a line without a stamp: %q", s)
	}
	if tb := logTable("t", []logLine{{Pod: "p", Text: strings.Repeat("é", 300)}}, 1); len([]rune(tb.Rows[0][2])) != logLineRunes {
		t.Errorf("a long line kept %d runes, want %d", len([]rune(tb.Rows[0][2])), logLineRunes)
	}
}
