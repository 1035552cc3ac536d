package handlers

import (
	"slices"
	"strconv"

	"github.com/perfbot/perfbot/probes"
	"github.com/perfbot/perfbot/probes/pg"
)

// remedySteps are the next steps a report's findings call for: a recent rollout offers to roll the
// service's Deployment back (the request shows both revisions before anyone approves), and the
// slowest statement offers its plan.
func (h *Handlers) remedySteps(rep Report) []NextStep {
	var out []NextStep
	rollback, explained := false, false
	for _, f := range rep.Findings {
		switch {
		case f.Signal == probes.SigRollout && !rollback && h.allowed("rollback"):
			svc, ok := h.cfg.Service(rep.Service)
			if !ok || svc.Kubernetes.Deployment == "" {
				continue
			}
			target := svc.Kubernetes.Deployment
			if svc.Kubernetes.Namespace != "" {
				target = svc.Kubernetes.Namespace + "/" + target
			}
			rollback = true
			out = append(out, NextStep{Label: "Rollback", Command: "/perf rollback " + target})
		case !explained:
			if id, ok := pg.StatementID(f); ok {
				explained = true
				out = append(out, NextStep{Label: "Explain slowest", Command: "/perf explain " + strconv.FormatInt(id, 10) + " " + rep.Service})
			}
		}
	}
	return out
}

// allowed reports whether the approval-gated action is enabled (actions.allowed), so that a report
// offers only the requests perfbot would accept.
func (h *Handlers) allowed(action string) bool { return slices.Contains(h.cfg.Actions.Allowed, action) }
