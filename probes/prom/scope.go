package prom

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/perfbot/perfbot/internal/textfmt"
	"github.com/perfbot/perfbot/probes"
)

// persistentShare is the share of the window above the threshold from which a breach counts as persistent.
const persistentShare = 0.8

// Scope answers the runbook's "Identify Scope": which endpoints breach the latency threshold, and
// whether each breach is persistent or intermittent over the window.
var Scope = probes.Probe{Name: "scope", Title: "Scope", Needs: probes.NeedsPrometheus, Run: scope}

func scope(ctx context.Context, env *probes.Env) (probes.Result, error) {
	m := env.Service.Metrics
	limit := env.Service.Thresholds.P95Latency.D().Seconds()
	rate := chartRate(env.Window)
	q := fmt.Sprintf(`histogram_quantile(0.95, sum by (le, %s) (rate(%s_bucket%s[%s])))`,
		m.EndpointLabel, m.RequestDuration, sel(env.Service.Prometheus.Selector), promRange(rate))
	mat, err := seriesWithin(ctx, env, q, env.Window, rate)
	if err != nil {
		return probes.Result{}, err
	}
	res := probes.Result{}
	type breach struct {
		endpoint string
		share    float64
	}
	var breaches []breach
	rows := [][]string{}
	for _, s := range toChart(mat, m.EndpointLabel, 1) {
		if len(s.Points) == 0 {
			continue
		}
		above := 0
		for _, p := range s.Points {
			if p.V > limit {
				above++
			}
		}
		share := float64(above) / float64(len(s.Points))
		kind := "healthy"
		if above > 0 {
			kind = "intermittent"
			if share >= persistentShare {
				kind = "persistent"
			}
			breaches = append(breaches, breach{s.Name, share})
		}
		rows = append(rows, []string{s.Name, kind, textfmt.Percent(share)})
	}
	res.Tables = append(res.Tables, probes.Table{Title: "Scope over " + promRange(env.Window),
		Columns: []string{"Endpoint", "Breach", "Time above threshold"}, Rows: rows})
	if len(rows) == 0 {
		res.Summary = "no samples in the window"
		res.Add(probes.Finding{Check: "Scope", Status: probes.Unknown, Message: "no latency samples in the last " + promRange(env.Window)})
		return res, nil
	}
	if len(breaches) == 0 {
		res.Summary = fmt.Sprintf("no endpoint above p95 %s in the last %s", textfmt.Millis(limit), promRange(env.Window))
		return res, nil
	}
	sort.Slice(breaches, func(i, j int) bool { return breaches[i].share > breaches[j].share })
	parts := make([]string, len(breaches))
	for i, b := range breaches {
		kind := "intermittent"
		if b.share >= persistentShare {
			kind = "persistent"
		}
		parts[i] = fmt.Sprintf("%s (%s, %s of the window)", b.endpoint, kind, textfmt.Percent(b.share))
	}
	all := "specific endpoints"
	if len(breaches) == len(rows) {
		all = "all endpoints"
	}
	res.Summary = fmt.Sprintf("%d of %d endpoints breach: %s", len(breaches), len(rows), all)
	res.Add(probes.Finding{Check: "Scope", Signal: probes.SigScope, Status: probes.Warn, Subject: all, Value: float64(len(breaches)), Unit: "endpoints",
		Message: fmt.Sprintf("%d of %d endpoints above p95 %s: %s", len(breaches), len(rows), textfmt.Millis(limit), strings.Join(parts, "; "))})
	return res, nil
}
