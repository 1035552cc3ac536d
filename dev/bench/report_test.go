package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/perfbot/perfbot/internal/stacktest"
)

type stormResult struct {
	users             int
	timings           []timing
	queries, sessions float64
	backends          float64
}

type growth struct {
	what  string
	times []float64 // ms
	rss   float64
	final bool // timed to the final report (the charts of a larger service differ)
}

type results struct {
	mode, cpu             string
	cores                 int
	loadBefore, loadAfter string
	started               time.Time
	took                  time.Duration
	charts                int
	assess                []timing
	slowest, byHand       []float64
	acks, journal         []float64
	ackAssessments        int
	idleRSS, idleHeap     float64
	afterManyRSS          float64
	afterManyHeap         float64
	peakRSS, peakHeap     float64
	afterStormRSS         float64
	afterStormHeap        float64
	settleTime            time.Duration
	storms                []stormResult
	growth                []growth
	chart                 testing.BenchmarkResult
	chromeCold            time.Duration
	chromeWarm            []time.Duration
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return "unknown"
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return f[0] + " / " + f[1] + " / " + f[2]
}

func httpGet(u string) (string, error) {
	resp, err := http.Get(u)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// promQueries counts the queries the stack's Prometheus evaluated for others than its own rules:
// prometheus_engine_query_duration_seconds_count (one slice of it) less prometheus_rule_evaluations_total.
func promQueries(t *testing.T) float64 {
	q, err := scrape("http://127.0.0.1:19090/metrics", "prometheus_engine_query_duration_seconds_count", `slice="inner_eval"`)
	if err != nil {
		t.Fatal(err)
	}
	rules, _ := scrape("http://127.0.0.1:19090/metrics", "prometheus_rule_evaluations_total", "")
	return q - rules
}

func pgQuery(t *testing.T, sql string) float64 {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, stacktest.AdminDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v float64
	if err := conn.QueryRow(ctx, sql).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// pgSessions is pg_stat_database's sessions (connections ever opened) of the service's database.
func pgSessions(t *testing.T) float64 {
	return pgQuery(t, `SELECT sessions::float8 FROM pg_stat_database WHERE datname = 'studio'`)
}

// pgBackends is pg_stat_database's numbackends (connections open now) of the service's database.
func pgBackends(t *testing.T) float64 {
	return pgQuery(t, `SELECT numbackends::float8 FROM pg_stat_database WHERE datname = 'studio'`)
}

func col(ts []timing, f func(timing) time.Duration) []float64 {
	var out []float64
	for _, t := range ts {
		out = append(out, ms(f(t)))
	}
	return out
}

func verdict(ok bool) string {
	if ok {
		return "**met**"
	}
	return "**not met**"
}

func (r *results) markdown() string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	final := col(r.assess, func(t timing) time.Duration { return t.final })
	done := col(r.assess, func(t timing) time.Duration { return t.charts })
	ratio, hand := make([]float64, len(done)), make([]float64, len(done))
	for i := range done {
		ratio[i], hand[i] = done[i]/r.slowest[i], r.byHand[i]/done[i]
	}
	p99 := Percentile(r.acks, 99)
	chartMs := float64(r.chart.NsPerOp()) / 1e6
	warm := make([]float64, len(r.chromeWarm))
	for i, d := range r.chromeWarm {
		warm[i] = ms(d)
	}
	w("## One run of `scripts/bench`\n\n")
	w("Written by `scripts/bench` (%s run) on %s: %d cores (`%s`), Go %s, `GOMAXPROCS=%d`. Load average\n",
		r.mode, r.started.UTC().Format("2006-01-02 15:04 UTC"), r.cores, r.cpu, strings.TrimPrefix(runtimeVersion(), "go"), r.cores)
	w("(1 / 5 / 15 min) **%s** before, **%s** after; the run took %s. Figures over repeated runs are\n", r.loadBefore, r.loadAfter, r.took.Round(time.Second))
	w("min / median / max. Everything runs against the stack of `scripts/stack up` and the local Slack server\n")
	w("(rate limits off), with perfbot as its own `perfbot run` process.\n\n")
	w("### Targets\n\n| target | measured | result |\n|---|---|---|\n")
	w("| `/perf assess` within 1.2× of its slowest backend call | %s × (to the last chart) | %s |\n", SpreadOf(ratio).Format(f2), verdict(SpreadOf(ratio).Median <= 1.2))
	w("| ack p99 ≤ 20 ms while 10 assessments run | p99 %s ms, max %s ms | %s |\n", Ms(p99), Ms(SpreadOf(r.acks).Max), verdict(p99 <= 20))
	w("| a chart (800×400, 4 × 360 points, threshold) ≤ 10 ms | %s ms | %s |\n", Ms(chartMs), verdict(chartMs <= 10))
	w("| RSS ≤ 40 MB idle | %s MB | %s |\n", Ms(r.idleRSS), verdict(r.idleRSS <= 40))
	w("| RSS ≤ 150 MB at the peak of a %d-user storm | %s MB | %s |\n", stormPeakUsers(r), Ms(r.peakRSS), verdict(r.peakRSS > 0 && r.peakRSS <= 150))
	w("| back within 10 %% of idle after the storm | %s MB against %s MB idle (after %s) | %s |\n\n", Ms(r.afterStormRSS), Ms(r.idleRSS), r.settleTime.Round(time.Second), verdict(r.afterStormRSS <= 1.1*r.idleRSS))

	w("### 1. `/perf assess` end to end\n\n")
	w("From the local Slack server sending the slash command to the placeholder, the final report, and the\n")
	w("last of the report's %d charts accepted by `files.completeUploadExternal`; each run in a new 5 s\n", r.charts)
	w("bucket (identical probe runs within one are shared). The slowest backend call is the longest\n")
	w("`perfbot_probe_duration_seconds` of the run. The runbook by hand is `dev/bench/byhand.sh`: the runbook's\n")
	w("own `curl`, `psql`, `redis-cli` and `kubectl` commands for the same checks, one after another.\n\n")
	w("| | min / median / max (ms) | p50 | p95 |\n|---|---|---|---|\n")
	for _, row := range []struct {
		name string
		xs   []float64
	}{{"ack", col(r.assess, func(t timing) time.Duration { return t.ack })},
		{"placeholder", col(r.assess, func(t timing) time.Duration { return t.placeholder })},
		{"final report", final}, {"last chart", done}, {"slowest backend call", r.slowest}, {"runbook by hand", r.byHand}} {
		w("| %s | %s | %s | %s |\n", row.name, SpreadOf(row.xs).Format(Ms), Ms(Percentile(row.xs, 50)), Ms(Percentile(row.xs, 95)))
	}
	w("\nLast chart ÷ slowest backend call: %s. Runbook by hand ÷ `/perf assess`: %s (the runbook's\n", SpreadOf(ratio).Format(f2), SpreadOf(hand).Format(f2))
	w("commands alone, without the time a person needs to type them and read their output).\n\n")

	w("### 2. Ack latency while 10 assessments run\n\n")
	w("`/perf help` %d times, 20 ms apart, while ten users keep an assessment running each (%d finished\n", len(r.acks), r.ackAssessments)
	w("meanwhile); latency from the server writing the envelope to reading the ack. The socket reader writes a\n")
	w("journal row before it acks; that write alone (`journal.Accept`, %d times on the stack's PostgreSQL):\n", len(r.journal))
	w("p50 %s ms, p99 %s ms.\n\n", Ms(Percentile(r.journal, 50)), Ms(Percentile(r.journal, 99)))
	w("| acks | p50 | p99 | max |\n|---|---|---|---|\n| %d | %s ms | %s ms | %s ms |\n\n", len(r.acks), Ms(Percentile(r.acks, 50)), Ms(p99), Ms(SpreadOf(r.acks).Max))

	w("### 3. A chart\n\n")
	w("`charts.BenchChart()`: 800×400, 4 series × 360 points, a threshold line. Headless Chromium (Debian's\n")
	w("`chromium`) draws the same data on a canvas and screenshots it, as Grafana's image renderer does.\n\n")
	w("| renderer | time per chart | allocs |\n|---|---|---|\n")
	w("| perfbot (`charts.PNG`) | %s ms | %d allocs, %s KB |\n", Ms(chartMs), r.chart.AllocsPerOp(), Ms(float64(r.chart.AllocedBytesPerOp())/1024))
	if r.chromeCold > 0 {
		w("| Chromium, cold (start the browser, load, screenshot) | %s ms | — |\n", Ms(ms(r.chromeCold)))
		w("| Chromium, warm (same tab; min / median / max) | %s ms | — |\n", SpreadOf(warm).Format(Ms))
	}
	w("\n### 4. Memory of `perfbot run`\n\n| when | RSS | Go heap in use |\n|---|---|---|\n")
	w("| idle after start | %s MB | %s MB |\n", Ms(r.idleRSS), Ms(r.idleHeap))
	w("| after %d more assessments (10 at a time) | %s MB | %s MB |\n", assessmentsCount(r), Ms(r.afterManyRSS), Ms(r.afterManyHeap))
	w("| peak during the %d-user storm | %s MB | %s MB |\n", stormPeakUsers(r), Ms(r.peakRSS), Ms(r.peakHeap))
	w("| after the storms (%s later) | %s MB | %s MB |\n\n", r.settleTime.Round(time.Second), Ms(r.afterStormRSS), Ms(r.afterStormHeap))

	w("### 5. Storms\n\n")
	w("n users send `/perf assess` within one second, each in a channel of their own. Queries and connections\n")
	w("are read from the stack: Prometheus's `prometheus_engine_query_duration_seconds_count` (less its rule\n")
	w("evaluations) and PostgreSQL's `pg_stat_database` for the service's database (`sessions` opened, peak `numbackends`).\n\n")
	w("| users | final report p50 | p95 | last chart p95 | Prometheus queries | PostgreSQL sessions opened | peak backends |\n|---|---|---|---|---|---|---|\n")
	for _, s := range r.storms {
		f := col(s.timings, func(t timing) time.Duration { return t.final })
		c := col(s.timings, func(t timing) time.Duration { return t.charts })
		peak := "—"
		if s.backends > 0 {
			peak = fmt.Sprintf("%.0f", s.backends)
		}
		w("| %d | %s ms | %s ms | %s ms | %.0f | %.0f | %s |\n", s.users, Ms(Percentile(f, 50)), Ms(Percentile(f, 95)), Ms(Percentile(c, 95)), s.queries, s.sessions, peak)
	}
	w("\n### 6. Growth\n\n")
	w("Windows: `/perf assess agentic-studio <window>` on the stack (to the last chart). Endpoints: a simulator\n")
	w("with that many endpoints (its 4 and synthetic ones that exist only in its metrics), its own Prometheus\n")
	w("and perfbot process (to the final report: a larger service draws other charts).\n\n")
	w("| case | assess min / median / max | RSS after |\n|---|---|---|\n")
	for _, g := range r.growth {
		w("| %s | %s ms | %s MB |\n", g.what, SpreadOf(g.times).Format(Ms), Ms(g.rss))
	}
	return b.String()
}

func f2(v float64) string { return fmt.Sprintf("%.2f", v) }

func stormPeakUsers(r *results) int {
	if r.mode == "quick" {
		return quick.stormPeak
	}
	return full.stormPeak
}

func assessmentsCount(r *results) int {
	if r.mode == "quick" {
		return quick.assessments
	}
	return full.assessments
}

func runtimeVersion() string { return runtime.Version() }
