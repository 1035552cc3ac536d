package prom

import (
	"context"
	"fmt"
	"strconv"

	"github.com/perfbot/perfbot/internal/textfmt"
	"github.com/perfbot/perfbot/probes"
)

// CrewAI checks agent task failures and p95 task duration by agent (runbook: CrewAI Performance Check).
var CrewAI = probes.Probe{Name: "crewai", Title: "CrewAI tasks", Needs: probes.NeedsPrometheus, Run: crewAI}

func crewAI(ctx context.Context, env *probes.Env) (probes.Result, error) {
	m, w := env.Service.Metrics, promRange(env.Window)
	s := env.Service.Prometheus.Selector
	limit := env.Service.Thresholds.CrewAIErrors
	res := probes.Result{Summary: "CrewAI task errors and duration"}
	errRate, err := instant(ctx, env, fmt.Sprintf(`(sum(rate(%[1]s%[2]s[%[4]s])) or vector(0)) / sum(rate(%[1]s%[3]s[%[4]s]))`,
		m.CrewTasksTotal, sel(s, `status="error"`), sel(s), w))
	if err != nil {
		return res, err
	}
	if v, ok := scalar(errRate); ok {
		res.Add(probes.Finding{Check: "CrewAI task errors", Status: probes.ThresholdStatus(v, limit, 0.5), Value: v * 100,
			Threshold: limit * 100, Unit: "%", Message: fmt.Sprintf("%s of agent tasks failed over %s (threshold %s)", textfmt.Percent(v), w, textfmt.Percent(limit))})
	} else {
		res.Add(probes.Finding{Check: "CrewAI task errors", Status: probes.Unknown, Unit: "%", Message: "no agent tasks in the last " + w})
	}
	p95, err := instant(ctx, env, fmt.Sprintf(`histogram_quantile(0.95, sum by (le, %s) (rate(%s_bucket%s[%s])))`,
		m.AgentLabel, m.CrewTaskDuration, sel(s), w))
	if err != nil {
		return res, err
	}
	rows := [][]string{}
	for _, a := range byLabel(p95, m.AgentLabel) {
		rows = append(rows, []string{a.Name, strconv.FormatFloat(a.Value, 'f', 2, 64) + " s"})
	}
	res.Tables = append(res.Tables, probes.Table{Title: "CrewAI p95 task duration", Columns: []string{"Agent", "p95"}, Rows: rows})
	return res, nil
}

// AI checks the external AI APIs (runbook Step 4): calls by provider, OpenAI p95 latency, errors and rate limits.
var AI = probes.Probe{Name: "ai", Title: "AI APIs", Needs: probes.NeedsPrometheus, Run: aiAPIs}

func aiAPIs(ctx context.Context, env *probes.Env) (probes.Result, error) {
	m, w := env.Service.Metrics, promRange(env.Window)
	s := env.Service.Prometheus.Selector
	t := env.Service.Thresholds
	res := probes.Result{Summary: "AI API calls, OpenAI latency and errors"}
	calls, err := instant(ctx, env, fmt.Sprintf(`sum by (%s) (rate(%s%s[%s]))`, m.ProviderLabel, m.AICallsTotal, sel(s), w))
	if err != nil {
		return res, err
	}
	rows := [][]string{}
	openaiRate := 0.0
	for _, p := range byLabel(calls, m.ProviderLabel) {
		rows = append(rows, []string{p.Name, strconv.FormatFloat(p.Value, 'f', 2, 64)})
		if p.Name == "openai" {
			openaiRate = p.Value
		}
	}
	res.Tables = append(res.Tables, probes.Table{Title: "AI API calls", Columns: []string{"Provider", "calls/s"}, Rows: rows})
	p95, err := instant(ctx, env, fmt.Sprintf(`histogram_quantile(0.95, sum by (le) (rate(%s_bucket%s[%s])))`, m.OpenAIDuration, sel(s), w))
	if err != nil {
		return res, err
	}
	limit := t.OpenAIP95.D().Seconds()
	if v, ok := scalar(p95); ok {
		res.Add(probes.Finding{Check: "OpenAI p95 latency", Status: probes.ThresholdStatus(v, limit, 0.8), Value: v * 1000,
			Threshold: limit * 1000, Unit: "ms", Message: fmt.Sprintf("OpenAI p95 %s (threshold %s)", textfmt.Millis(v), textfmt.Millis(limit))})
	}
	errs, err := instant(ctx, env, fmt.Sprintf(`sum by (type) (rate(%s%s[%s]))`, m.OpenAIErrorsTotal, sel(s), w))
	if err != nil {
		return res, err
	}
	total := 0.0
	for _, e := range byLabel(errs, "type") {
		total += e.Value
		if e.Name == "rate_limit" && e.Value > 0 {
			res.Add(probes.Finding{Check: "OpenAI rate limiting", Status: probes.Warn, Value: e.Value, Unit: "429/s",
				Message: fmt.Sprintf("OpenAI answered 429 (rate limit) %.2f times/s", e.Value)})
		}
	}
	if openaiRate > 0 {
		share := total / openaiRate
		res.Add(probes.Finding{Check: "OpenAI errors", Status: probes.ThresholdStatus(share, t.ErrorRate, 0.5), Value: share * 100,
			Threshold: t.ErrorRate * 100, Unit: "%", Message: fmt.Sprintf("%s of OpenAI calls failed (threshold %s)", textfmt.Percent(share), textfmt.Percent(t.ErrorRate))})
	}
	return res, nil
}
