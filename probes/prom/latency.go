package prom

import (
	"context"
	"fmt"

	"github.com/prometheus/common/model"

	"github.com/perfbot/perfbot/internal/textfmt"
	"github.com/perfbot/perfbot/probes"
)

// APILatency checks the runbook's first trigger: API p95 latency, for the service and per endpoint,
// each against the same window a day and a week ago, with when each breach began.
var APILatency = probes.Probe{Name: "api_latency", Title: "API p95 latency", Needs: probes.NeedsPrometheus, Run: apiLatency}

func apiLatency(ctx context.Context, env *probes.Env) (probes.Result, error) {
	m, w := env.Service.Metrics, promRange(env.Window)
	s := env.Service.Prometheus.Selector
	limit := env.Service.Thresholds.P95Latency.D().Seconds()
	floor := env.Service.Thresholds.MinRequests
	res := probes.Result{Summary: "p95 latency by endpoint"}
	overallQ := fmt.Sprintf(`histogram_quantile(0.95, sum by (le) (rate(%s_bucket%s[%s])))`, m.RequestDuration, sel(s), w)
	perEPQ := fmt.Sprintf(`histogram_quantile(0.95, sum by (le, %s) (rate(%s_bucket%s[%s])))`, m.EndpointLabel, m.RequestDuration, sel(s), w)
	rate := chartRate(env.Window)
	chartQ := fmt.Sprintf(`histogram_quantile(0.95, sum by (le, %s) (rate(%s_bucket%s[%s])))`, m.EndpointLabel, m.RequestDuration, sel(s), promRange(rate))
	chartWait := async(func() (model.Matrix, error) { return seriesWithin(ctx, env, chartQ, env.Window, rate) })
	histWait := async(func() ([2]history, error) {
		return [2]history{lookBack(ctx, env, overallQ, "", 1000), lookBack(ctx, env, perEPQ, m.EndpointLabel, 1000)}, nil
	})
	vs, err := instants(ctx, env, overallQ, perEPQ,
		fmt.Sprintf(`sum by (%s) (increase(%s_count%s[%s]))`, m.EndpointLabel, m.RequestDuration, sel(s), w))
	if err != nil {
		return res, err
	}
	chart, err := chartWait()
	if err != nil {
		return res, err
	}
	hist, _ := histWait()
	v, ok := scalar(vs[0])
	if !ok {
		res.Add(probes.Finding{Check: "API p95 latency", Status: probes.Unknown, Unit: "ms", Threshold: limit * 1000,
			Message: "no requests in the last " + w})
		return res, nil
	}
	series := toChart(chart, m.EndpointLabel, 1000)
	began := onsets(series, limit*1000)
	requests := values(vs[2], m.EndpointLabel)
	res.Add(probes.Finding{Check: "API p95 latency", Signal: probes.SigLatency, Status: probes.ThresholdStatus(v, limit, 0.8),
		Subject: "all endpoints", Value: v * 1000, Threshold: limit * 1000, Unit: "ms", Onset: earliest(began),
		Baseline: hist[0].of(""), Evidence: overallQ,
		Message: fmt.Sprintf("p95 %s over %s (threshold %s)", textfmt.Millis(v), w, textfmt.Millis(limit))})
	rows := [][]string{}
	for _, e := range byLabel(vs[1], m.EndpointLabel) {
		st := probes.ThresholdStatus(e.Value, limit, 0)
		note := st.String()
		switch {
		case st == probes.Crit && requests[e.Name] < floor:
			note = fmt.Sprintf("too few requests (%.0f) to judge", requests[e.Name])
		case st == probes.Crit:
			res.Add(probes.Finding{Check: "API p95 latency", Signal: probes.SigLatency, Status: probes.Crit, Subject: e.Name,
				Value: e.Value * 1000, Threshold: limit * 1000, Unit: "ms", Onset: began[e.Name], Baseline: hist[1].of(e.Name),
				Evidence: perEPQ, Message: fmt.Sprintf("%s p95 %s (threshold %s)", e.Name, textfmt.Millis(e.Value), textfmt.Millis(limit))})
		}
		rows = append(rows, []string{e.Name, textfmt.Millis(e.Value), vsNormal(e.Value*1000, hist[1].of(e.Name)), note})
	}
	if !hist[0].known() && !hist[1].known() {
		res.Add(noHistory("API p95 latency"))
	}
	res.Tables = append(res.Tables, probes.Table{Title: "p95 latency by endpoint", Columns: []string{"Endpoint", "p95", "vs. yesterday", "Status"}, Rows: rows})
	res.Charts = append(res.Charts, probes.Chart{Title: "API p95 latency by endpoint", Unit: "ms", Threshold: limit * 1000, Series: series})
	return res, nil
}

// values maps a vector's label values to their values.
func values(v model.Vector, label string) map[string]float64 {
	out := make(map[string]float64, len(v))
	for _, s := range v {
		out[string(s.Metric[model.LabelName(label)])] = float64(s.Value)
	}
	return out
}

// vsNormal writes v against yesterday's value ("×4.2"), or "—" without history.
func vsNormal(v float64, b *probes.Baseline) string {
	if b == nil || b.Yesterday <= 0 {
		return "—"
	}
	return fmt.Sprintf("×%.1f", v/b.Yesterday)
}
