package studiosim

import (
	"context"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// faultCase injects one fault, checks its effect is real, clears it and checks it is gone.
type faultCase struct {
	name  string
	fault Fault
	// effect runs while the fault is active; the function it returns runs after the clear.
	effect func(t *testing.T, e *testEnv) (gone func(t *testing.T))
}

func TestFaults(t *testing.T) {
	e := newTestEnv(t, nil)
	cases := []faultCase{
		{"latency", Fault{Kind: KindLatency, Endpoint: EndpointIdeas, Delay: 800 * time.Millisecond}, latencyEffect},
		{"errors", Fault{Kind: KindErrors, Endpoint: EndpointProjects, Rate: 1}, errorsEffect},
		{"slow_sql", Fault{Kind: KindSlowSQL, Endpoint: EndpointIdeas, Seconds: 1}, slowSQLEffect},
		{"lock", Fault{Kind: KindLock, Table: "projects"}, lockEffect},
		{"idle_in_tx", Fault{Kind: KindIdleInTx, Connections: 2}, idleEffect},
		{"redis_memory", Fault{Kind: KindRedisMemory, MB: 24}, redisEffect},
		{"openai_latency", Fault{Kind: KindOpenAILatency, Delay: 300 * time.Millisecond}, openaiLatencyEffect},
		{"openai_429", Fault{Kind: KindOpenAI429, Rate: 1}, openai429Effect},
		{"crewai_failures", Fault{Kind: KindCrewAIFailures, Rate: 1}, crewFailEffect},
		{"memory_growth", Fault{Kind: KindMemoryGrowth, MBPerSec: 400, MaxMB: 96}, memoryEffect},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := e.inject(t, tc.fault)
			gone := tc.effect(t, e)
			if err := e.client.Clear(context.Background(), id); err != nil {
				t.Fatalf("clear: %v", err)
			}
			if n := len(e.srv.Faults()); n != 0 {
				t.Fatalf("%d faults still active after clear", n)
			}
			gone(t)
		})
	}
}

func latencyEffect(t *testing.T, e *testEnv) func(*testing.T) {
	delay := 800 * time.Millisecond
	code, _, d := e.do(t, http.MethodGet, EndpointIdeas, "")
	if code != http.StatusOK || d < delay {
		t.Fatalf("GET /api/ideas with latency fault: status %d in %s, want 200 in >= %s", code, d, delay)
	}
	if _, _, d := e.do(t, http.MethodGet, EndpointProjects, ""); d >= delay {
		t.Errorf("GET /api/projects took %s: the latency fault leaked to another endpoint", d)
	}
	if s := e.metricSum(t, "http_request_duration_seconds", map[string]string{"endpoint": EndpointIdeas}); s < delay.Seconds() {
		t.Errorf("histogram sum for /api/ideas = %gs, want >= %gs", s, delay.Seconds())
	}
	return func(t *testing.T) {
		if _, _, d := e.do(t, http.MethodGet, EndpointIdeas, ""); d >= delay {
			t.Errorf("GET /api/ideas still took %s after clear", d)
		}
	}
}

func errorsEffect(t *testing.T, e *testEnv) func(*testing.T) {
	labels := map[string]string{"endpoint": EndpointProjects, "status": "500"}
	before := e.metric(t, "http_requests_total", labels)
	if code, _, _ := e.do(t, http.MethodGet, EndpointProjects, ""); code != http.StatusInternalServerError {
		t.Fatalf("GET /api/projects = %d, want 500", code)
	}
	if got := e.metric(t, "http_requests_total", labels) - before; got != 1 {
		t.Errorf("http_requests_total{status=500} grew by %g, want 1", got)
	}
	if !strings.Contains(e.logs.String(), "ERROR request failed endpoint=/api/projects status=500") {
		t.Errorf("no `ERROR request failed` line in the log")
	}
	return func(t *testing.T) {
		if code, body, _ := e.do(t, http.MethodGet, EndpointProjects, ""); code != http.StatusOK {
			t.Errorf("GET /api/projects after clear = %d %s", code, body)
		}
	}
}

// countActivity counts sessions of the test database matching where.
func countActivity(t *testing.T, e *testEnv, where string) int {
	t.Helper()
	var n int
	q := `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND ` + where
	if err := e.pg.QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatalf("pg_stat_activity: %v", err)
	}
	return n
}

// background runs a GET and delivers its status and duration.
type outcome struct {
	code int
	d    time.Duration
}

func background(t *testing.T, e *testEnv, path string) chan outcome {
	ch := make(chan outcome, 1)
	go func() {
		start := time.Now()
		resp, err := http.Get(e.url + path)
		if err != nil {
			ch <- outcome{code: -1, d: time.Since(start)}
			return
		}
		resp.Body.Close()
		ch <- outcome{code: resp.StatusCode, d: time.Since(start)}
	}()
	return ch
}

func slowSQLEffect(t *testing.T, e *testEnv) func(*testing.T) {
	sleeping := `wait_event = 'PgSleep' AND query LIKE '%pg_sleep%ideas%'`
	ch := background(t, e, EndpointIdeas)
	eventually(t, 3*time.Second, "pg_sleep in pg_stat_activity", func() bool { return countActivity(t, e, sleeping) > 0 })
	o := <-ch
	if o.code != http.StatusOK || o.d < time.Second {
		t.Fatalf("GET /api/ideas with slow_sql: %d in %s, want 200 in >= 1s", o.code, o.d)
	}
	if !strings.Contains(e.logs.String(), "WARN slow query duration=1.") || !strings.Contains(e.logs.String(), "table=ideas") {
		t.Errorf("no `WARN slow query duration=1.x table=ideas` line in the log")
	}
	return func(t *testing.T) {
		if _, _, d := e.do(t, http.MethodGet, EndpointIdeas, ""); d >= time.Second {
			t.Errorf("GET /api/ideas took %s after clear", d)
		}
		if n := countActivity(t, e, `wait_event = 'PgSleep'`); n != 0 {
			t.Errorf("%d sessions still in pg_sleep after clear", n)
		}
	}
}

func lockEffect(t *testing.T, e *testEnv) func(*testing.T) {
	blocked := `cardinality(pg_blocking_pids(pid)) > 0 AND query LIKE 'UPDATE projects%'`
	ch := background(t, e, EndpointProjects)
	eventually(t, 3*time.Second, "an UPDATE blocked by the lock", func() bool { return countActivity(t, e, blocked) > 0 })
	var holder string
	q := `SELECT b.application_name FROM pg_stat_activity a JOIN pg_stat_activity b ON b.pid = ANY (pg_blocking_pids(a.pid))
WHERE a.datname = current_database() AND a.query LIKE 'UPDATE projects%' LIMIT 1`
	if err := e.pg.QueryRow(context.Background(), q).Scan(&holder); err != nil || holder != lockAppName {
		t.Errorf("blocking session = %q (%v), want %q", holder, err, lockAppName)
	}
	select {
	case o := <-ch:
		t.Fatalf("GET /api/projects finished (%d) while the lock is held", o.code)
	default:
	}
	return func(t *testing.T) {
		o := <-ch // the waiting request goes through once the lock is released
		if o.code != http.StatusOK {
			t.Errorf("blocked GET /api/projects ended with %d after clear", o.code)
		}
		// A closed session leaves pg_stat_activity when its backend has exited, shortly after.
		eventually(t, 3*time.Second, "the lock session to disconnect", func() bool {
			return countActivity(t, e, `application_name = '`+lockAppName+`'`) == 0
		})
	}
}

func idleEffect(t *testing.T, e *testEnv) func(*testing.T) {
	idle := `state = 'idle in transaction' AND application_name = 'studiosim'`
	if n := countActivity(t, e, idle); n != 2 {
		t.Fatalf("%d app sessions idle in transaction, want 2", n)
	}
	if code, _, _ := e.do(t, http.MethodGet, EndpointIdeas, ""); code != http.StatusOK {
		t.Errorf("GET /api/ideas = %d with 2 of 6 connections hogged", code)
	}
	return func(t *testing.T) {
		if n := countActivity(t, e, idle); n != 0 {
			t.Errorf("%d sessions still idle in transaction after clear", n)
		}
	}
}

func redisUsedMemory(t *testing.T, e *testEnv) int64 {
	t.Helper()
	info, err := e.rdb.Info(context.Background(), "memory").Result()
	if err != nil {
		t.Fatalf("INFO memory: %v", err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	t.Fatalf("no used_memory in INFO memory")
	return 0
}

func redisEffect(t *testing.T, e *testEnv) func(*testing.T) {
	id := e.srv.Faults()[0].ID
	keys, err := e.scan(context.Background(), "studiosim:fill:"+id+":*")
	if err != nil || len(keys) != 24 {
		t.Fatalf("%d fill keys (%v), want 24", len(keys), err)
	}
	peak := redisUsedMemory(t, e)
	if peak < 24<<20 {
		t.Fatalf("redis used_memory %d, want >= 24 MiB", peak)
	}
	return func(t *testing.T) {
		keys, _ := e.scan(context.Background(), "studiosim:fill:"+id+":*")
		if len(keys) != 0 {
			t.Errorf("%d fill keys left after clear", len(keys))
		}
		eventually(t, 3*time.Second, "redis used_memory to drop", func() bool {
			return redisUsedMemory(t, e) < peak-20<<20
		})
	}
}

func openaiLatencyEffect(t *testing.T, e *testEnv) func(*testing.T) {
	before, beforeN := e.metricSum(t, "openai_api_duration_seconds", nil), e.metric(t, "openai_api_duration_seconds", nil)
	start := time.Now()
	if r := e.runCrew(t); r.Status != "success" {
		t.Fatalf("crew = %+v", r)
	}
	calls := e.metric(t, "openai_api_duration_seconds", nil) - beforeN
	if d := time.Since(start); calls < 3 || d < time.Duration(calls)*300*time.Millisecond {
		t.Fatalf("crew with %g OpenAI calls took %s, want >= 300ms each", calls, d)
	}
	if avg := (e.metricSum(t, "openai_api_duration_seconds", nil) - before) / calls; avg < 0.3 {
		t.Errorf("mean openai_api_duration_seconds %gs, want >= 0.3s", avg)
	}
	return func(t *testing.T) {
		start := time.Now()
		e.runCrew(t)
		if d := time.Since(start); d >= 900*time.Millisecond {
			t.Errorf("crew took %s after clear", d)
		}
	}
}

func openai429Effect(t *testing.T, e *testEnv) func(*testing.T) {
	labels := map[string]string{"type": "rate_limit"}
	before := e.metric(t, "openai_api_errors_total", labels)
	r := e.runCrew(t)
	if r.Status != "error" || !strings.Contains(r.Error, "429") {
		t.Fatalf("crew under openai_429 = %+v, want an error mentioning 429", r)
	}
	if got := e.metric(t, "openai_api_errors_total", labels) - before; got != 3 {
		t.Errorf("rate_limit errors grew by %g, want 3 (one call, two retries)", got)
	}
	if !strings.Contains(e.logs.String(), "WARN openai rate limit hit status=429") {
		t.Errorf("no `rate limit` line in the log")
	}
	return func(t *testing.T) {
		before := e.metric(t, "openai_api_errors_total", labels)
		if r := e.runCrew(t); r.Status != "success" {
			t.Errorf("crew after clear = %+v", r)
		}
		if e.metric(t, "openai_api_errors_total", labels) != before {
			t.Errorf("rate_limit errors still growing after clear")
		}
	}
}

func crewFailEffect(t *testing.T, e *testEnv) func(*testing.T) {
	labels := map[string]string{"agent": "researcher", "status": "error"}
	before := e.metric(t, "crewai_tasks_total", labels)
	if r := e.runCrew(t); r.Status != "error" || r.Tasks != 0 {
		t.Fatalf("crew under crewai_failures = %+v", r)
	}
	if got := e.metric(t, "crewai_tasks_total", labels) - before; got != 1 {
		t.Errorf("crewai_tasks_total{status=error} grew by %g, want 1", got)
	}
	if !strings.Contains(e.logs.String(), "ERROR crewai task failed agent=researcher") {
		t.Errorf("no `crewai task failed` line in the log")
	}
	var status string
	if err := e.pg.QueryRow(context.Background(), `SELECT status FROM agent_runs ORDER BY id DESC LIMIT 1`).Scan(&status); err != nil || status != "error" {
		t.Errorf("last agent_runs row status %q (%v), want error", status, err)
	}
	return func(t *testing.T) {
		if r := e.runCrew(t); r.Status != "success" || r.Tasks != 3 {
			t.Errorf("crew after clear = %+v", r)
		}
	}
}

// rss reads this process's resident set size.
func rss(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatalf("read /proc/self/status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

func memoryEffect(t *testing.T, e *testEnv) func(*testing.T) {
	base := rss(t) - int64(e.metric(t, "studiosim_retained_memory_bytes", nil))
	eventually(t, 5*time.Second, "96 MiB retained", func() bool {
		f := e.srv.Faults()
		return len(f) == 1 && f[0].RetainedMB >= 96
	})
	peak := rss(t)
	if peak-base < 80<<20 {
		t.Fatalf("RSS grew by %d MiB, want >= 80 MiB", (peak-base)>>20)
	}
	if g := e.metric(t, "studiosim_retained_memory_bytes", nil); g != 96<<20 {
		t.Errorf("studiosim_retained_memory_bytes = %g, want %d", g, 96<<20)
	}
	return func(t *testing.T) {
		if g := e.metric(t, "studiosim_retained_memory_bytes", nil); g != 0 {
			t.Errorf("retained bytes %g after clear", g)
		}
		if now := rss(t); now > peak-64<<20 {
			t.Errorf("RSS %d MiB after clear, peak was %d MiB: memory not returned", now>>20, peak>>20)
		}
	}
}
