package probes

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/perfbot/perfbot/internal/textfmt"
)

// Runner runs probes concurrently under one deadline and gives each its own timeout.
type Runner struct {
	// Timeout is each probe's own limit; the command's deadline (ctx) still applies.
	Timeout time.Duration
	Log     *slog.Logger
	// Share, when set, lets concurrent commands share identical probe runs.
	Share *Coalescer
}

// errProbeTimeout is the cause recorded when a probe's own timeout fires.
var errProbeTimeout = errors.New("probe timeout")

// Run runs every probe against env and returns their results in the order given.
// Each result arrives even if its probe failed, hung or panicked; onDone (may be nil) is told as each finishes.
func (r Runner) Run(ctx context.Context, env *Env, list []Probe, onDone func(done int, res Result)) []Result {
	results := make([]Result, len(list))
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for i, p := range list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := r.runOne(ctx, env, p)
			mu.Lock()
			results[i] = res
			done++
			n := done
			if onDone != nil {
				onDone(n, res)
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return results
}

// runOne runs a probe, or waits for an identical run already under way when results are shared.
func (r Runner) runOne(parent context.Context, env *Env, p Probe) Result {
	if r.Share == nil {
		return r.runAlone(parent, env, p)
	}
	key := coalesceKey{probe: p.Name, variant: p.Variant, service: env.Service.Name, window: env.Window, at: env.Now.UnixNano()}
	e, mine := r.Share.join(key, time.Now())
	if mine {
		var res Result
		if r.Share.Remote != nil {
			res = r.Share.Remote.Share(parent, shareKey(key, env), func() Result { return r.runAlone(parent, env, p) })
			res.Probe, res.Title = p.Name, p.Title
		} else {
			res = r.runAlone(parent, env, p)
		}
		r.Share.finish(key, e, res, time.Now())
		return res
	}
	start := time.Now()
	select {
	case <-e.done:
		return e.res
	case <-parent.Done():
		return Result{Probe: p.Name, Title: p.Title, Status: Unknown, Err: context.Cause(parent), TimedOut: true,
			Duration: time.Since(start), Summary: "timed out waiting for a shared run"}
	}
}

// runAlone runs a probe in its own goroutine so a probe that ignores ctx cannot hold the report back.
func (r Runner) runAlone(parent context.Context, env *Env, p Probe) Result {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 4 * time.Second
	}
	ctx, cancel := context.WithTimeoutCause(parent, timeout, fmt.Errorf("%w after %s", errProbeTimeout, timeout))
	defer cancel()
	start := time.Now()
	ch := make(chan Result, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				ch <- Result{Err: fmt.Errorf("probe %s panicked: %v", p.Name, v)}
			}
		}()
		res, err := p.Run(ctx, env)
		res.Err = err
		ch <- res
	}()
	var res Result
	select {
	case res = <-ch:
	case <-ctx.Done():
		res = Result{Err: context.Cause(ctx)}
	}
	res.Probe, res.Title = p.Name, p.Title
	res.Duration = time.Since(start)
	// A finding that could not be checked says why in its backend's words: redact them like a failed probe's.
	for i := range res.Findings {
		if res.Findings[i].Status == Unknown {
			res.Findings[i].Message = RedactText(res.Findings[i].Message)
		}
	}
	if res.Err != nil {
		res.TimedOut = ctx.Err() != nil || isTimeout(res.Err)
		res.Status = Unknown
		res.Summary = describeFailure(res, timeout)
		if r.Log != nil {
			r.Log.Warn("probe failed", "probe", p.Name, "duration", res.Duration, "timed_out", res.TimedOut, "err", res.Err)
		}
	}
	return res
}

// isTimeout reports whether err says a backend did not answer in time (a deadline, or a network timeout
// set from it), as opposed to refusing or failing.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// describeFailure says in a line why a probe has no result. Everyone in the channel reads it, so a
// backend's error passes through RedactText (URL credentials, token=…, e-mails), loses the user
// name a database driver names, and is cut to maxErrRunes.
func describeFailure(res Result, timeout time.Duration) string {
	switch {
	case errors.Is(res.Err, ErrNotConfigured):
		return "not configured"
	case res.TimedOut:
		return fmt.Sprintf("timed out after %s", res.Duration.Round(time.Millisecond))
	default:
		line, _, _ := strings.Cut(res.Err.Error(), "\n")
		line = redactUser.ReplaceAllString(RedactText(line), "${1}…")
		return "unreachable: " + textfmt.Truncate(line, maxErrRunes)
	}
}

// maxErrRunes bounds a failed section's error text, the ellipsis of a cut included.
const maxErrRunes = 200

// redactUser finds the user a driver error names, as in pgx's "failed to connect to `user=u database=d`".
var redactUser = regexp.MustCompile(`(?i)\b(user(?:name)?\s*=\s*)[^\s` + "`" + `'",;]+`)
