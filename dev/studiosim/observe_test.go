package studiosim

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestMetricsExposition(t *testing.T) {
	e := newTestEnv(t, nil)
	e.do(t, http.MethodGet, EndpointIdeas, "")
	e.do(t, http.MethodGet, EndpointProjects, "")
	e.do(t, http.MethodGet, EndpointHealth, "")
	e.runCrew(t)
	code, body, _ := e.do(t, http.MethodGet, "/metrics", "")
	if code != http.StatusOK {
		t.Fatalf("/metrics = %d", code)
	}
	want := []string{
		`http_request_duration_seconds_bucket{endpoint="/api/ideas",method="GET",status="200",le="0.005"}`,
		`http_request_duration_seconds_bucket{endpoint="/api/ideas",method="GET",status="200",le="10"}`,
		`http_requests_total{endpoint="/api/projects",method="GET",status="200"} 1`,
		`http_requests_total{endpoint="/api/agents/run",method="POST",status="200"} 1`,
		`http_requests_total{endpoint="/health/detailed",method="GET",status="200"} 1`,
		`crewai_tasks_total{agent="writer",status="success"} 1`,
		`crewai_tasks_total{agent="writer",status="error"} 0`,
		`crewai_task_duration_seconds_bucket{agent="reviewer",le="`,
		`ai_api_calls_total{provider="openai"}`,
		`ai_api_calls_total{provider="anthropic"}`,
		`openai_api_duration_seconds_bucket{model="gpt-4o",le="`,
		`openai_api_errors_total{type="rate_limit"} 0`,
		`openai_api_errors_total{type="server_error"} 0`,
		"process_cpu_seconds_total", "process_resident_memory_bytes", "go_goroutines",
		"db_pool_max_connections 6",
	}
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("/metrics lacks %s", w)
		}
	}
	if strings.Contains(body, `endpoint="/metrics"`) || strings.Contains(body, `endpoint="/admin`) {
		t.Errorf("/metrics or /admin requests are counted as app traffic")
	}
}

var logLine = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO|WARN|ERROR) [a-z][^=]*( [a-z_.]+=("([^"\\]|\\.)*"|[^\s"]+))*$`)

func TestLineHandler(t *testing.T) {
	at := time.Date(2026, 11, 26, 19, 46, 58, 123456789, time.FixedZone("CET", 3600))
	cases := []struct {
		name  string
		level slog.Level
		msg   string
		attrs []slog.Attr
		want  string
	}{
		{"slow query", slog.LevelWarn, "slow query", []slog.Attr{slog.Duration("duration", 1203456789), slog.String("table", "ideas")},
			"2026-11-26T18:46:58.123Z WARN slow query duration=1.203s table=ideas\n"},
		{"request failed", slog.LevelError, "request failed", []slog.Attr{slog.String("endpoint", "/api/ideas"), slog.Int("status", 500), slog.String("error", `boom "x"`)},
			`2026-11-26T18:46:58.123Z ERROR request failed endpoint=/api/ideas status=500 error="boom \"x\""` + "\n"},
		{"group and float", slog.LevelInfo, "multi\nline", []slog.Attr{slog.Group("pool", slog.Int("size", 10)), slog.Float64("rate", 0.123456), slog.String("empty", "")},
			`2026-11-26T18:46:58.123Z INFO multi\nline pool.size=10 rate=0.1235 empty=""` + "\n"},
		{"sub-millisecond", slog.LevelInfo, "tick", []slog.Attr{slog.Duration("d", 1234567)},
			"2026-11-26T18:46:58.123Z INFO tick d=1.2ms\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			h := NewLineHandler(&b, slog.LevelInfo)
			r := slog.NewRecord(at, tc.level, tc.msg, 0)
			r.AddAttrs(tc.attrs...)
			if err := h.Handle(context.Background(), r); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("got  %q\nwant %q", b.String(), tc.want)
			}
		})
	}
	var b bytes.Buffer
	l := slog.New(NewLineHandler(&b, slog.LevelInfo)).With("svc", "studio").WithGroup("g")
	l.Debug("hidden")
	l.Info("shown", "k", 1)
	if got := b.String(); !strings.HasSuffix(got, " INFO shown svc=studio g.k=1\n") || strings.Contains(got, "hidden") {
		t.Errorf("With/WithGroup/level filtering: %q", got)
	}
}

func TestHealthAndPoolExhaustion(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.Pool = 3 })
	code, body, _ := e.do(t, http.MethodGet, EndpointHealth, "")
	var h Health
	if err := json.Unmarshal([]byte(body), &h); err != nil || code != http.StatusOK || h.Status != healthy {
		t.Fatalf("healthy /health/detailed = %d %s (%v)", code, body, err)
	}
	for _, c := range []string{"database", "redis", "openai"} {
		if h.Checks[c].Status != healthy {
			t.Errorf("check %s = %+v, want healthy", c, h.Checks[c])
		}
	}
	// Hogging the whole pool leaves nothing for requests: the connection-timeout path.
	e.inject(t, Fault{Kind: KindIdleInTx, Connections: 3})
	if code, _, _ := e.do(t, http.MethodGet, EndpointIdeas, ""); code != http.StatusServiceUnavailable {
		t.Errorf("GET /api/ideas with the pool hogged = %d, want 503", code)
	}
	code, body, _ = e.do(t, http.MethodGet, EndpointHealth, "")
	if err := json.Unmarshal([]byte(body), &h); err != nil || code != http.StatusServiceUnavailable ||
		h.Status != unhealthy || h.Checks["database"].Status != unhealthy {
		t.Errorf("/health/detailed with the pool hogged = %d %s, want 503 database unhealthy", code, body)
	}
	if !strings.Contains(e.logs.String(), "ERROR database connection timeout endpoint=/api/ideas") {
		t.Errorf("no `database connection timeout` line in the log")
	}
	if err := e.srv.ClearFaults(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := e.do(t, http.MethodGet, EndpointHealth, ""); code != http.StatusOK {
		t.Errorf("/health/detailed after clear = %d", code)
	}
	// A rate-limited OpenAI degrades health without failing it.
	e.inject(t, Fault{Kind: KindOpenAI429, Rate: 1})
	e.runCrew(t)
	code, body, _ = e.do(t, http.MethodGet, EndpointHealth, "")
	if err := json.Unmarshal([]byte(body), &h); err != nil || code != http.StatusOK || h.Status != degraded {
		t.Errorf("/health/detailed with OpenAI failing = %d %s, want 200 degraded", code, body)
	}
}

func TestLoadHitsEveryEndpointBounded(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.Load = 200; o.LoadConcurrency = 4 })
	eventually(t, 10*time.Second, "load on every endpoint", func() bool {
		for _, ep := range Endpoints {
			if e.metric(t, "http_requests_total", map[string]string{"endpoint": ep}) == 0 {
				return false
			}
		}
		return true
	})
	// With every request slowed down, 4 in flight cannot keep up with 200/s: ticks are skipped.
	e.inject(t, Fault{Kind: KindLatency, Endpoint: EndpointIdeas, Delay: 300 * time.Millisecond})
	e.inject(t, Fault{Kind: KindLatency, Endpoint: EndpointProjects, Delay: 300 * time.Millisecond})
	e.inject(t, Fault{Kind: KindLatency, Endpoint: EndpointAgentsRun, Delay: 300 * time.Millisecond})
	e.inject(t, Fault{Kind: KindLatency, Endpoint: EndpointHealth, Delay: 300 * time.Millisecond})
	eventually(t, 5*time.Second, "skipped load ticks", func() bool {
		return e.metric(t, "studiosim_load_skipped_total", nil) > 10
	})
	if err := e.stop(); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(e.logs.String()), "\n") {
		if !logLine.MatchString(line) {
			t.Errorf("log line not in the probe's format: %q", line)
		}
	}
}

func TestShutdownClearsFaults(t *testing.T) {
	e := newTestEnv(t, nil)
	e.inject(t, Fault{Kind: KindLock})
	e.inject(t, Fault{Kind: KindIdleInTx, Connections: 2})
	id := e.inject(t, Fault{Kind: KindRedisMemory, MB: 4})
	e.inject(t, Fault{Kind: KindMemoryGrowth, MBPerSec: 100, MaxMB: 8})
	if err := e.stop(); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	eventually(t, 3*time.Second, "every simulator session to disconnect", func() bool {
		return countActivity(t, e, `application_name IN ('studiosim', '`+lockAppName+`')`) == 0
	})
	if keys, _ := e.scan(context.Background(), "studiosim:fill:"+id+":*"); len(keys) != 0 {
		t.Errorf("%d fill keys left after shutdown", len(keys))
	}
	if g := e.metric(t, "studiosim_retained_memory_bytes", nil); g != 0 {
		t.Errorf("%g bytes retained after shutdown", g)
	}
	if _, err := e.srv.InjectFault(context.Background(), Fault{Kind: KindOpenAI429, Rate: 1}); err == nil {
		t.Errorf("InjectFault after shutdown succeeded")
	}
}
