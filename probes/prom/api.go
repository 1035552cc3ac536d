package prom

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/perfbot/perfbot/internal/textfmt"
	"github.com/perfbot/perfbot/probes"
)

// APILatency checks the runbook's first trigger: API p95 latency, for the service and per endpoint.
var APILatency = probes.Probe{Name: "api_latency", Title: "API p95 latency", Needs: probes.NeedsPrometheus, Run: apiLatency}

func apiLatency(ctx context.Context, env *probes.Env) (probes.Result, error) {
	m, w := env.Service.Metrics, promRange(env.Window)
	s := env.Service.Prometheus.Selector
	limit := env.Service.Thresholds.P95Latency.D().Seconds()
	res := probes.Result{Summary: "p95 latency by endpoint"}

	overall, err := instant(ctx, env, fmt.Sprintf(`histogram_quantile(0.95, sum by (le) (rate(%s_bucket%s[%s])))`, m.RequestDuration, sel(s), w))
	if err != nil {
		return res, err
	}
	perEP, err := instant(ctx, env, fmt.Sprintf(`histogram_quantile(0.95, sum by (le, %s) (rate(%s_bucket%s[%s])))`, m.EndpointLabel, m.RequestDuration, sel(s), w))
	if err != nil {
		return res, err
	}
	v, ok := scalar(overall)
	if !ok {
		res.Add(probes.Finding{Check: "API p95 latency", Status: probes.Unknown, Unit: "ms", Threshold: limit * 1000,
			Message: "no requests in the last " + w})
		return res, nil
	}
	res.Add(probes.Finding{Check: "API p95 latency", Status: probes.ThresholdStatus(v, limit, 0.8), Subject: "all endpoints",
		Value: v * 1000, Threshold: limit * 1000, Unit: "ms",
		Message: fmt.Sprintf("p95 %s over %s (threshold %s)", textfmt.Millis(v), w, textfmt.Millis(limit))})
	rows := [][]string{}
	for _, e := range byLabel(perEP, m.EndpointLabel) {
		st := probes.ThresholdStatus(e.Value, limit, 0)
		if st == probes.Crit {
			res.Add(probes.Finding{Check: "API p95 latency", Status: probes.Crit, Subject: e.Name, Value: e.Value * 1000,
				Threshold: limit * 1000, Unit: "ms",
				Message: fmt.Sprintf("%s p95 %s (threshold %s)", e.Name, textfmt.Millis(e.Value), textfmt.Millis(limit))})
		}
		rows = append(rows, []string{e.Name, textfmt.Millis(e.Value), st.String()})
	}
	res.Tables = append(res.Tables, probes.Table{Title: "p95 latency by endpoint", Columns: []string{"Endpoint", "p95", "Status"}, Rows: rows})
	chart, err := series(ctx, env, fmt.Sprintf(`histogram_quantile(0.95, sum by (le, %s) (rate(%s_bucket%s[%s])))`,
		m.EndpointLabel, m.RequestDuration, sel(s), promRange(chartRate(env.Window))), env.Window)
	if err != nil {
		return res, err
	}
	res.Charts = append(res.Charts, probes.Chart{Title: "API p95 latency by endpoint", Unit: "ms", Threshold: limit * 1000,
		Series: toChart(chart, m.EndpointLabel, 1000)})
	return res, nil
}

// APIErrors checks the runbook's second trigger: the share of requests answered 5xx.
var APIErrors = probes.Probe{Name: "api_errors", Title: "Error rate", Needs: probes.NeedsPrometheus, Run: apiErrors}

func apiErrors(ctx context.Context, env *probes.Env) (probes.Result, error) {
	m, w := env.Service.Metrics, promRange(env.Window)
	s := env.Service.Prometheus.Selector
	limit := env.Service.Thresholds.ErrorRate
	five := m.StatusLabel + `=~"5.."`
	res := probes.Result{Summary: "5xx share of requests"}
	ratio := func(by string) string {
		return fmt.Sprintf(`sum by (%s) (rate(%s%s[%s])) / sum by (%s) (rate(%s%s[%s]))`,
			by, m.RequestsTotal, sel(s, five), w, by, m.RequestsTotal, sel(s), w)
	}
	overall, err := instant(ctx, env, fmt.Sprintf(`(sum(rate(%s%s[%s])) or vector(0)) / sum(rate(%s%s[%s]))`,
		m.RequestsTotal, sel(s, five), w, m.RequestsTotal, sel(s), w))
	if err != nil {
		return res, err
	}
	v, ok := scalar(overall)
	if !ok {
		res.Add(probes.Finding{Check: "Error rate", Status: probes.Unknown, Unit: "%", Threshold: limit * 100, Message: "no requests in the last " + w})
		return res, nil
	}
	res.Add(probes.Finding{Check: "Error rate", Status: probes.ThresholdStatus(v, limit, 0.5), Subject: "all endpoints",
		Value: v * 100, Threshold: limit * 100, Unit: "%",
		Message: fmt.Sprintf("%s of requests failed with 5xx over %s (threshold %s)", textfmt.Percent(v), w, textfmt.Percent(limit))})
	perEP, err := instant(ctx, env, ratio(m.EndpointLabel))
	if err != nil {
		return res, err
	}
	for _, e := range byLabel(perEP, m.EndpointLabel) {
		if e.Value > limit {
			res.Add(probes.Finding{Check: "Error rate", Status: probes.Crit, Subject: e.Name, Value: e.Value * 100,
				Threshold: limit * 100, Unit: "%", Message: fmt.Sprintf("%s: %s of requests failed", e.Name, textfmt.Percent(e.Value))})
		}
	}
	byStatus, err := instant(ctx, env, fmt.Sprintf(`sum by (%s) (rate(%s%s[%s]))`, m.StatusLabel, m.RequestsTotal, sel(s, five), w))
	if err != nil {
		return res, err
	}
	rows := [][]string{}
	for _, e := range byLabel(byStatus, m.StatusLabel) {
		rows = append(rows, []string{e.Name, strconv.FormatFloat(e.Value, 'f', 2, 64)})
	}
	res.Tables = append(res.Tables, probes.Table{Title: "5xx by status", Columns: []string{"Status", "req/s"}, Rows: rows})
	chart, err := series(ctx, env, fmt.Sprintf(`(sum(rate(%s%s[%s])) or vector(0)) / sum(rate(%s%s[%s]))`,
		m.RequestsTotal, sel(s, five), promRange(chartRate(env.Window)), m.RequestsTotal, sel(s), promRange(chartRate(env.Window))), env.Window)
	if err != nil {
		return res, err
	}
	res.Charts = append(res.Charts, probes.Chart{Title: "Error rate (5xx)", Unit: "%", Threshold: limit * 100, Series: toChart(chart, "", 100)})
	return res, nil
}

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
