package studiosim

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// openai_api_errors_total types.
const (
	errRateLimit = "rate_limit"
	errServer    = "server_error"
	errTimeout   = "timeout"
)

// openaiTimeout is the simulated client's per-call timeout.
const openaiTimeout = 30 * time.Second

// aiError is a failed simulated AI API call.
type aiError struct {
	kind   string // one of the openai_api_errors_total types
	status int
}

func (e *aiError) Error() string {
	switch e.kind {
	case errRateLimit:
		return "openai: 429 rate limit exceeded"
	case errTimeout:
		return "openai: request timed out"
	}
	return "openai: server error"
}

// jittered draws a log-normal latency around median: most calls near it, a long right tail.
func jittered(median time.Duration) time.Duration {
	return time.Duration(float64(median) * math.Exp(0.35*rand.NormFloat64()))
}

// callOpenAI simulates one chat completion: real waiting, the openai_latency and openai_429
// faults, and the runbook's AI metrics and log lines.
func (s *Server) callOpenAI(ctx context.Context, agent, model string) error {
	eff := s.faults.effects()
	s.metrics.aiCalls.WithLabelValues(providerOpenAI).Inc()
	start := time.Now()
	var callErr *aiError
	if hit(eff.openai429) {
		callErr = &aiError{kind: errRateLimit, status: 429}
		if err := sleep(ctx, jittered(s.opts.OpenAILatency/10)); err != nil {
			return err
		}
	} else {
		d := jittered(s.opts.OpenAILatency) + eff.openaiDelay
		if d > openaiTimeout {
			d, callErr = openaiTimeout, &aiError{kind: errTimeout, status: 408}
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
	d := time.Since(start)
	s.metrics.openaiDur.WithLabelValues(model).Observe(d.Seconds())
	s.openai.add(d, callErr != nil)
	if callErr == nil {
		return nil
	}
	s.metrics.openaiErrors.WithLabelValues(callErr.kind).Inc()
	switch callErr.kind {
	case errRateLimit:
		s.log.Warn("openai rate limit hit", "status", 429, "agent", agent, "model", model, "retry_after", "1s")
	case errTimeout:
		s.log.Error("openai request timeout", "agent", agent, "model", model, "waited", d)
	}
	return callErr
}

// callOpenAIRetrying retries rate-limited calls with exponential backoff, like the OpenAI SDK.
func (s *Server) callOpenAIRetrying(ctx context.Context, agent, model string) error {
	backoff := s.opts.RetryBackoff
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		err = s.callOpenAI(ctx, agent, model)
		var ae *aiError
		if !errors.As(err, &ae) || ae.kind != errRateLimit {
			return err
		}
		if attempt < 2 {
			if serr := sleep(ctx, backoff); serr != nil {
				return serr
			}
			backoff *= 2
		}
	}
	return err
}

// callAnthropic simulates a call to the second provider; faults target OpenAI only.
func (s *Server) callAnthropic(ctx context.Context) error {
	s.metrics.aiCalls.WithLabelValues(providerAnthropic).Inc()
	return sleep(ctx, jittered(s.opts.OpenAILatency*4/5))
}

// recentCalls remembers the outcome of the last OpenAI calls for the passive health check.
type recentCalls struct {
	mu   sync.Mutex
	lat  []time.Duration
	errs []bool
	next int
	n    int
}

func newRecentCalls(size int) *recentCalls {
	return &recentCalls{lat: make([]time.Duration, size), errs: make([]bool, size)}
}

func (r *recentCalls) add(d time.Duration, failed bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lat[r.next], r.errs[r.next] = d, failed
	r.next = (r.next + 1) % len(r.lat)
	r.n = min(r.n+1, len(r.lat))
}

// stats returns the median latency and the error fraction of the remembered calls.
func (r *recentCalls) stats() (calls int, median time.Duration, errRate float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == 0 {
		return 0, 0, 0
	}
	lat := slices.Clone(r.lat[:r.n])
	failed := 0
	for _, e := range r.errs[:r.n] {
		if e {
			failed++
		}
	}
	slices.Sort(lat)
	return r.n, lat[r.n/2], float64(failed) / float64(r.n)
}
