// Package health is the probe of a service's HTTP health endpoint.
package health

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/perfbot/perfbot/probes"
)

// Endpoint calls the service's health endpoint (the runbook's `curl …/health/detailed`) and reports
// the overall status and every failing component check.
var Endpoint = probes.Probe{Name: "health", Title: "Health endpoint", Needs: probes.NeedsHTTP, Run: endpoint}

func endpoint(ctx context.Context, env *probes.Env) (probes.Result, error) {
	if env.Service.HealthURL == "" || env.HTTP == nil {
		return probes.Result{}, probes.ErrNotConfigured
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, env.Service.HealthURL, nil)
	if err != nil {
		return probes.Result{}, fmt.Errorf("health request: %w", err)
	}
	resp, err := env.HTTP.Do(req)
	if err != nil {
		return probes.Result{}, fmt.Errorf("health endpoint: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return probes.Result{}, fmt.Errorf("health endpoint body: %w", err)
	}
	var doc map[string]any
	_ = json.Unmarshal(body, &doc) // a non-JSON body is judged by the status code alone
	overall, _ := doc["status"].(string)
	res := probes.Result{Summary: fmt.Sprintf("HTTP %d, status %q", resp.StatusCode, overall)}
	st := healthStatus(overall)
	if resp.StatusCode >= 500 {
		st = probes.Crit
	} else if resp.StatusCode >= 300 {
		st = probes.Worst(st, probes.Warn)
	}
	rows := [][]string{}
	for _, c := range healthChecks(doc) {
		rows = append(rows, []string{c.name, c.status, c.detail})
		if cs := healthStatus(c.status); cs != probes.OK {
			res.Add(probes.Finding{Check: "Health: " + c.name, Status: cs, Message: fmt.Sprintf("%s is %s %s", c.name, c.status, c.detail)})
		}
	}
	res.Add(probes.Finding{Check: "Health endpoint", Signal: probes.SigHealth, Status: st, Value: float64(resp.StatusCode), Unit: "HTTP",
		Message: fmt.Sprintf("health endpoint answered HTTP %d (%s)", resp.StatusCode, orDash(overall))})
	res.Tables = append(res.Tables, probes.Table{Title: "Health checks", Columns: []string{"Check", "Status", "Detail"}, Rows: rows})
	return res, nil
}

type healthCheck struct{ name, status, detail string }

// healthChecks finds component checks in the common shapes: {"checks":{name:{status}}} or {"checks":[{name,status}]}.
func healthChecks(doc map[string]any) []healthCheck {
	var out []healthCheck
	add := func(name string, v any) {
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		st, _ := m["status"].(string)
		var detail []string
		for _, k := range []string{"latency_ms", "error", "message"} {
			if x, ok := m[k]; ok {
				detail = append(detail, fmt.Sprintf("%s=%v", k, probes.RedactText(fmt.Sprint(x))))
			}
		}
		out = append(out, healthCheck{name, st, strings.Join(detail, " ")})
	}
	switch c := doc["checks"].(type) {
	case map[string]any:
		for name, v := range c {
			add(name, v)
		}
	case []any:
		for _, v := range c {
			if m, ok := v.(map[string]any); ok {
				name, _ := m["name"].(string)
				add(name, v)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func healthStatus(s string) probes.Status {
	switch strings.ToLower(s) {
	case "ok", "healthy", "up", "pass", "":
		return probes.OK
	case "degraded", "warn", "warning":
		return probes.Warn
	default:
		return probes.Crit
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
