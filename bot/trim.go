package bot

import (
	"context"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// defaultTrimAfter is how long the bot stays idle after a burst of work before it hands the memory the
// burst used back to the operating system (Options.TrimAfter). Go's runtime returns freed memory only gradually; a bot that
// answered a storm of commands would otherwise keep the storm's resident size for minutes, which is
// what a container's memory limit and its dashboards see.
const defaultTrimAfter = 10 * time.Second

// activity tracks the worker pool for trimming: jobs running, when the last one ended, and whether
// any ran since the last trim.
type activity struct {
	running atomic.Int32
	last    atomic.Int64 // unix nanoseconds
	worked  atomic.Bool
	trims   atomic.Int64
}

func (a *activity) start() { a.running.Add(1) }

func (a *activity) end() {
	a.last.Store(time.Now().UnixNano())
	a.worked.Store(true)
	a.running.Add(-1)
}

// Trims counts how often the bot returned memory after a burst of work.
func (b *Bot) Trims() int64 { return b.act.trims.Load() }

// trimWhenIdle returns freed memory to the OS once per burst, Options.TrimAfter after the last job of
// it ended, until ctx ends.
func (b *Bot) trimWhenIdle(ctx context.Context) {
	trimAfter := b.opts.TrimAfter
	t := time.NewTicker(trimAfter / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		a := &b.act
		if !a.worked.Load() || a.running.Load() > 0 || len(b.jobs) > 0 ||
			time.Since(time.Unix(0, a.last.Load())) < trimAfter {
			continue
		}
		a.worked.Store(false)
		debug.FreeOSMemory()
		a.trims.Add(1)
		b.log.Debug("idle after a burst of work: memory returned to the operating system")
	}
}
