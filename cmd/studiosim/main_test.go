package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/perfbot/perfbot/dev/studiosim"
)

func TestRunRejectsBadFlags(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"-nosuch"}, "not defined"},
		{"negative load", []string{"-load", "-1"}, "-load must be >= 0"},
		{"empty pool", []string{"-pool", "0"}, "-pool >= 1"},
		{"stray argument", []string{"extra"}, "unexpected arguments"},
		{"bad memory limit", []string{"-pod-memory-limit", "lots"}, "-pod-memory-limit \"lots\""},
		{"zero cpu limit", []string{"-pod-cpu-limit", "0"}, "-pod-cpu-limit \"0\""},
		{"bad namespace", []string{"-namespace", "Prod_1", "-database", "postgres://postgres@127.0.0.1:1/x?sslmode=disable&connect_timeout=2"}, "namespace \"Prod_1\""},
		{"duplicate pods", []string{"-pods", "a-1,a-1", "-database", "postgres://postgres@127.0.0.1:1/x?sslmode=disable&connect_timeout=2"}, "given twice"},
		{"unreachable database", []string{"-database", "postgres://postgres@127.0.0.1:1/x?sslmode=disable&connect_timeout=2"}, "connect database"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			err := run(context.Background(), tc.args, &out)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run(%q) = %v, want an error mentioning %q", tc.args, err, tc.want)
			}
		})
	}
}

// lineWriter hands the first line written to it to a channel.
type lineWriter struct {
	mu    sync.Mutex
	buf   strings.Builder
	first chan string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if line, _, ok := strings.Cut(w.buf.String(), "\n"); ok && w.first != nil {
		w.first <- line
		w.first = nil
	}
	return len(p), nil
}

// testDatabase names a database that does not exist yet (studiosim creates it) and drops it
// after the test.
func testDatabase(t *testing.T) string {
	admin := "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	if v := os.Getenv("STUDIOSIM_TEST_PG"); v != "" {
		admin = v
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect %s: %v", admin, err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "studiosim_cmdtest_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database: %v", err)
		}
		conn.Close(ctx)
	})
	u, _ := url.Parse(admin)
	u.Path = "/" + name
	return u.String()
}

func TestRunServesAndShutsDownClean(t *testing.T) {
	dsn := testDatabase(t)
	logFile := filepath.Join(t.TempDir(), "studio.log")
	out := &lineWriter{first: make(chan string, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-listen", "127.0.0.1:0", "-database", dsn, "-redis", "127.0.0.1:6379",
			"-log-file", logFile, "-load", "20", "-pool", "4",
			"-namespace", "studio", "-pods", "web-1, web-2", "-pod-memory-limit", "1Gi", "-pod-cpu-limit", "250m"}, out)
	}()
	var base string
	select {
	case line := <-out.first:
		base = strings.TrimPrefix(line, "studiosim serving on ")
	case err := <-done:
		t.Fatalf("run returned early: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("no `serving on` line within 30s")
	}
	resp, err := http.Get(base + "/health/detailed")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /health/detailed: %v %v", resp, err)
	}
	resp.Body.Close()
	checkPodSeries(t, base)
	c := &studiosim.Client{BaseURL: base}
	if _, err := c.Inject(ctx, studiosim.Fault{Kind: studiosim.KindLock}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // let the built-in load reach the endpoints
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after cancel: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return within 30s of cancel")
	}
	b, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO|WARN|ERROR) `)
	for _, want := range []string{"INFO listening", "WARN fault injected", "kind=lock", "INFO fault cleared", "INFO stopped"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("log file lacks %q:\n%s", want, b)
		}
	}
	if n := len(line.FindAllIndex(b, -1)); n != strings.Count(string(b), "\n") {
		t.Errorf("%d of %d log lines in the expected format", n, strings.Count(string(b), "\n"))
	}
}

// checkPodSeries checks that the pod flags reach the pods' series.
func checkPodSeries(t *testing.T, base string) {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`container_spec_memory_limit_bytes{container="app",namespace="studio",pod="web-2"} 1.073741824e+09`,
		`container_spec_cpu_quota{container="app",namespace="studio",pod="web-1"} 25000`,
		`kube_pod_container_resource_limits{container="app",namespace="studio",pod="web-1",resource="cpu",unit="core"} 0.25`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
