package slackserver

import (
	"math"
	"sync"
	"time"
)

// tierPerMinute are the per-method limits (calls per minute per workspace) applied by
// default; with RateLimits.Tiers every method gets its documented tier's limit instead.
// A full minute's worth may be spent at once.
var tierPerMinute = map[string]int{
	"chat.update":                   50,  // tier 3
	"conversations.create":          20,  // tier 2
	"canvases.create":               20,  // tier 2
	"conversations.canvases.create": 20,  // tier 2
	"files.getUploadURLExternal":    100, // tier 4
	"files.completeUploadExternal":  100, // tier 4
}

// tierCalls is each rate-limit tier's calls per minute, as Slack documents them (at least
// that many; bursts tolerated). Tier t5 is "special": chat.postMessage's per-channel
// limit; the other special methods (auth.test) have no documented number and stay unlimited.
var tierCalls = map[string]int{"t1": 1, "t2": 20, "t3": 50, "t4": 100}

// perMinute is the workspace-wide limit of a method in calls per minute (0: none).
func (cfg RateLimits) perMinute(name string) int {
	if n, ok := cfg.PerMinute[name]; ok {
		return n
	}
	if cfg.Tiers {
		return tierCalls[methodSpecs[name].tier]
	}
	return tierPerMinute[name]
}

// limiter is a set of token buckets keyed by method (and channel for chat.postMessage).
type limiter struct {
	cfg     RateLimits
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(cfg RateLimits) *limiter {
	if cfg.PostMessagePerSecond <= 0 {
		cfg.PostMessagePerSecond = 1
	}
	if cfg.PostMessageBurst <= 0 {
		cfg.PostMessageBurst = 4
	}
	return &limiter{cfg: cfg, buckets: map[string]*bucket{}}
}

// take spends one token of key's bucket; when empty it returns the whole seconds to wait.
func (l *limiter) take(key string, perSecond float64, burst int, now time.Time) (int, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: float64(burst), last: now}
		l.buckets[key] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(float64(burst), b.tokens+el*perSecond)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	wait := int(math.Ceil((1 - b.tokens) / perSecond))
	return max(wait, 1), false
}

// limit applies the per-channel chat.postMessage limit and the per-method tier limit;
// it returns the Retry-After seconds and true when the call must be refused.
func (s *Server) limit(name string, m method, c *call) (int, bool) {
	cfg := s.limiter.cfg
	if cfg.Disabled {
		return 0, false
	}
	now := s.clock.Now()
	if m.limitKey != nil {
		if wait, ok := s.limiter.take(name+"/"+m.limitKey(s, c), cfg.PostMessagePerSecond, cfg.PostMessageBurst, now); !ok {
			return wait, true
		}
	}
	perMin := cfg.perMinute(name)
	if perMin <= 0 {
		return 0, false
	}
	burst := perMin
	if cfg.Burst > 0 {
		burst = min(burst, cfg.Burst)
	}
	if wait, ok := s.limiter.take(name, float64(perMin)/60, burst, now); !ok {
		return wait, true
	}
	return 0, false
}
