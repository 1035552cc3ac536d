package probes

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

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

// TestFailureTextIsRedactedAndShort: a section's error is shown to the whole channel, so credentials,
// tokens and user names in a backend's error are removed, and the text is cut at 200 runes on a rune.
func TestFailureTextIsRedactedAndShort(t *testing.T) {
	cases := []struct {
		name, err string
		want      string
		absent    []string
	}{
		{"dsn", "dial postgres://u:secret@h:5432/db: connection refused", "unreachable: dial postgres://…@h:5432/db: connection refused", []string{"secret", "u:"}},
		{"token", `Get "http://prom:9090/api/v1/query?token=abc&q=up": dial tcp: connection refused`, "", []string{"abc"}},
		{"pgx user", "failed to connect to `user=alice database=studio`: 127.0.0.1:5432 (h): server error: FATAL: role \"alice\" does not exist", "", []string{"user=alice"}},
		{"second line", "refused\npassword was hunter2", "unreachable: refused", []string{"hunter2"}},
		{"long", strings.Repeat("é", 300), "unreachable: " + strings.Repeat("é", 199) + "…", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := tc.err
			res := Runner{Timeout: time.Second}.Run(context.Background(), testEnv(), []Probe{{Name: "p",
				Run: func(context.Context, *Env) (Result, error) { return Result{}, errors.New(msg) }}}, nil)[0]
			got := res.Summary
			if !utf8.ValidString(got) || !strings.HasPrefix(got, "unreachable: ") {
				t.Fatalf("summary %q", got)
			}
			if tc.want != "" && got != tc.want {
				t.Errorf("summary = %q, want %q", got, tc.want)
			}
			for _, a := range tc.absent {
				if strings.Contains(got, a) {
					t.Errorf("summary %q shows %q", got, a)
				}
			}
			if n := utf8.RuneCountInString(got); n > len("unreachable: ")+200 {
				t.Errorf("summary is %d runes", n)
			}
		})
	}
}
