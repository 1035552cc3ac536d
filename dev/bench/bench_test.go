package bench

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/perfbot/perfbot/charts"
	"github.com/perfbot/perfbot/dev/studiosim"
	"github.com/perfbot/perfbot/internal/stacktest"
	"github.com/perfbot/perfbot/journal"
)

// sizes are how much one run measures; --quick makes them small so the command cannot rot.
type sizes struct {
	reps, acks, assessments, stormPeak int
	storms, endpoints                  []int
	windows                            []string
}

var full = sizes{reps: 5, acks: 300, assessments: 100, stormPeak: 50, storms: []int{10, 50, 100},
	endpoints: []int{10, 100, 1000}, windows: []string{"5m", "1h", "24h"}}
var quick = sizes{reps: 1, acks: 20, assessments: 5, stormPeak: 3, storms: []int{3},
	endpoints: []int{10}, windows: []string{"5m"}}

// TestBench is scripts/bench's driver: it measures perfbot over Socket Mode against the local stack
// and writes the tables of docs/benchmarks.md. It runs only when scripts/bench asks (PERFBOT_BENCH_OUT).
func TestBench(t *testing.T) {
	out := os.Getenv("PERFBOT_BENCH_OUT")
	if out == "" {
		t.Skip("scripts/bench runs this (PERFBOT_BENCH_OUT names the note it rewrites)")
	}
	sz, mode := full, "full"
	if os.Getenv("PERFBOT_BENCH_QUICK") == "1" {
		sz, mode = quick, "quick"
	}
	ctx := context.Background()
	r := &results{mode: mode, cpu: cpuModel(), cores: runtime.NumCPU(), loadBefore: loadAvg(), started: time.Now()}
	stack := stacktest.StackDir(t)
	d, err := newSlackDriver()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.s.Close)
	svc := service{promURL: "http://127.0.0.1:19090", simURL: "http://127.0.0.1:18000", selector: `job="agentic-studio"`,
		studioDSN: "postgres://postgres@127.0.0.1:5432/studio?sslmode=disable&application_name=perfbot-probe",
		redisAddr: stacktest.RedisAddr, kubeconfig: filepath.Join(stack, "kube", "perfbot.kubeconfig")}
	p := startPerfbot(t, d.s, svc)
	settle(2 * time.Second)
	r.idleRSS, r.idleHeap = p.rssMB(), p.heapMB()
	// One bound for every command of the run (each also has its own): the full run, with its storms and
	// the wait for memory to come back, takes many minutes.
	cctx, cancel := context.WithTimeout(ctx, 40*time.Minute)
	defer cancel()
	if err := d.learnCharts(cctx, d.user(1)); err != nil {
		t.Fatalf("first assessment: %v", err)
	}
	r.charts = d.charts

	// 1. /perf assess end to end, its slowest probe, and the runbook by hand.
	for range sz.reps {
		nextBucket()
		before := probeSums(t, p)
		tm, err := d.command(cctx, d.user(1), "assess", true)
		if err != nil {
			t.Fatal(err)
		}
		r.assess = append(r.assess, tm)
		r.slowest = append(r.slowest, slowestDelta(before, probeSums(t, p)))
		r.byHand = append(r.byHand, byHand(t, stack))
	}
	// 2. Ack latency while ten assessments run; the journal write the reader waits for.
	r.acks, r.ackAssessments = ackUnderLoad(t, d, sz.acks)
	r.journal = journalAccept(t, 200)
	// 4. Memory after many assessments.
	runMany(t, d, sz.assessments, 10)
	r.afterManyRSS, r.afterManyHeap = p.rssMB(), p.heapMB()
	// 5. Storms, with the peak memory of the stormPeak one.
	for _, n := range sz.storms {
		nextBucket()
		st := stormResult{users: n}
		q0, s0 := promQueries(t), pgSessions(t)
		var peakMu sync.Mutex
		tms, err := d.storm(ctx, n, func() {
			if n != sz.stormPeak {
				return
			}
			peakMu.Lock()
			r.peakRSS, r.peakHeap = max(r.peakRSS, p.rssMB()), max(r.peakHeap, p.heapMB())
			peakMu.Unlock()
			st.backends = max(st.backends, pgBackends(t))
		})
		if err != nil {
			t.Fatalf("storm of %d: %v", n, err)
		}
		st.timings, st.queries, st.sessions = tms, promQueries(t)-q0, pgSessions(t)-s0
		r.storms = append(r.storms, st)
	}
	r.afterStormRSS, r.settleTime = settleRSS(p, r.idleRSS, map[string]time.Duration{"full": 2 * time.Minute, "quick": 5 * time.Second}[mode])
	r.afterStormHeap = p.heapMB()
	// 6. Growth with the window...
	for _, w := range sz.windows {
		g := growth{what: "window " + w}
		for range sz.reps {
			nextBucket()
			tm, err := d.command(cctx, d.user(1), "assess agentic-studio "+w, true)
			if err != nil {
				t.Fatal(err)
			}
			g.times = append(g.times, ms(tm.charts))
		}
		g.rss = p.rssMB()
		r.growth = append(r.growth, g)
	}
	p.stop()
	// ... and with the number of endpoints (a simulator and Prometheus of their own).
	for _, n := range sz.endpoints {
		r.growth = append(r.growth, endpointGrowth(t, d, n, sz.reps))
	}
	// 3. A chart, in perfbot and in headless Chromium.
	r.chart = testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		c := charts.BenchChart()
		for b.Loop() {
			if _, err := charts.PNG(c); err != nil {
				b.Fatal(err)
			}
		}
	})
	if path, err := exec.LookPath("chromium"); err == nil {
		r.chromeCold, r.chromeWarm, err = chromiumChart(ctx, path, max(3, sz.reps*4))
		if err != nil {
			t.Errorf("chromium: %v", err)
		}
	}
	r.loadAfter = loadAvg()
	r.took = time.Since(r.started)
	doc, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, []byte(Replace(string(doc), r.markdown())), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", out)
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// settle lets a just-started process finish starting before it is measured.
func settle(d time.Duration) { time.Sleep(d) }

// nextBucket waits for the next 5-second bucket: perfbot shares identical probe runs within one, and
// each measured assessment must do its own work.
func nextBucket() {
	time.Sleep(time.Until(time.Now().Truncate(5 * time.Second).Add(5*time.Second + 50*time.Millisecond)))
}

// probeSums reads perfbot_probe_duration_seconds_sum by probe.
func probeSums(t *testing.T, p *perfbot) map[string]float64 {
	sums := map[string]float64{}
	for _, name := range probeNames(t, p) {
		v, _ := scrape(p.httpURL+"/metrics", "perfbot_probe_duration_seconds_sum", `probe="`+name+`"`)
		sums[name] = v
	}
	return sums
}

func probeNames(t *testing.T, p *perfbot) []string {
	b, err := httpGet(p.httpURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range strings.Split(b, "\n") {
		if !strings.HasPrefix(l, "perfbot_probe_duration_seconds_sum{") {
			continue
		}
		if _, rest, ok := strings.Cut(l, `probe="`); ok {
			names = append(names, rest[:strings.IndexByte(rest, '"')])
		}
	}
	return names
}

// slowestDelta is the longest time one probe spent between two readings, in ms.
func slowestDelta(before, after map[string]float64) float64 {
	slowest := 0.0
	for k, v := range after {
		slowest = max(slowest, (v-before[k])*1000)
	}
	return slowest
}

// byHand runs the runbook's commands for the same checks one after another; its wall time in ms.
func byHand(t *testing.T, stack string) float64 {
	cmd := exec.Command("bash", "byhand.sh")
	cmd.Env = append(os.Environ(), "PROM=http://127.0.0.1:19090", "HEALTH=http://127.0.0.1:18000/health/detailed",
		"DATABASE_URL=postgres://postgres@127.0.0.1:5432/studio?sslmode=disable", "REDIS="+stacktest.RedisAddr,
		"KUBECONFIG="+filepath.Join(stack, "kube", "admin.kubeconfig"), "NS=agentic-studio")
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("runbook by hand: %v\n%s", err, out)
	}
	return ms(time.Since(start))
}

// ackUnderLoad keeps ten assessments running while /perf help arrives n times; the acks' latencies
// as the local Slack server measured them (envelope written → ack read), and how many assessments ran.
func ackUnderLoad(t *testing.T, d *slackDriver, n int) ([]float64, int) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if _, err := d.command(ctx, d.user(100+i), "assess", true); err == nil {
					mu.Lock()
					done++
					mu.Unlock()
				}
			}
		}()
	}
	// Measure once every runner has its first assessment under way.
	_ = d.s.WaitFor(ctx, func() bool { return len(d.s.Acks()) >= 10 })
	user, ch := d.user(99), d.s.AddChannel("bench-acks")
	var lat []float64
	for range n {
		id, err := d.s.SlashCommand(ctx, user, ch, "/perf", "help")
		if err != nil {
			t.Fatal(err)
		}
		a, err := d.s.WaitAck(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		lat = append(lat, ms(a.Latency))
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	return lat, done
}

// journalAccept times the journal write the socket reader makes before each ack, n times, in ms.
func journalAccept(t *testing.T, n int) []float64 {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, stacktest.Database(t, "perfbot_bench_journal"))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := journal.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	j := journal.New(pool, "bench", time.Minute)
	payload := []byte(`{"envelope_id":"x","type":"slash_commands","payload":{"command":"/perf","text":"assess"}}` + strings.Repeat(" ", 700))
	var out []float64
	for i := range n {
		start := time.Now()
		if _, err := j.Accept(ctx, fmt.Sprintf("env-%d", i), "slash_commands", payload); err != nil {
			t.Fatal(err)
		}
		out = append(out, ms(time.Since(start)))
	}
	return out
}

// runMany runs n assessments, par at a time.
func runMany(t *testing.T, d *slackDriver, n, par int) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, par)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			if _, err := d.command(ctx, d.user(200+i%par), "assess", true); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}

// settleRSS waits (at most limit) for the RSS to come back within 10 % of idle; the last reading.
func settleRSS(p *perfbot, idle float64, limit time.Duration) (float64, time.Duration) {
	start := time.Now()
	for {
		rss := p.rssMB()
		if rss <= idle*1.1 || time.Since(start) > limit {
			return rss, time.Since(start)
		}
		time.Sleep(time.Second)
	}
}

// endpointGrowth times assessments of a service with n endpoints (the simulator's 4 and n-4
// synthetic ones), with its own simulator, Prometheus and perfbot process.
func endpointGrowth(t *testing.T, d *slackDriver, n, reps int) growth {
	sim := stacktest.StartSimWith(t, 15, studiosim.Options{SyntheticEndpoints: max(0, n-len(studiosim.Endpoints))})
	prom := stacktest.StartPrometheus(t, map[string]string{"agentic-studio": sim.Addr})
	// Wait until Prometheus has a minute of every endpoint's series.
	q := url.QueryEscape(`count(count by (endpoint) (http_requests_total{job="agentic-studio"} offset 1m))`)
	stacktest.Eventually(t, 3*time.Minute, time.Second, func() bool {
		b, err := httpGet(prom.URL + "/api/v1/query?query=" + q)
		return err == nil && strings.Contains(b, fmt.Sprintf(`"%d"`, n))
	}, "Prometheus has a minute of %d endpoints", n)
	p := startPerfbot(t, d.s, service{promURL: prom.URL, simURL: sim.URL, selector: `job="agentic-studio"`,
		studioDSN: sim.DSN, redisAddr: stacktest.RedisAddr})
	defer p.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	g := growth{what: fmt.Sprintf("%d endpoints", n)}
	for range reps {
		nextBucket()
		tm, err := d.command(ctx, d.user(1), "assess", false)
		if err != nil {
			t.Fatal(err)
		}
		g.times = append(g.times, ms(tm.final))
	}
	g.rss = p.rssMB()
	g.final = true
	return g
}
