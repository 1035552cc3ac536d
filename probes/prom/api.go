package prom

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/perfbot/perfbot/internal/textfmt"
	"github.com/perfbot/perfbot/probes"
)

// SlowEndpoints lists the endpoints with the highest mean latency (the runbook's "top 10 slow endpoints").
// The runbook's `avg by (endpoint) (http_request_duration_seconds)` averages histogram buckets, which means
// nothing; the mean is rate(_sum) / rate(_count).
var SlowEndpoints = probes.Probe{Name: "slow_endpoints", Title: "Slow endpoints", Needs: probes.NeedsPrometheus, Run: slowEndpoints}

func slowEndpoints(ctx context.Context, env *probes.Env) (probes.Result, error) {
	m, w := env.Service.Metrics, promRange(env.Window)
	s := env.Service.Prometheus.Selector
	res := probes.Result{Summary: "top 10 endpoints by mean latency"}
	mean, err := instant(ctx, env, fmt.Sprintf(`topk(10, sum by (%[1]s) (rate(%[2]s_sum%[3]s[%[4]s])) / sum by (%[1]s) (rate(%[2]s_count%[3]s[%[4]s])))`,
		m.EndpointLabel, m.RequestDuration, sel(s), w))
	if err != nil {
		return res, err
	}
	reqs, err := instant(ctx, env, fmt.Sprintf(`sum by (%s) (rate(%s%s[%s]))`, m.EndpointLabel, m.RequestsTotal, sel(s), w))
	if err != nil {
		return res, err
	}
	rate := map[string]float64{}
	for _, r := range byLabel(reqs, m.EndpointLabel) {
		rate[r.Name] = r.Value
	}
	rows := [][]string{}
	for _, e := range byLabel(mean, m.EndpointLabel) {
		rows = append(rows, []string{e.Name, textfmt.Millis(e.Value), strconv.FormatFloat(rate[e.Name], 'f', 2, 64)})
	}
	res.Tables = append(res.Tables, probes.Table{Title: "Slowest endpoints (mean)", Columns: []string{"Endpoint", "Mean", "req/s"}, Rows: rows})
	return res, nil
}

// chartRate is the rate window used inside range queries: short enough to show change over the chart,
// and at least a minute so that it holds several samples at the usual 15-30 s scrape intervals (a rate
// over one sample is empty, which would read as "no problem").
func chartRate(window time.Duration) time.Duration {
	r := window / 5
	if r < time.Minute {
		r = time.Minute
	}
	return r
}
