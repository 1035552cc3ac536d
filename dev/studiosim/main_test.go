package studiosim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"
)

// testDSN is the DSN of the database this test binary created for itself.
var testDSN string

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

var testRedisAddr = envOr("STUDIOSIM_TEST_REDIS", "127.0.0.1:6379")

func TestMain(m *testing.M) {
	code, err := runTests(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "studiosim tests:", err)
		code = 1
	}
	os.Exit(code)
}

// runTests creates a database of its own on the local PostgreSQL, runs the tests against it
// and drops it afterwards.
func runTests(m *testing.M) (int, error) {
	admin := envOr("STUDIOSIM_TEST_PG", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return 1, fmt.Errorf("connect %s (set STUDIOSIM_TEST_PG): %w", admin, err)
	}
	defer conn.Close(context.Background())
	name := "studiosim_test_" + randomID()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return 1, fmt.Errorf("create test database: %w", err)
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := conn.Exec(dctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			fmt.Fprintln(os.Stderr, "drop test database:", err)
		}
	}()
	u, err := url.Parse(admin)
	if err != nil {
		return 1, fmt.Errorf("parse admin dsn: %w", err)
	}
	u.Path = "/" + name
	testDSN = u.String()
	return m.Run(), nil
}

// syncBuffer collects log output written from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testEnv is a simulator serving on a loopback port, plus observers of its backends.
type testEnv struct {
	srv    *Server
	url    string
	client *Client
	logs   *syncBuffer
	pg     *pgxpool.Pool // the test's own view of the database
	rdb    *redis.Client
	stop   func() error
}

// newTestEnv starts a simulator with fast simulated AI calls; mod adjusts its options.
func newTestEnv(t testing.TB, mod func(*Options)) *testEnv {
	t.Helper()
	logs := &syncBuffer{}
	opts := Options{
		DatabaseURL: testDSN, RedisAddr: testRedisAddr, KeyPrefix: "studiosim:test:" + randomID(),
		Pool: 6, Logger: slog.New(NewLineHandler(logs, slog.LevelInfo)),
		OpenAILatency: 5 * time.Millisecond, RetryBackoff: 5 * time.Millisecond,
		AcquireTimeout: 500 * time.Millisecond, QueryTimeout: 10 * time.Second,
	}
	if mod != nil {
		mod(&opts)
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	e := &testEnv{srv: srv, url: "http://" + ln.Addr().String(), logs: logs, rdb: srv.rdb}
	e.client = &Client{BaseURL: e.url}
	var once sync.Once
	var stopErr error
	e.stop = func() error {
		once.Do(func() { cancel(); stopErr = <-done })
		return stopErr
	}
	pcfg, err := pgxpool.ParseConfig(testDSN)
	if err != nil {
		t.Fatal(err)
	}
	pcfg.ConnConfig.RuntimeParams["application_name"] = "studiosim-test"
	pcfg.MaxConns = 2
	if e.pg, err = pgxpool.NewWithConfig(context.Background(), pcfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.stop(); err != nil {
			t.Errorf("Serve returned %v", err)
		}
		e.pg.Close()
		e.deleteKeys(opts.KeyPrefix + ":*")
	})
	return e
}

func (e *testEnv) deleteKeys(pattern string) {
	ctx := context.Background()
	keys, _ := e.scan(ctx, pattern)
	if len(keys) > 0 {
		e.rdb.Del(ctx, keys...)
	}
}

func (e *testEnv) scan(ctx context.Context, pattern string) ([]string, error) {
	var keys []string
	it := e.rdb.Scan(ctx, 0, pattern, 1000).Iterator()
	for it.Next(ctx) {
		keys = append(keys, it.Val())
	}
	return keys, it.Err()
}

// do sends one request and returns the status, body and how long it took.
func (e *testEnv) do(t testing.TB, method, path, body string) (int, string, time.Duration) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), time.Since(start)
}

// runCrew runs a crew inside the request and returns its outcome.
func (e *testEnv) runCrew(t testing.TB) runResult {
	t.Helper()
	code, body, _ := e.do(t, http.MethodPost, EndpointAgentsRun+"?wait=true", `{"topic":"test"}`)
	if code != http.StatusOK {
		t.Fatalf("agents run: %d %s", code, body)
	}
	var r runResult
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("decode run result %q: %v", body, err)
	}
	return r
}

func (e *testEnv) inject(t testing.TB, f Fault) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	id, err := e.client.Inject(ctx, f)
	if err != nil {
		t.Fatalf("inject %s: %v", f, err)
	}
	return id
}

// metric sums the values of the series of name whose labels include want: counter and gauge
// values, histogram sample counts.
func (e *testEnv) metric(t testing.TB, name string, want map[string]string) float64 {
	t.Helper()
	return gatherValue(t, e.srv.metrics.reg, name, want, false)
}

// metricSum is like metric but sums histogram sample sums.
func (e *testEnv) metricSum(t testing.TB, name string, want map[string]string) float64 {
	t.Helper()
	return gatherValue(t, e.srv.metrics.reg, name, want, true)
}

func gatherValue(t testing.TB, reg *prometheus.Registry, name string, want map[string]string, sum bool) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	var v float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if labelsMatch(m, want) {
				v += sampleValue(m, sum)
			}
		}
	}
	return v
}

func labelsMatch(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, lp := range m.GetLabel() {
		if w, ok := want[lp.GetName()]; ok {
			if w != lp.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(want)
}

func sampleValue(m *dto.Metric, sum bool) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil && sum:
		return m.Histogram.GetSampleSum()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return 0
}

// eventually polls cond every 50 ms until it holds or timeout passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
