package probes

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/perfbot/perfbot/config"
)

func testEnv() *Env {
	return &Env{Service: config.Default().Services[0], Now: time.Unix(1700000000, 0), Window: time.Minute}
}

// TestRunnerRecordsWhoWasSlowOrFailed: one deadline, a timeout per probe, and every result arrives
// in order even when a probe hangs ignoring ctx, fails or panics.
func TestRunnerRecordsWhoWasSlowOrFailed(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	list := []Probe{
		{Name: "ok", Run: func(context.Context, *Env) (Result, error) {
			r := Result{}
			r.Add(Finding{Check: "x", Status: Warn})
			return r, nil
		}},
		{Name: "hangs", Run: func(context.Context, *Env) (Result, error) { <-block; return Result{}, nil }},
		{Name: "fails", Run: func(context.Context, *Env) (Result, error) { return Result{}, errors.New("connection refused") }},
		{Name: "panics", Run: func(context.Context, *Env) (Result, error) { panic("boom") }},
		{Name: "off", Run: func(context.Context, *Env) (Result, error) { return Result{}, ErrNotConfigured }},
	}
	var calls atomic.Int32
	start := time.Now()
	res := Runner{Timeout: 200 * time.Millisecond}.Run(context.Background(), testEnv(), list, func(int, Result) { calls.Add(1) })
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("runner waited %s for a hung probe", d)
	}
	if calls.Load() != int32(len(list)) {
		t.Errorf("progress told %d times, want %d", calls.Load(), len(list))
	}
	want := []struct {
		status   Status
		timedOut bool
		summary  string
	}{{Warn, false, ""}, {Unknown, true, "timed out"}, {Unknown, false, "unreachable: connection refused"}, {Unknown, false, "panicked"}, {Unknown, false, "not configured"}}
	for i, w := range want {
		r := res[i]
		if r.Probe != list[i].Name || r.Status != w.status || r.TimedOut != w.timedOut || !strings.Contains(r.Summary+errString(r.Err), w.summary) {
			t.Errorf("%s: status %s timedOut %v summary %q err %v", list[i].Name, r.Status, r.TimedOut, r.Summary, r.Err)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestCoalescerSharesOneRun: concurrent identical probes run once; a failure is not reused afterwards.
func TestCoalescerSharesOneRun(t *testing.T) {
	var runs atomic.Int32
	release := make(chan struct{})
	slow := Probe{Name: "slow", Run: func(context.Context, *Env) (Result, error) {
		runs.Add(1)
		<-release
		return Result{Summary: "done"}, nil
	}}
	r := Runner{Timeout: 5 * time.Second, Share: &Coalescer{TTL: time.Minute}}
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if got := r.Run(context.Background(), testEnv(), []Probe{slow}, nil); got[0].Summary != "done" {
				t.Errorf("shared result = %+v", got[0])
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	close(release)
	wg.Wait()
	if n := runs.Load(); n != 1 {
		t.Errorf("probe ran %d times for 10 identical requests", n)
	}
	other := testEnv()
	other.Now = other.Now.Add(time.Second)
	r.Run(context.Background(), other, []Probe{slow}, nil)
	if n := runs.Load(); n != 2 {
		t.Errorf("a later instant reused the earlier result (runs = %d)", n)
	}

	variant := slow
	variant.Variant = "another pattern"
	r.Run(context.Background(), other, []Probe{variant}, nil)
	if n := runs.Load(); n != 3 {
		t.Errorf("a run with other arguments reused a result (runs = %d)", n)
	}

	var fails atomic.Int32
	failing := Probe{Name: "failing", Run: func(context.Context, *Env) (Result, error) { fails.Add(1); return Result{}, errors.New("down") }}
	r.Run(context.Background(), testEnv(), []Probe{failing}, nil)
	r.Run(context.Background(), testEnv(), []Probe{failing}, nil)
	if n := fails.Load(); n != 2 {
		t.Errorf("a failed run was reused (runs = %d)", n)
	}
}
