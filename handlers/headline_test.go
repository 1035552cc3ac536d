package handlers

import (
	"strings"
	"testing"

	"github.com/perfbot/perfbot/probes"
)

func TestHeadline(t *testing.T) {
	crit := probes.Finding{Check: "API p95 latency", Signal: probes.SigLatency, Status: probes.Crit, Subject: "/api/ideas", Value: 812, Threshold: 500, Unit: "ms"}
	lock := probes.Finding{Check: "DB blocking locks", Signal: probes.SigDBLock, Status: probes.Warn, Value: 5, Unit: "sessions",
		Message: "pid 42 (agentic-studio) holds a lock 5 sessions wait for"}
	warn := probes.Finding{Check: "Scope", Status: probes.Warn, Message: "1 of 4 endpoints"}
	unknown := probes.Finding{Check: "Pod usage", Status: probes.Unknown}
	ok := probes.Finding{Check: "Error rate", Status: probes.OK}
	cases := []struct {
		name     string
		results  []probes.Result
		wantHead string
	}{
		{"worst first", []probes.Result{{Findings: []probes.Finding{ok, warn}}, {Findings: []probes.Finding{crit}}},
			"CRIT: API p95 latency on /api/ideas is 812 ms (threshold 500 ms); no cause found in the checks that ran (+1 more)"},
		{"cause named", []probes.Result{{Status: probes.Crit, Findings: []probes.Finding{crit, lock}}},
			"CRIT: Likely cause: pid 42 (agentic-studio) holds a lock 5 sessions wait for — sessions wait for its lock; explains API p95 latency on /api/ideas is 812 ms (threshold 500 ms)"},
		{"all ok", []probes.Result{{Findings: []probes.Finding{ok}}, {}}, "OK: all 2 checks within thresholds"},
		{"ok but unmeasured", []probes.Result{{Findings: []probes.Finding{ok, unknown}}}, "OK: no trigger fired; 1 could not be measured: Pod usage"},
		{"a probe failed", []probes.Result{{Findings: []probes.Finding{ok}}, {Title: "Node resources", Status: probes.Unknown, Summary: "timed out after 1s", Err: errTest}},
			"UNKNOWN: no trigger fired in the checks that ran (1 check(s) could not run: Node resources timed out after 1s)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep := Assemble(c.results)
			if rep.Headline != c.wantHead {
				t.Errorf("headline = %q, want %q", rep.Headline, c.wantHead)
			}
			if c.name == "worst first" && (rep.Findings[0].Status != probes.Crit || !strings.Contains(rep.Findings[1].Check, "Scope")) {
				t.Errorf("findings not ranked worst first: %+v", rep.Findings)
			}
			if c.name == "cause named" && rep.Findings[0].Signal != probes.SigDBLock {
				t.Errorf("the cause does not lead the findings: %+v", rep.Findings)
			}
		})
	}
}

var errTest = errorString("boom")

type errorString string

func (e errorString) Error() string { return string(e) }
