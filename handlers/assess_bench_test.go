package handlers_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/perfbot/perfbot/app"
	"github.com/perfbot/perfbot/handlers"
	"github.com/perfbot/perfbot/internal/stacktest"
)

// BenchmarkAssess measures the wall time of /perf assess against a real simulator and Prometheus,
// next to the slowest single probe it ran: concurrency should make the first close to the second.
func BenchmarkAssess(b *testing.B) {
	sim := stacktest.StartSim(b, 15)
	prom := stacktest.StartPrometheus(b, map[string]string{"sim-bench": sim.Addr})
	time.Sleep(5 * time.Second) // some traffic to query
	cfg := stacktest.ServiceConfig("sim-bench", prom.URL, sim.URL)
	bk := app.NewBackends(cfg, nil)
	defer bk.Close()
	h := handlers.New(cfg, bk, slog.New(slog.DiscardHandler))
	var slowest, sum time.Duration
	b.ResetTimer()
	for b.Loop() {
		rep, err := h.Handle(context.Background(), handlers.Request{Text: "assess"})
		if err != nil {
			b.Fatal(err)
		}
		var max time.Duration
		for _, s := range rep.Sections {
			if s.Err != "" {
				b.Fatalf("%s: %s", s.Title, s.Err)
			}
			max = longer(max, s.Duration)
		}
		slowest += max
		sum += rep.Elapsed
	}
	b.ReportMetric(float64(slowest.Microseconds())/float64(b.N)/1000, "slowest-probe-ms")
	b.ReportMetric(float64(sum.Microseconds())/float64(b.N)/1000, "assess-ms")
}

// longer returns the longer duration.
func longer(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}
