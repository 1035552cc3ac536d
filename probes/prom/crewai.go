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
	floor := env.Service.Thresholds.MinRequests
	res := probes.Result{Summary: "CrewAI task errors and duration, by agent"}
	share := func(by string) string {
		return fmt.Sprintf(`(sum by (%[1]s) (rate(%[2]s%[3]s[%[5]s])) or (0 * sum by (%[1]s) (rate(%[2]s%[4]s[%[5]s])))) / sum by (%[1]s) (rate(%[2]s%[4]s[%[5]s]))`,
			by, m.CrewTasksTotal, sel(s, `status="error"`), sel(s), w)
	}
	overallQ := fmt.Sprintf(`(sum(rate(%[1]s%[2]s[%[4]s])) or vector(0)) / sum(rate(%[1]s%[3]s[%[4]s]))`, m.CrewTasksTotal, sel(s, `status="error"`), sel(s), w)
	byAgentQ := share(m.AgentLabel)
	p95Q := fmt.Sprintf(`histogram_quantile(0.95, sum by (le, %s) (rate(%s_bucket%s[%s])))`, m.AgentLabel, m.CrewTaskDuration, sel(s), w)
	histWait := async(func() (history, error) { return lookBack(ctx, env, byAgentQ, m.AgentLabel, 100), nil })
	vs, err := instants(ctx, env, overallQ, byAgentQ, p95Q,
		fmt.Sprintf(`sum by (%s) (increase(%s%s[%s]))`, m.AgentLabel, m.CrewTasksTotal, sel(s), w))
	if err != nil {
		return res, err
	}
	hist, _ := histWait()
	v, ok := scalar(vs[0])
	if !ok {
		res.Add(probes.Finding{Check: "CrewAI task errors", Status: probes.Unknown, Unit: "%", Message: "no agent tasks in the last " + w})
		return res, nil
	}
	tasks, p95 := values(vs[3], m.AgentLabel), values(vs[2], m.AgentLabel)
	agentBreach := false
	rows := [][]string{}
	for _, a := range byLabel(vs[1], m.AgentLabel) {
		st := probes.ThresholdStatus(a.Value, limit, 0.5)
		if tasks[a.Name] < floor/4 && st > probes.OK { // agent tasks are rarer than requests
			st = probes.OK
		}
		if st >= probes.Warn {
			agentBreach = true
			res.Add(probes.Finding{Check: "CrewAI task errors", Signal: probes.SigAgentErrors, Status: st, Subject: "agent " + a.Name,
				Value: a.Value * 100, Threshold: limit * 100, Unit: "%", Baseline: hist.of(a.Name), Evidence: byAgentQ,
				Message: fmt.Sprintf("agent %s failed %s of its %.0f tasks over %s (threshold %s)", a.Name, textfmt.Percent(a.Value), tasks[a.Name], w, textfmt.Percent(limit))})
		}
		rows = append(rows, []string{a.Name, textfmt.Percent(a.Value), fmt.Sprintf("%.0f", tasks[a.Name]), strconv.FormatFloat(p95[a.Name], 'f', 2, 64) + " s", st.String()})
	}
	st := probes.ThresholdStatus(v, limit, 0.5)
	sig := probes.SigAgentErrors
	if agentBreach {
		sig = "" // the agents' own findings carry the signal; this is their sum
	}
	res.Add(probes.Finding{Check: "CrewAI task errors", Signal: sig, Status: st, Subject: "all agents", Value: v * 100,
		Threshold: limit * 100, Unit: "%", Evidence: overallQ,
		Message: fmt.Sprintf("%s of agent tasks failed over %s (threshold %s)", textfmt.Percent(v), w, textfmt.Percent(limit))})
	res.Tables = append(res.Tables, probes.Table{Title: "CrewAI tasks by agent", Columns: []string{"Agent", "Errors", "Tasks", "p95", "Status"}, Rows: rows})
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
	p95Q := fmt.Sprintf(`histogram_quantile(0.95, sum by (le) (rate(%s_bucket%s[%s])))`, m.OpenAIDuration, sel(s), w)
	histWait := async(func() (history, error) { return lookBack(ctx, env, p95Q, "", 1000), nil })
	p95, err := instant(ctx, env, p95Q)
	if err != nil {
		return res, err
	}
	hist, _ := histWait()
	limit := t.OpenAIP95.D().Seconds()
	if v, ok := scalar(p95); ok {
		res.Add(probes.Finding{Check: "OpenAI p95 latency", Signal: probes.SigDependencyLatency, Subject: "openai", Baseline: hist.of(""),
			Status: probes.ThresholdStatus(v, limit, 0.8), Value: v * 1000,
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
			res.Add(probes.Finding{Check: "OpenAI rate limiting", Signal: probes.SigDependencyErrors, Subject: "openai", Status: probes.Warn, Value: e.Value, Unit: "429/s",
				Message: fmt.Sprintf("OpenAI answered 429 (rate limit) %.2f times/s", e.Value)})
		}
	}
	if openaiRate > 0 {
		share := total / openaiRate
		res.Add(probes.Finding{Check: "OpenAI errors", Signal: probes.SigDependencyErrors, Subject: "openai", Status: probes.ThresholdStatus(share, t.ErrorRate, 0.5), Value: share * 100,
			Threshold: t.ErrorRate * 100, Unit: "%", Message: fmt.Sprintf("%s of OpenAI calls failed (threshold %s)", textfmt.Percent(share), textfmt.Percent(t.ErrorRate))})
	}
	return res, nil
}
