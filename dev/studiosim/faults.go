package studiosim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// effects is the immutable, precomputed view of the active faults that request handlers read
// on every request without taking a lock.
type effects struct {
	latency      map[string]time.Duration // by endpoint; delays of several faults add up
	errorRate    map[string]float64       // by endpoint; rates combine as independent failures
	slowSQL      map[string]float64       // seconds by endpoint; "" applies to every endpoint
	openaiDelay  time.Duration
	openai429    float64
	crewFailures map[string]float64 // by agent; "" applies to every agent
	podMemory    map[string]float64 // working-set share of the limit, by pod name
	podCPU       float64            // CPU share of the limit on every pod; 0 when healthy
}

var noEffects = &effects{}

// sqlSleep is how many seconds of pg_sleep the endpoint's query must include.
func (e *effects) sqlSleep(endpoint string) float64 {
	return max(e.slowSQL[endpoint], e.slowSQL[""])
}

// crewFailure is the probability that one of agent's tasks fails.
func (e *effects) crewFailure(agent string) float64 {
	return combine(e.crewFailures[""], e.crewFailures[agent])
}

// hit draws whether an event of probability p happens.
func hit(p float64) bool {
	return p > 0 && (p >= 1 || rand.Float64() < p)
}

func combine(a, b float64) float64 { return 1 - (1-a)*(1-b) }

// activeFault is an injected fault and what undoes it.
type activeFault struct {
	fault    Fault
	undo     func(context.Context) error // releases what the fault holds; nil when nothing is held
	retained func() int64                // bytes held by memory_growth; nil otherwise
}

// faultSet holds the active faults. Writers take mu; readers load eff.
type faultSet struct {
	mu     sync.Mutex
	active map[string]*activeFault
	order  []string
	closed bool
	eff    atomic.Pointer[effects]
}

func newFaultSet() *faultSet {
	fs := &faultSet{active: map[string]*activeFault{}}
	fs.eff.Store(noEffects)
	return fs
}

func (fs *faultSet) effects() *effects { return fs.eff.Load() }

// rebuild recomputes the effects view; callers hold mu.
func (fs *faultSet) rebuild() {
	e := &effects{latency: map[string]time.Duration{}, errorRate: map[string]float64{}, slowSQL: map[string]float64{},
		crewFailures: map[string]float64{}, podMemory: map[string]float64{}}
	for _, id := range fs.order {
		f := fs.active[id].fault
		switch f.Kind {
		case KindLatency:
			e.latency[f.Endpoint] += f.Delay
		case KindErrors:
			e.errorRate[f.Endpoint] = combine(e.errorRate[f.Endpoint], f.Rate)
		case KindSlowSQL:
			e.slowSQL[f.Endpoint] = max(e.slowSQL[f.Endpoint], f.Seconds)
		case KindOpenAILatency:
			e.openaiDelay += f.Delay
		case KindOpenAI429:
			e.openai429 = combine(e.openai429, f.Rate)
		case KindCrewAIFailures:
			e.crewFailures[f.Agent] = combine(e.crewFailures[f.Agent], f.Rate)
		case KindPodMemory:
			e.podMemory[f.Pod] = max(e.podMemory[f.Pod], f.Rate)
		case KindPodCPU:
			e.podCPU = max(e.podCPU, f.Rate)
		}
	}
	fs.eff.Store(e)
}

// errInvalid marks errors caused by the caller's input (answered with 400).
type errInvalid struct{ err error }

func (e errInvalid) Error() string { return e.err.Error() }
func (e errInvalid) Unwrap() error { return e.err }

// errClosed is returned when a fault is injected while the server shuts down.
var errClosed = errors.New("server is shutting down")

// InjectFault validates f, puts it into effect and returns it with its id.
// It returns once the fault is real: locks held, connections idle, keys written.
func (s *Server) InjectFault(ctx context.Context, f Fault) (Fault, error) {
	if err := f.Validate(s.opts.Pool, s.opts.Pods); err != nil {
		return Fault{}, errInvalid{err}
	}
	f.ID = s.opts.NewID()
	f.RetainedMB = 0
	af := &activeFault{fault: f}
	if err := s.startFault(ctx, af); err != nil {
		return Fault{}, fmt.Errorf("inject %s: %w", f.Kind, err)
	}
	af.fault.CreatedAt = s.opts.Now().UTC()
	fs := s.faults
	fs.mu.Lock()
	if fs.closed {
		fs.mu.Unlock()
		s.undoFault(context.WithoutCancel(ctx), af)
		return Fault{}, errClosed
	}
	fs.active[f.ID] = af
	fs.order = append(fs.order, f.ID)
	s.pods.advance() // the pods' counters run at the old effects up to now
	fs.rebuild()
	fs.mu.Unlock()
	s.metrics.faultsActive.WithLabelValues(string(f.Kind)).Inc()
	s.log.Warn("fault injected", af.fault.logAttrs()...)
	return af.fault, nil
}

// startFault acquires whatever the fault holds; pure request-path faults hold nothing.
func (s *Server) startFault(ctx context.Context, af *activeFault) error {
	var err error
	switch af.fault.Kind {
	case KindLock:
		af.undo, err = s.holdLock(ctx)
	case KindIdleInTx:
		af.undo, err = s.holdIdle(ctx, af.fault.Connections)
	case KindRedisMemory:
		af.undo, err = s.fillRedis(ctx, af.fault.ID, af.fault.MB)
	case KindMemoryGrowth:
		af.undo, af.retained = s.growMemory(af.fault.MBPerSec, af.fault.MaxMB)
	}
	return err
}

func (s *Server) undoFault(ctx context.Context, af *activeFault) error {
	if af.undo == nil {
		return nil
	}
	if err := af.undo(ctx); err != nil {
		return fmt.Errorf("clear fault %s (%s): %w", af.fault.ID, af.fault.Kind, err)
	}
	return nil
}

// ClearFault undoes one fault by id.
func (s *Server) ClearFault(ctx context.Context, id string) error {
	fs := s.faults
	fs.mu.Lock()
	af, ok := fs.active[id]
	if ok {
		delete(fs.active, id)
		for i, x := range fs.order {
			if x == id {
				fs.order = append(fs.order[:i:i], fs.order[i+1:]...)
				break
			}
		}
		s.pods.advance()
		fs.rebuild()
	}
	fs.mu.Unlock()
	if !ok {
		return fmt.Errorf("fault %q: %w", id, errNotFound)
	}
	s.metrics.faultsActive.WithLabelValues(string(af.fault.Kind)).Dec()
	err := s.undoFault(ctx, af)
	s.log.Info("fault cleared", "id", id, "kind", string(af.fault.Kind))
	return err
}

// ClearFaults undoes every active fault and reports every failure.
func (s *Server) ClearFaults(ctx context.Context) error {
	var errs []error
	for _, f := range s.Faults() {
		if err := s.ClearFault(ctx, f.ID); err != nil && !errors.Is(err, errNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Faults lists the active faults in injection order.
func (s *Server) Faults() []Fault {
	fs := s.faults
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := make([]Fault, 0, len(fs.order))
	for _, id := range fs.order {
		af := fs.active[id]
		f := af.fault
		if af.retained != nil {
			f.RetainedMB = float64(af.retained()) / (1 << 20)
		}
		out = append(out, f)
	}
	return out
}

// closeFaults refuses new faults and clears the active ones.
func (s *Server) closeFaults(ctx context.Context) error {
	s.faults.mu.Lock()
	s.faults.closed = true
	s.faults.mu.Unlock()
	return s.ClearFaults(ctx)
}
