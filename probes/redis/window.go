package redis

import (
	"sync"
	"time"
)

// counters are the cumulative INFO counters the probe turns into rates over the window.
type counters struct {
	at                    time.Time
	evicted, hits, misses int64
	startedAt             time.Time // the server's start (uptime), to notice a restart
}

// samples remembers each server's counters as probes read them, so that evictions and the hit
// rate are told over the window (two snapshots) rather than since the server started.
type samples struct {
	mu   sync.Mutex
	byID map[string][]counters
}

// seen is the process-wide memory of counters, keyed by server address.
var seen = &samples{byID: map[string][]counters{}}

// maxSamples bounds what is kept per server.
const maxSamples = 64

// since records c for server id and returns the oldest earlier sample within window from the same
// server run; ok is false when there is none (the first look, or the server restarted).
func (s *samples) since(id string, c counters, window time.Duration) (counters, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keep []counters
	for _, old := range s.byID[id] {
		if c.at.Sub(old.at) <= window && sameRun(old.startedAt, c.startedAt) && !old.at.After(c.at) {
			keep = append(keep, old)
		}
	}
	var base counters
	ok := false
	for _, old := range keep {
		if old.at.Before(c.at) && (!ok || old.at.Before(base.at)) {
			base, ok = old, true
		}
	}
	keep = append(keep, c)
	if len(keep) > maxSamples {
		keep = keep[len(keep)-maxSamples:]
	}
	s.byID[id] = keep
	return base, ok
}

// sameRun reports whether two start times (now minus uptime, whole seconds) name one server run.
func sameRun(a, b time.Time) bool {
	d := a.Sub(b)
	return d > -5*time.Second && d < 5*time.Second
}
