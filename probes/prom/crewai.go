package probes

import (
	"context"
	"fmt"
	"strconv"
)

// CrewAI checks agent task failures and p95 task duration by agent (runbook: CrewAI Performance Check).
func CrewAI(ctx context.Context, env *Env) (Result, error) {
	m, w := env.Service.Metrics, promRange(env.Window)
	s := env.Service.Prometheus.Selector
	limit := env.Service.Thresholds.CrewAIErrors
	res := Result{Summary: "CrewAI task errors and duration"}
	errRate, err := env.instant(ctx, fmt.Sprintf(`(sum(rate(%[1]s%[2]s[%[4]s])) or vector(0)) / sum(rate(%[1]s%[3]s[%[4]s]))`,
		m.CrewTasksTotal, sel(s, `status="error"`), sel(s), w))
	if err != nil {
		return res, err
	}
	if v, ok := scalar(errRate); ok {
		res.Add(Finding{Check: "CrewAI task errors", Status: thresholdStatus(v, limit, 0.5), Value: v * 100,
			Threshold: limit * 100, Unit: "%", Message: fmt.Sprintf("%s of agent tasks failed over %s (threshold %s)", pct(v), w, pct(limit))})
	} else {
		res.Add(Finding{Check: "CrewAI task errors", Status: Unknown, Unit: "%", Message: "no agent tasks in the last " + w})
	}
	p95, err := env.instant(ctx, fmt.Sprintf(`histogram_quantile(0.95, sum by (le, %s) (rate(%s_bucket%s[%s])))`,
		m.AgentLabel, m.CrewTaskDuration, sel(s), w))
	if err != nil {
		return res, err
	}
	rows := [][]string{}
	for _, a := range byLabel(p95, m.AgentLabel) {
		rows = append(rows, []string{a.Name, strconv.FormatFloat(a.Value, 'f', 2, 64) + " s"})
	}
	res.Tables = append(res.Tables, Table{Title: "CrewAI p95 task duration", Columns: []string{"Agent", "p95"}, Rows: rows})
	return res, nil
}

// AI checks the external AI APIs (runbook Step 4): calls by provider, OpenAI p95 latency, errors and rate limits.
func AI(ctx context.Context, env *Env) (Result, error) {
	m, w := env.Service.Metrics, promRange(env.Window)
	s := env.Service.Prometheus.Selector
	t := env.Service.Thresholds
	res := Result{Summary: "AI API calls, OpenAI latency and errors"}
	calls, err := env.instant(ctx, fmt.Sprintf(`sum by (%s) (rate(%s%s[%s]))`, m.ProviderLabel, m.AICallsTotal, sel(s), w))
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
	res.Tables = append(res.Tables, Table{Title: "AI API calls", Columns: []string{"Provider", "calls/s"}, Rows: rows})
	p95, err := env.instant(ctx, fmt.Sprintf(`histogram_quantile(0.95, sum by (le) (rate(%s_bucket%s[%s])))`, m.OpenAIDuration, sel(s), w))
	if err != nil {
		return res, err
	}
	limit := t.OpenAIP95.D().Seconds()
	if v, ok := scalar(p95); ok {
		res.Add(Finding{Check: "OpenAI p95 latency", Status: thresholdStatus(v, limit, 0.8), Value: v * 1000,
			Threshold: limit * 1000, Unit: "ms", Message: fmt.Sprintf("OpenAI p95 %s (threshold %s)", ms(v), ms(limit))})
	}
	errs, err := env.instant(ctx, fmt.Sprintf(`sum by (type) (rate(%s%s[%s]))`, m.OpenAIErrorsTotal, sel(s), w))
	if err != nil {
		return res, err
	}
	total := 0.0
	for _, e := range byLabel(errs, "type") {
		total += e.Value
		if e.Name == "rate_limit" && e.Value > 0 {
			res.Add(Finding{Check: "OpenAI rate limiting", Status: Warn, Value: e.Value, Unit: "429/s",
				Message: fmt.Sprintf("OpenAI answered 429 (rate limit) %.2f times/s", e.Value)})
		}
	}
	if openaiRate > 0 {
		share := total / openaiRate
		res.Add(Finding{Check: "OpenAI errors", Status: thresholdStatus(share, t.ErrorRate, 0.5), Value: share * 100,
			Threshold: t.ErrorRate * 100, Unit: "%", Message: fmt.Sprintf("%s of OpenAI calls failed (threshold %s)", pct(share), pct(t.ErrorRate))})
	}
	return res, nil
}
