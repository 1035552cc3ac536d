package handlers

import (
	"testing"

	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/probes"
)

// TestRemedySteps: a recent rollout offers Rollback of the service's Deployment (only when rollback
// is enabled), and a slow statement with a queryid offers Explain.
func TestRemedySteps(t *testing.T) {
	cfg := config.Default()
	cfg.Services[0].Kubernetes.Namespace, cfg.Services[0].Kubernetes.Deployment = "studio", "agentic-studio"
	h := New(cfg, nil, nil)
	rep := Report{Service: cfg.Services[0].Name, Findings: []probes.Finding{
		{Check: "Recent change", Signal: probes.SigRollout, Subject: "revision 4"},
		{Check: "Slow statements", Evidence: "pg_stat_statements queryid -42"},
	}}
	if got := h.remedySteps(rep); len(got) != 1 || got[0].Command != "/perf explain -42 "+rep.Service {
		t.Fatalf("without rollback enabled: %+v", got)
	}
	cfg.Actions.Allowed = []string{"rollback"}
	got := h.remedySteps(rep)
	if len(got) != 2 || got[0].Label != "Rollback" || got[0].Command != "/perf rollback studio/agentic-studio" {
		t.Fatalf("with rollback enabled: %+v", got)
	}
}
