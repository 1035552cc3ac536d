package prom

import (
	"context"
	"fmt"
	"strconv"

	"github.com/prometheus/common/model"

	"github.com/perfbot/perfbot/internal/textfmt"
	"github.com/perfbot/perfbot/probes"
)

// APIErrors checks the runbook's second trigger: the share of requests answered 5xx, for the
// service and per endpoint. An endpoint with fewer requests in the window than the traffic floor
// (thresholds.min_requests) is not judged: one failed request is not a 100 % outage.
var APIErrors = probes.Probe{Name: "api_errors", Title: "Error rate", Needs: probes.NeedsPrometheus, Run: apiErrors}

func apiErrors(ctx context.Context, env *probes.Env) (probes.Result, error) {
	m, w := env.Service.Metrics, promRange(env.Window)
	s := env.Service.Prometheus.Selector
	limit := env.Service.Thresholds.ErrorRate
	floor := env.Service.Thresholds.MinRequests
	five := m.StatusLabel + `=~"5.."`
	res := probes.Result{Summary: "5xx share of requests"}
	share := func(by, r string) string {
		return fmt.Sprintf(`(sum by (%[1]s) (rate(%[2]s%[3]s[%[5]s])) or (0 * sum by (%[1]s) (rate(%[2]s%[4]s[%[5]s])))) / sum by (%[1]s) (rate(%[2]s%[4]s[%[5]s]))`,
			by, m.RequestsTotal, sel(s, five), sel(s), r)
	}
	overallQ := fmt.Sprintf(`(sum(rate(%s%s[%s])) or vector(0)) / sum(rate(%s%s[%s]))`, m.RequestsTotal, sel(s, five), w, m.RequestsTotal, sel(s), w)
	perEPQ := share(m.EndpointLabel, w)
	rate := chartRate(env.Window)
	overallChart := fmt.Sprintf(`(sum(rate(%s%s[%s])) or vector(0)) / sum(rate(%s%s[%s]))`,
		m.RequestsTotal, sel(s, five), promRange(rate), m.RequestsTotal, sel(s), promRange(rate))
	chartWait := async(func() (model.Matrix, error) { return seriesWithin(ctx, env, overallChart, env.Window, rate) })
	epChartWait := async(func() (model.Matrix, error) {
		return seriesWithin(ctx, env, share(m.EndpointLabel, promRange(rate)), env.Window, rate)
	})
	histWait := async(func() ([2]history, error) {
		return [2]history{lookBack(ctx, env, overallQ, "", 100), lookBack(ctx, env, perEPQ, m.EndpointLabel, 100)}, nil
	})
	vs, err := instants(ctx, env, overallQ, perEPQ,
		fmt.Sprintf(`sum by (%s) (increase(%s%s[%s]))`, m.EndpointLabel, m.RequestsTotal, sel(s), w),
		fmt.Sprintf(`sum by (%s) (rate(%s%s[%s]))`, m.StatusLabel, m.RequestsTotal, sel(s, five), w))
	if err != nil {
		return res, err
	}
	chart, err := chartWait()
	if err != nil {
		return res, err
	}
	epChart, err := epChartWait()
	if err != nil {
		return res, err
	}
	hist, _ := histWait()
	v, ok := scalar(vs[0])
	if !ok {
		res.Add(probes.Finding{Check: "Error rate", Status: probes.Unknown, Unit: "%", Threshold: limit * 100, Message: "no requests in the last " + w})
		return res, nil
	}
	requests := values(vs[2], m.EndpointLabel)
	total := 0.0
	for _, n := range requests {
		total += n
	}
	overall := toChart(chart, "", 100)
	began := onsets(toChart(epChart, m.EndpointLabel, 100), limit*100)
	st := probes.ThresholdStatus(v, limit, 0.5)
	if total < floor && st > probes.OK {
		st = probes.OK
	}
	var overallOnset = earliest(onsets(overall, limit*100))
	res.Add(probes.Finding{Check: "Error rate", Signal: probes.SigErrors, Status: st, Subject: "all endpoints",
		Value: v * 100, Threshold: limit * 100, Unit: "%", Onset: overallOnset, Baseline: hist[0].of(""), Evidence: overallQ,
		Message: fmt.Sprintf("%s of requests failed with 5xx over %s (threshold %s)", textfmt.Percent(v), w, textfmt.Percent(limit))})
	for _, e := range byLabel(vs[1], m.EndpointLabel) {
		if e.Value <= limit || requests[e.Name] < floor {
			continue
		}
		res.Add(probes.Finding{Check: "Error rate", Signal: probes.SigErrors, Status: probes.Crit, Subject: e.Name, Value: e.Value * 100,
			Threshold: limit * 100, Unit: "%", Onset: began[e.Name], Baseline: hist[1].of(e.Name), Evidence: perEPQ,
			Message: fmt.Sprintf("%s: %s of %.0f requests failed", e.Name, textfmt.Percent(e.Value), requests[e.Name])})
	}
	rows := [][]string{}
	for _, e := range byLabel(vs[3], m.StatusLabel) {
		rows = append(rows, []string{e.Name, strconv.FormatFloat(e.Value, 'f', 2, 64)})
	}
	if len(rows) > 0 { // no 5xx at all: the finding says so; an empty table would only show its header
		res.Tables = append(res.Tables, probes.Table{Title: "5xx by status", Columns: []string{"Status", "req/s"}, Rows: rows})
	}
	res.Charts = append(res.Charts, probes.Chart{Title: "Error rate (5xx)", Unit: "%", Threshold: limit * 100, Series: overall})
	return res, nil
}
