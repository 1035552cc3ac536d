package studiosim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// runSynthetic records traffic for Options.SyntheticEndpoints extra endpoints, which exist only in
// the metrics: every second each gets a few requests of 20–80 ms, so Prometheus holds as many
// per-endpoint series as a service that large would have (used to measure how perfbot's cost grows
// with the number of endpoints).
func (s *Server) runSynthetic(ctx context.Context) {
	n := s.opts.SyntheticEndpoints
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("/api/synthetic/%04d", i)
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		for _, e := range names {
			for range 3 {
				s.metrics.reqDuration.WithLabelValues(e, "GET", "200").Observe(0.02 + 0.06*rand.Float64())
				s.metrics.reqTotal.WithLabelValues(e, "GET", "200").Inc()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
