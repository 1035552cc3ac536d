package probes

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
)

// Health calls the service's health endpoint (the runbook's `curl …/health/detailed`) and reports
// the overall status and every failing component check.
func Health(ctx context.Context, env *Env) (Result, error) {
	if env.Service.HealthURL == "" || env.HTTP == nil {
		return Result{}, ErrNotConfigured
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, env.Service.HealthURL, nil)
	if err != nil {
		return Result{}, fmt.Errorf("health request: %w", err)
	}
	resp, err := env.HTTP.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("health endpoint: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Result{}, fmt.Errorf("health endpoint body: %w", err)
	}
	var doc map[string]any
	_ = json.Unmarshal(body, &doc) // a non-JSON body is judged by the status code alone
	overall, _ := doc["status"].(string)
	res := Result{Summary: fmt.Sprintf("HTTP %d, status %q", resp.StatusCode, overall)}
	st := healthStatus(overall)
	if resp.StatusCode >= 500 {
		st = Crit
	} else if resp.StatusCode >= 300 {
		st = Worst(st, Warn)
	}
	rows := [][]string{}
	for _, c := range healthChecks(doc) {
		rows = append(rows, []string{c.name, c.status, c.detail})
		if cs := healthStatus(c.status); cs != OK {
			res.Add(Finding{Check: "Health: " + c.name, Status: cs, Message: fmt.Sprintf("%s is %s %s", c.name, c.status, c.detail)})
		}
	}
	res.Add(Finding{Check: "Health endpoint", Status: st, Value: float64(resp.StatusCode), Unit: "HTTP",
		Message: fmt.Sprintf("health endpoint answered HTTP %d (%s)", resp.StatusCode, orDash(overall))})
	res.Tables = append(res.Tables, Table{Title: "Health checks", Columns: []string{"Check", "Status", "Detail"}, Rows: rows})
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
				detail = append(detail, fmt.Sprintf("%s=%v", k, RedactText(fmt.Sprint(x))))
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

func healthStatus(s string) Status {
	switch strings.ToLower(s) {
	case "ok", "healthy", "up", "pass", "":
		return OK
	case "degraded", "warn", "warning":
		return Warn
	default:
		return Crit
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
