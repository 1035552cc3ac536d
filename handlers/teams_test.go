package handlers

import (
	"testing"

	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/probes"
)

// TestTeamStepFollowsTheTopFinding: a report whose top finding is in a configured team's area offers to
// page that team; a finding in no team's area, an OK one, or a team that is not configured offers nothing.
func TestTeamStepFollowsTheTopFinding(t *testing.T) {
	cfg := &config.Config{Teams: []config.Team{{Name: "database", Group: "S0DBA"}, {Name: "infrastructure", Users: []string{"U0OPS"}}}}
	h := &Handlers{cfg: cfg}
	report := func(sig probes.Signal, st probes.Status) Report {
		return Report{Findings: []probes.Finding{{Check: "c", Signal: sig, Status: st}, {Check: "d", Signal: probes.SigNodeCPU, Status: probes.Crit}}}
	}
	cases := []struct {
		name string
		rep  Report
		want string // the command offered, "" for none
	}{
		{"lock", report(probes.SigDBLock, probes.Crit), "/perf incident page database"},
		{"slow statement", report(probes.SigDBSlowStatement, probes.Warn), "/perf incident page database"},
		{"pod memory", report(probes.SigPodMemory, probes.Crit), "/perf incident page infrastructure"},
		{"latency is nobody's area", report(probes.SigLatency, probes.Crit), ""},
		{"an OK top finding", report(probes.SigDBLock, probes.OK), ""},
		{"no findings", Report{}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			step, ok := h.TeamStep(c.rep)
			if got := map[bool]string{true: step.Command}[ok]; got != c.want {
				t.Fatalf("offered %q, want %q", got, c.want)
			}
			if ok && step.Confirm == "" {
				t.Error("paging a team must ask first")
			}
		})
	}
	h = &Handlers{cfg: &config.Config{Teams: []config.Team{{Name: "security", Users: []string{"U0SEC"}}}}}
	if step, ok := h.TeamStep(report(probes.SigDBLock, probes.Crit)); ok {
		t.Errorf("offered %q with no database team configured", step.Command)
	}
}
