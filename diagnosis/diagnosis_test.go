package diagnosis

import (
	"strings"
	"testing"
	"time"

	"github.com/perfbot/perfbot/probes"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func latency(subject string, ms float64) probes.Finding {
	return probes.Finding{Check: "API p95 latency", Signal: probes.SigLatency, Status: probes.Crit, Subject: subject,
		Value: ms, Threshold: 500, Unit: "ms", Message: subject + " is slow"}
}

func TestCauseExplainsSymptom(t *testing.T) {
	cases := []struct {
		name      string
		findings  []probes.Finding
		wantCause probes.Signal
		wantWhy   string
	}{
		{"slow dependency makes an endpoint slow", []probes.Finding{
			latency("/api/agents/run", 4200),
			{Check: "OpenAI p95 latency", Signal: probes.SigDependencyLatency, Status: probes.Crit, Value: 4100, Threshold: 2000, Unit: "ms"},
		}, probes.SigDependencyLatency, "AI API"},
		{"a lock makes an endpoint slow and a query long", []probes.Finding{
			latency("/api/projects", 9000),
			{Check: "DB query time", Signal: probes.SigDBQueryTime, Status: probes.Crit, Value: 65, Threshold: 1, Unit: "s"},
			{Check: "DB blocking locks", Signal: probes.SigDBLock, Status: probes.Warn, Value: 5, Unit: "waiting", Message: "pid 42 blocks 5 sessions"},
		}, probes.SigDBLock, "lock"},
		{"a root blocker idle in transaction is named as the lock", []probes.Finding{
			{Check: "Error rate", Signal: probes.SigErrors, Status: probes.Crit, Subject: "/api/projects", Value: 100, Threshold: 1, Unit: "%"},
			{Check: "DB idle in transaction", Signal: probes.SigDBIdleInTx, Status: probes.Warn, Value: 152, Threshold: 30, Unit: "s"},
			{Check: "DB blocking locks", Signal: probes.SigDBLock, Status: probes.Crit, Value: 2, Threshold: 1, Unit: "s", Message: "pid 42 (idle in transaction) blocks 9 session(s)"},
		}, probes.SigDBLock, "lock"},
		{"idle in transaction exhausts the pool", []probes.Finding{
			{Check: "Error rate", Signal: probes.SigErrors, Status: probes.Crit, Subject: "all endpoints", Value: 30, Threshold: 1, Unit: "%"},
			{Check: "DB connections", Signal: probes.SigDBConnections, Status: probes.Warn, Value: 85, Threshold: 80, Unit: "%"},
			{Check: "DB idle in transaction", Signal: probes.SigDBIdleInTx, Status: probes.Warn, Value: 8, Unit: "sessions"},
		}, probes.SigDBIdleInTx, "idle"},
		{"a pod at its memory limit is OOM-killed", []probes.Finding{
			{Check: "Pod restarts", Signal: probes.SigPodRestarts, Status: probes.Crit, Subject: "app-1", Message: "app-1 OOMKilled"},
			{Check: "Pod memory of limit", Signal: probes.SigPodMemory, Status: probes.Crit, Subject: "app-1/app", Value: 97, Threshold: 85, Unit: "%"},
			{Check: "Error rate", Signal: probes.SigErrors, Status: probes.Warn, Subject: "all endpoints", Value: 0.8, Threshold: 1, Unit: "%"},
		}, probes.SigPodMemory, "memory"},
		{"a rollout followed by latency", []probes.Finding{
			{Check: "Recent changes", Signal: probes.SigRollout, Status: probes.OK, Onset: t0, Message: "rollout of revision 7"},
			func() probes.Finding { f := latency("/api/ideas", 900); f.Onset = t0.Add(4 * time.Minute); return f }(),
		}, probes.SigRollout, "rollout"},
		{"Redis full", []probes.Finding{
			{Check: "Error rate", Signal: probes.SigErrors, Status: probes.Crit, Subject: "/api/ideas", Value: 40, Threshold: 1, Unit: "%"},
			{Check: "Redis memory", Signal: probes.SigRedisMemory, Status: probes.Crit, Value: 99, Threshold: 90, Unit: "%"},
		}, probes.SigRedisMemory, "Redis"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := Diagnose(c.findings)
			if d.Cause == nil || d.Cause.Signal != c.wantCause {
				t.Fatalf("cause = %+v, want %s", d.Cause, c.wantCause)
			}
			if !strings.Contains(d.Why, c.wantWhy) {
				t.Errorf("why = %q, want it to mention %q", d.Why, c.wantWhy)
			}
			if len(d.Explains) == 0 {
				t.Error("the cause explains nothing")
			}
			if d.Ranked[0].Signal != c.wantCause || len(d.Ranked) != len(c.findings) {
				t.Errorf("ranked = %v", d.Ranked)
			}
		})
	}
}

func TestNoCauseNamesTheSymptom(t *testing.T) {
	d := Diagnose([]probes.Finding{latency("/api/ideas", 812),
		{Check: "Redis memory", Signal: probes.SigRedisMemory, Status: probes.OK, Value: 10, Threshold: 90, Unit: "%"}})
	if d.Cause != nil {
		t.Fatalf("cause = %+v, want none (Redis is healthy)", d.Cause)
	}
	if d.Unexplained == nil || d.Unexplained.Subject != "/api/ideas" {
		t.Errorf("unexplained = %+v", d.Unexplained)
	}
}

func TestRolloutLongBeforeBreachIsNotTheCause(t *testing.T) {
	f := latency("/api/ideas", 900)
	f.Onset = t0.Add(3 * time.Hour)
	d := Diagnose([]probes.Finding{{Check: "Recent changes", Signal: probes.SigRollout, Onset: t0}, f})
	if d.Cause != nil {
		t.Errorf("a rollout 3 h before the breach is named as its cause: %+v", d.Cause)
	}
}

func TestServiceWideCauseDoesNotExplainOneEndpoint(t *testing.T) {
	d := Diagnose([]probes.Finding{latency("/api/ideas", 900),
		{Check: "Scope", Signal: probes.SigScope, Status: probes.Warn, Subject: "specific endpoints"},
		{Check: "Node CPU", Signal: probes.SigNodeCPU, Status: probes.Warn, Value: 85, Threshold: 80, Unit: "%"}})
	if d.Cause != nil {
		t.Errorf("node CPU named as the cause of one slow endpoint: %+v", d.Cause)
	}
}

// TestRankingAcrossChecks pins down how findings of different checks compare.
func TestRankingAcrossChecks(t *testing.T) {
	oom := probes.Finding{Check: "Pod restarts", Signal: probes.SigPodRestarts, Status: probes.Crit, Message: "OOMKilled"}
	p95 := probes.Finding{Check: "API p95 latency", Signal: probes.SigLatency, Status: probes.Crit, Value: 510, Threshold: 500, Unit: "ms"}
	none := probes.Finding{Check: "Replicas ready", Signal: probes.SigReplicas, Status: probes.Crit, Value: 0, Threshold: 1, LowerIsWorse: true}
	one := probes.Finding{Check: "Replicas ready", Signal: probes.SigReplicas, Status: probes.Crit, Value: 1.0 / 3, Threshold: 1, LowerIsWorse: true}
	normal := latency("/api/ideas", 2000)
	normal.Baseline = &probes.Baseline{Yesterday: 1900, LastWeek: 2100}
	departed := latency("/api/projects", 900)
	departed.Baseline = &probes.Baseline{Yesterday: 120, LastWeek: 110}
	for _, c := range []struct {
		name          string
		higher, lower probes.Finding
	}{
		{"OOMKilled above p95 just past its threshold", oom, p95},
		{"0 of 3 ready above 1 of 3", none, one},
		{"a breach that departed from normal above one that is normal for this hour", departed, normal},
	} {
		if c.higher.Severity() <= c.lower.Severity() {
			t.Errorf("%s: %v ≤ %v", c.name, c.higher.Severity(), c.lower.Severity())
		}
	}
}

func TestNotes(t *testing.T) {
	f := latency("/api/ideas", 800)
	f.Message = "/api/ideas p95 800 ms (threshold 500 ms)"
	f.Onset = t0
	f.Baseline = &probes.Baseline{Yesterday: 200, LastWeek: -1}
	if got, want := Notes(f, time.UTC), ", 4.0× yesterday, since 12:00 UTC"; got != want {
		t.Errorf("Notes = %q, want %q", got, want)
	}
	f.Baseline = &probes.Baseline{Yesterday: -1, LastWeek: -1}
	if got := Notes(f, time.UTC); got != ", since 12:00 UTC" {
		t.Errorf("Notes without history = %q, want only the onset", got)
	}
	f.Baseline = &probes.Baseline{Yesterday: 700, LastWeek: 780}
	if got := Notes(f, time.UTC); !strings.Contains(got, "as usual for this hour") {
		t.Errorf("Notes for a usual value = %q", got)
	}
	f.Status = probes.OK
	if got := Notes(f, time.UTC); got != "" {
		t.Errorf("Notes for an OK finding = %q", got)
	}
}

func TestTheLatestChangeBeforeTheBreachIsNamed(t *testing.T) {
	f := latency("/api/ideas", 900)
	f.Onset = t0.Add(10 * time.Minute)
	d := Diagnose([]probes.Finding{
		{Check: "Recent change", Signal: probes.SigRollout, Onset: t0, Subject: "revision 1"},
		{Check: "Recent change", Signal: probes.SigRollout, Onset: t0.Add(8 * time.Minute), Subject: "revision 2"},
		f})
	if d.Cause == nil || d.Cause.Subject != "revision 2" {
		t.Errorf("cause = %+v, want revision 2", d.Cause)
	}
}
