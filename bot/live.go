package bot

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/perfbot/perfbot/handlers"
)

// slackCallTimeout bounds one Web API call made while a command runs.
const slackCallTimeout = 15 * time.Second

// placeholderBudget bounds how long a placeholder may wait for its turn (rate limits) to be posted.
const placeholderBudget = time.Minute

// liveMessage is the placeholder a report grows in: posted by its own goroutine as soon as the command
// starts (so a slow or rate-limited Slack never eats the probes' deadline), then updated in place at
// most once per `every`. stop ends it and says which message, if any, now holds the command: a
// placeholder still waiting for its turn is never sent, and one already sent is always waited for, so
// no placeholder is left behind that the answer does not replace.
type liveMessage struct {
	b     *Bot
	req   commandRequest
	every time.Duration

	ctx    context.Context // the placeholder's life: cancelled by stop
	cancel context.CancelFunc

	mu       sync.Mutex
	started  bool
	ts       string
	step     handlers.Step
	sections []handlers.Section
	dirty    bool
	done     chan struct{}
}

func (b *Bot) newLive(req commandRequest) *liveMessage {
	ctx, cancel := context.WithTimeout(context.Background(), placeholderBudget)
	// A command taken up again continues in the message its earlier run left: its answer, or else
	// its placeholder.
	ts := req.replay[markAnswer]
	if ts == "" {
		ts = req.replay[markPlaceholder]
	}
	return &liveMessage{b: b, req: req, every: b.opts.UpdateEvery, ctx: ctx, cancel: cancel, ts: ts}
}

// progress is the handlers.Progress callback; it never waits for Slack.
func (l *liveMessage) progress(s handlers.Step) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.step = s
	if s.Done > 0 {
		l.sections = append(l.sections, s.Last)
		l.dirty = true
		return
	}
	if l.started || l.ctx.Err() != nil {
		return
	}
	l.started, l.done = true, make(chan struct{})
	go l.loop(s)
}

func (l *liveMessage) loop(first handlers.Step) {
	defer close(l.done)
	l.mu.Lock()
	ts := l.ts
	l.mu.Unlock()
	if ts == "" {
		text, blocks := RenderProgress(first.Command, first.Service, 0, first.Total, nil)
		posted, err := l.b.post(l.ctx, l.req.channel, l.req.threadTS, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
		if err != nil {
			if l.ctx.Err() == nil { // else the answer was ready first and goes out in its stead
				l.b.log.Warn("placeholder failed", "channel", l.req.channel, "err", err)
			}
			return
		}
		l.b.mark(l.req.entry, markPlaceholder, posted)
		l.mu.Lock()
		l.ts = posted
		l.mu.Unlock()
	}
	t := time.NewTicker(l.every)
	defer t.Stop()
	for {
		select {
		case <-l.ctx.Done():
			return
		case <-t.C:
			l.flush()
		}
	}
}

// flush shows the progress so far. While Slack throttles chat.update it skips the update and keeps
// the progress for the next tick, so throttled progress is coalesced into one later update.
func (l *liveMessage) flush() {
	l.mu.Lock()
	if !l.dirty {
		l.mu.Unlock()
		return
	}
	l.dirty = false
	s, ts := l.step, l.ts
	sections := append([]handlers.Section(nil), l.sections...)
	l.mu.Unlock()
	text, blocks := RenderProgress(s.Command, s.Service, s.Done, s.Total, sections)
	ctx, cancel := context.WithTimeout(skipWhenThrottled(context.Background()), slackCallTimeout)
	defer cancel()
	err := l.b.update(ctx, l.req.channel, ts, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	var rl *slack.RateLimitedError
	switch {
	case errors.As(err, &rl):
		l.mu.Lock()
		l.dirty = true
		l.mu.Unlock()
	case err != nil:
		l.b.log.Warn("progress update failed", "channel", l.req.channel, "err", err)
	}
}

// stop ends the updates and returns the placeholder's timestamp ("" when none was posted).
func (l *liveMessage) stop() string {
	l.mu.Lock()
	l.cancel() // under the lock: progress starts no placeholder after this
	started := l.started
	l.mu.Unlock()
	if started {
		<-l.done
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ts
}
