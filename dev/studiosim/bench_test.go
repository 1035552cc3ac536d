package studiosim

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// BenchmarkHandler measures one request through the full handler (instrumentation, fault
// lookup, real PostgreSQL and Redis work) without the network.
func BenchmarkHandler(b *testing.B) {
	e := newTestEnv(b, func(o *Options) { o.Pool = 10 })
	h := e.srv.Handler()
	cases := []struct{ name, method, path, body string }{
		{"ideas", http.MethodGet, EndpointIdeas + "?category=ai", ""},
		{"projects", http.MethodGet, EndpointProjects, ""},
		{"agents_run", http.MethodPost, EndpointAgentsRun, `{"topic":"bench"}`},
		{"health", http.MethodGet, EndpointHealth, ""},
	}
	serve := func(b *testing.B, method, path, body string) {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, rd))
		if rec.Code >= 300 {
			b.Fatalf("%s %s = %d %s", method, path, rec.Code, rec.Body)
		}
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				serve(b, tc.method, tc.path, tc.body)
			}
		})
	}
	b.Run("ideas_parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				serve(b, http.MethodGet, EndpointIdeas, "")
			}
		})
	})
	e.srv.crews.Wait()
}

// BenchmarkMiddleware measures the per-request overhead the simulator adds around a handler:
// fault lookup, status capture, two metric updates.
func BenchmarkMiddleware(b *testing.B) {
	e := newTestEnv(b, nil)
	e.inject(b, Fault{Kind: KindErrors, Endpoint: EndpointProjects, Rate: 0.5}) // a fault on another endpoint
	h := e.srv.instrument(EndpointIdeas, func(w http.ResponseWriter, _ *http.Request) error {
		w.WriteHeader(http.StatusOK)
		return nil
	})
	req := httptest.NewRequest(http.MethodGet, EndpointIdeas, nil)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, req)
	}
}

type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

// BenchmarkLineHandler measures formatting one `slow query` log line.
func BenchmarkLineHandler(b *testing.B) {
	l := slog.New(NewLineHandler(io.Discard, slog.LevelInfo))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		l.LogAttrs(ctx, slog.LevelWarn, "slow query", slog.Duration("duration", 1200*time.Millisecond),
			slog.String("table", "ideas"), slog.String("endpoint", EndpointIdeas))
	}
}
