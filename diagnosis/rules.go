package diagnosis

import (
	"time"

	"github.com/perfbot/perfbot/probes"
)

// rule links a cause to the symptoms it explains, written from the runbook's "Common Performance
// Issues" (symptoms → investigation → cause). A rule with a link function links a pair only when
// it says so (a rollout explains only what began after it).
type rule struct {
	cause    probes.Signal
	explains []probes.Signal
	// why says how the cause produces the symptom, for the headline.
	why  string
	link func(cause, symptom probes.Finding) bool
}

// changeWindow is how long after a rollout or config change a breach that begins is tied to it.
const changeWindow = 30 * time.Minute

// rules is the one table of cause → symptom links.
var rules = []rule{
	// Issue 3, Step 2: locks. The root blocker holds what waiting sessions need; their statements
	// run long and the endpoints that issue them slow down or time out.
	// A root blocker is often itself idle in transaction (a job that took its locks and stalled):
	// the lock, which names the session and its waiters, is the cause; the idle session its detail.
	{cause: probes.SigDBLock, why: "sessions wait for its lock",
		explains: []probes.Signal{probes.SigDBIdleInTx, probes.SigDBQueryTime, probes.SigDBSlowStatement, probes.SigLatency, probes.SigErrors, probes.SigHealth, probes.SigDBConnections, probes.SigAgentSlow, probes.SigAgentErrors}},
	// Issue 3: connection pool exhaustion by sessions idle in transaction.
	{cause: probes.SigDBIdleInTx, why: "idle transactions hold pool connections and locks",
		explains: []probes.Signal{probes.SigDBConnections, probes.SigLatency, probes.SigErrors, probes.SigHealth, probes.SigAgentErrors}},
	{cause: probes.SigDBConnections, why: "requests wait for a database connection",
		explains: []probes.Signal{probes.SigLatency, probes.SigErrors, probes.SigHealth}},
	// Issue 1 and 3: slow queries.
	{cause: probes.SigDBSlowStatement, why: "the endpoints wait for the database",
		explains: []probes.Signal{probes.SigLatency, probes.SigDBQueryTime, probes.SigErrors, probes.SigAgentSlow}},
	{cause: probes.SigDBQueryTime, why: "the endpoints wait for the database",
		explains: []probes.Signal{probes.SigLatency, probes.SigErrors}},
	{cause: probes.SigDBCacheHit, why: "reads go to disk",
		explains: []probes.Signal{probes.SigDBSlowStatement, probes.SigLatency}},
	// Step 4 and Issue 5: external dependencies.
	{cause: probes.SigDependencyLatency, why: "requests wait for the AI API",
		explains: []probes.Signal{probes.SigLatency, probes.SigAgentSlow, probes.SigAgentErrors, probes.SigErrors}},
	{cause: probes.SigDependencyErrors, why: "AI API calls fail or are rate-limited",
		explains: []probes.Signal{probes.SigAgentErrors, probes.SigErrors, probes.SigLatency, probes.SigAgentSlow}},
	// Step 3 Redis.
	{cause: probes.SigRedisMemory, why: "Redis refuses or evicts writes at maxmemory",
		explains: []probes.Signal{probes.SigErrors, probes.SigLatency, probes.SigRedisEvictions, probes.SigHealth}},
	{cause: probes.SigRedisSlowLog, why: "slow Redis commands block the server",
		explains: []probes.Signal{probes.SigLatency}},
	// Issue 4: memory. A pod at its limit is OOMKilled; restarts lose requests and replicas.
	{cause: probes.SigPodMemory, why: "a pod at its memory limit is OOM-killed",
		explains: []probes.Signal{probes.SigPodRestarts, probes.SigErrors, probes.SigLatency, probes.SigReplicas, probes.SigHealth}},
	{cause: probes.SigPodRestarts, why: "restarting pods drop requests",
		explains: []probes.Signal{probes.SigErrors, probes.SigReplicas, probes.SigHealth, probes.SigTargetDown, probes.SigLatency}},
	{cause: probes.SigProcMemory, why: "the process grows toward its limit",
		explains: []probes.Signal{probes.SigPodRestarts, probes.SigLatency}},
	// Issue 1: resources. Pods at their CPU limit are throttled.
	{cause: probes.SigPodCPU, why: "pods at their CPU limit are throttled",
		explains: []probes.Signal{probes.SigLatency, probes.SigAgentSlow, probes.SigHealth}},
	{cause: probes.SigNodeCPU, why: "the node's CPU is saturated",
		explains: []probes.Signal{probes.SigLatency, probes.SigPodCPU}},
	{cause: probes.SigNodeMemory, why: "the node is short of memory",
		explains: []probes.Signal{probes.SigPodRestarts, probes.SigLatency}},
	{cause: probes.SigReplicas, why: "fewer pods serve the traffic",
		explains: []probes.Signal{probes.SigLatency, probes.SigErrors, probes.SigHealth}},
	// Initial Assessment 2: recent changes. A breach that began minutes after a change.
	{cause: probes.SigRollout, why: "it began after the rollout", link: followsChange,
		explains: symptomsOfChange},
	{cause: probes.SigConfigChange, why: "it began after the config change", link: followsChange,
		explains: symptomsOfChange},
}

var symptomsOfChange = []probes.Signal{probes.SigLatency, probes.SigErrors, probes.SigHealth, probes.SigAgentErrors,
	probes.SigAgentSlow, probes.SigPodRestarts, probes.SigPodMemory, probes.SigPodCPU, probes.SigDBSlowStatement, probes.SigReplicas}

// followsChange links a change to a breach that began within changeWindow after it.
func followsChange(change, symptom probes.Finding) bool {
	if change.Onset.IsZero() || symptom.Onset.IsZero() {
		return false
	}
	d := symptom.Onset.Sub(change.Onset)
	return d >= -time.Minute && d <= changeWindow // a minute's slack: onsets come from scrape steps
}

// explains reports whether cause explains symptom under the rule table, and why.
func explains(cause, symptom probes.Finding) (string, bool) {
	if cause.Signal == "" || symptom.Signal == "" {
		return "", false
	}
	for _, r := range rules {
		if r.cause != cause.Signal {
			continue
		}
		for _, s := range r.explains {
			if s == symptom.Signal && (r.link == nil || r.link(cause, symptom)) {
				return r.why, true
			}
		}
	}
	return "", false
}

// IsCause reports whether a signal can be a cause under some rule (a lock, a slow dependency, a pod
// at its limit, a change): a finding of it says what is wrong, not only what users feel.
func IsCause(s probes.Signal) bool { return isCause(s) }

// isCause reports whether a signal can be a cause under some rule.
func isCause(s probes.Signal) bool {
	for _, r := range rules {
		if r.cause == s {
			return true
		}
	}
	return false
}

// isChange reports whether a signal is a change (which explains only by timing, and need not be a breach itself).
func isChange(s probes.Signal) bool { return s == probes.SigRollout || s == probes.SigConfigChange }
