package charts

import (
	"fmt"
	"math"
	"time"

	"github.com/perfbot/perfbot/probes"
)

// BenchChart is the chart perfbot's benchmarks draw: 4 series of 360 points (6 hours at one point a
// minute, or 30 minutes at one every 5 s) with a threshold line, like /perf assess's latency chart.
func BenchChart() probes.Chart {
	t0 := time.Date(2026, 8, 20, 14, 0, 0, 0, time.UTC)
	c := probes.Chart{Title: "p95 latency by endpoint", Unit: "ms", Threshold: 400}
	for i := 0; i < 4; i++ {
		s := probes.Series{Name: fmt.Sprintf("/api/endpoint-%d", i)}
		for m := 0; m < 360; m++ {
			v := 100 + float64(i*60) + 80*math.Sin(float64(m)/20+float64(i))
			s.Points = append(s.Points, probes.Point{T: t0.Add(time.Duration(m) * 5 * time.Second), V: v})
		}
		c.Series = append(c.Series, s)
	}
	return c
}
