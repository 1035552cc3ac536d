package prom

import (
	"context"
	"sync"

	"github.com/prometheus/common/model"

	"github.com/perfbot/perfbot/probes"
)

// instants runs the queries concurrently at the evaluation time: a probe's wall time is its slowest
// query, not their sum. It returns the vectors in order, or the first error.
func instants(ctx context.Context, e *probes.Env, qs ...string) ([]model.Vector, error) {
	out := make([]model.Vector, len(qs))
	errs := make([]error, len(qs))
	var wg sync.WaitGroup
	for i, q := range qs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = instant(ctx, e, q)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// async runs f in the background; wait returns its outcome.
func async[T any](f func() (T, error)) (wait func() (T, error)) {
	var v T
	var err error
	done := make(chan struct{})
	go func() { defer close(done); v, err = f() }()
	return func() (T, error) { <-done; return v, err }
}
