package probes

import (
	"sync"
	"time"
)

// Coalescer lets concurrent commands share probe runs: while a probe for the same service, window and
// evaluation time is running, others wait for its result instead of querying the backend again, and a
// finished result is reused until it expires. During an incident storm (dozens of people running
// /perf assess) the backends see one query per probe per time bucket, not one per person.
// Failed runs are shared only while in flight, never reused afterwards.
//
// With Remote set, the run this process would do is shared with the other replicas too (see
// RedisShare): one replica runs it, the others read its result.
type Coalescer struct {
	TTL    time.Duration
	Remote Remote

	mu      sync.Mutex
	entries map[coalesceKey]*coalesceEntry
}

type coalesceKey struct {
	probe, variant, service string
	window                  time.Duration
	at                      int64
}

type coalesceEntry struct {
	done    chan struct{}
	res     Result
	expires time.Time
}

// join returns the entry for key and whether the caller must run the probe and call finish.
func (c *Coalescer) join(key coalesceKey, now time.Time) (*coalesceEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[coalesceKey]*coalesceEntry{}
	}
	if e, ok := c.entries[key]; ok {
		select {
		case <-e.done:
			if now.Before(e.expires) {
				return e, false
			}
		default:
			return e, false
		}
	}
	for k, e := range c.entries { // drop expired entries so the map stays small
		select {
		case <-e.done:
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		default:
		}
	}
	e := &coalesceEntry{done: make(chan struct{})}
	c.entries[key] = e
	return e, true
}

// finish publishes a result to the waiters; only successful results stay for later callers.
func (c *Coalescer) finish(key coalesceKey, e *coalesceEntry, res Result, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e.res = res
	e.expires = now.Add(c.TTL)
	if res.Err != nil {
		delete(c.entries, key)
	}
	close(e.done)
}
