package handlers

import (
	"context"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/probes"
	"github.com/perfbot/perfbot/probes/logs"
)

// maxLogPattern is the longest pattern the logs probe searches for (it refuses longer ones); a longer
// one is the user's to fix, so it is a usage error before anything runs.
const maxLogPattern = 200

func (h *Handlers) logsCommand() Command {
	return Command{Name: "logs", Usage: "logs [service] [pattern] [since]",
		Summary: "pod log lines matching ERROR, timeout/connection/memory, slow query, rate limit — grouped, counted, newest first (runbook: Step 1 logs)",
		Example: "/perf logs agentic-studio slow query 30m",
		Run:     h.logs}
}

// logs parses "[service] [pattern…] [since]": a configured service name, a duration, and the rest as the pattern.
func (h *Handlers) logs(ctx context.Context, req Request, args []string) (Report, error) {
	var svc string
	var since time.Duration
	var words []string
	for i, a := range args {
		if _, ok := h.cfg.Service(a); ok && i == 0 {
			svc = a
			continue
		}
		if d, err := model.ParseDuration(a); err == nil && i == len(args)-1 {
			since = time.Duration(d)
			if since < time.Minute || since > 7*24*time.Hour {
				return Report{}, errs.Invalidf("since %s is out of range (1m to 7d). usage: /perf logs [service] [pattern] [since]", a)
			}
			continue
		}
		words = append(words, a)
	}
	pattern := strings.Join(words, " ")
	if len(pattern) > maxLogPattern { // bytes, as the probe counts
		return Report{}, errs.Invalidf("the pattern is longer than %d characters. usage: /perf logs [service] [pattern] [since]", maxLogPattern)
	}
	env, err := h.envs.Env(svc, 0)
	if err != nil {
		return Report{}, err
	}
	if since == 0 {
		since = env.Service.Logs.Since.D()
	}
	p := logs.Search(pattern, since)
	if !env.Has(p.Needs) {
		return Report{}, errs.Unavailablef("logs come through the Kubernetes API, and no kubeconfig is configured for %s", env.Service.Name)
	}
	return h.runProbes(ctx, req, "logs", "Logs of", env, []probes.Probe{p}), nil
}
