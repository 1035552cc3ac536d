package probes

import "time"

// Signal says what a finding measures, so that diagnosis can tell causes from the symptoms they
// explain without reading check names. The empty Signal is a finding diagnosis does not reason about.
type Signal string

// The signals perfbot's probes report, grouped by the runbook's layers.
const (
	// Symptoms users feel.
	SigLatency     Signal = "latency"      // p95 of an endpoint or the whole service
	SigErrors      Signal = "errors"       // 5xx share of an endpoint or the whole service
	SigHealth      Signal = "health"       // the health endpoint fails
	SigScope       Signal = "scope"        // which endpoints breach, persistent or intermittent
	SigTargetDown  Signal = "target_down"  // a scrape target is down
	SigAgentErrors Signal = "agent_errors" // CrewAI task errors, by agent
	SigAgentSlow   Signal = "agent_slow"   // CrewAI task duration, by agent
	SigReplicas    Signal = "replicas"     // fewer pods ready than wanted

	// Dependencies the service calls.
	SigDependencyLatency Signal = "dependency_latency" // an external API (OpenAI) is slow
	SigDependencyErrors  Signal = "dependency_errors"  // an external API fails or rate-limits

	// The database.
	SigDBLock          Signal = "db_lock"           // a session blocks others (the root blocker)
	SigDBQueryTime     Signal = "db_query_time"     // a client statement has run long
	SigDBSlowStatement Signal = "db_slow_statement" // a statement is slow on average over the window
	SigDBIdleInTx      Signal = "db_idle_in_tx"     // sessions hold a transaction open and idle
	SigDBConnections   Signal = "db_connections"    // connections near max_connections
	SigDBCacheHit      Signal = "db_cache_hit"      // reads miss the buffer cache

	// Redis.
	SigRedisMemory    Signal = "redis_memory"    // used memory near maxmemory
	SigRedisSlowLog   Signal = "redis_slowlog"   // slow commands in the slow log
	SigRedisEvictions Signal = "redis_evictions" // keys evicted in the window

	// Pods and nodes.
	SigPodMemory   Signal = "pod_memory"   // a pod near its memory limit
	SigPodCPU      Signal = "pod_cpu"      // a pod near its CPU limit, or throttled
	SigPodRestarts Signal = "pod_restarts" // OOMKilled, crash loops, restarts
	SigNodeCPU     Signal = "node_cpu"     // a node's CPU busy
	SigNodeMemory  Signal = "node_memory"  // a node's memory used
	SigProcMemory  Signal = "process_memory"

	// Changes.
	SigRollout      Signal = "rollout"       // a new ReplicaSet rolled out
	SigConfigChange Signal = "config_change" // a ConfigMap the pods read changed
)

// Baseline is a signal's own normal: the same measure over the same window a day and a week ago.
type Baseline struct {
	// Yesterday and LastWeek are in the finding's Unit; a value < 0 means there was no data then.
	Yesterday, LastWeek float64
}

// Known reports whether either day has data.
func (b Baseline) Known() bool { return b.Yesterday >= 0 || b.LastWeek >= 0 }

// Normal is the larger of the two known values (a breach is unusual only if it exceeds both), or
// -1 when neither is known.
func (b Baseline) Normal() float64 {
	n := -1.0
	if b.Yesterday >= 0 {
		n = b.Yesterday
	}
	if b.LastWeek > n {
		n = b.LastWeek
	}
	return n
}

// Factor is how many times its normal v is (0 when the normal is unknown or zero).
func (b Baseline) Factor(v float64) float64 {
	n := b.Normal()
	if n <= 0 {
		return 0
	}
	return v / n
}

// Onset is the start of the breach still going on at the end of s (the last run of points above
// limit), or the zero time when the series ends at or below it.
func Onset(s Series, limit float64) time.Time {
	var at time.Time
	for i := len(s.Points) - 1; i >= 0; i-- {
		if s.Points[i].V <= limit {
			break
		}
		at = s.Points[i].T
	}
	return at
}
