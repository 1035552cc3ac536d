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

// liveMessage is the placeholder a report grows in: posted by its own goroutine as soon as the command
// starts (so a slow or rate-limited Slack never eats the probes' deadline), then updated in place at
// most once per `every` (chat.update is rate limited).
type liveMessage struct {
	b        *Bot
	channel  string
	threadTS string
	every    time.Duration

	mu       sync.Mutex
	ts       string
	step     handlers.Step
	sections []handlers.Section
	dirty    bool
	quit     chan struct{}
	done     chan struct{}
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
	if l.quit != nil {
		return
	}
	l.quit, l.done = make(chan struct{}), make(chan struct{})
	go l.loop(s)
}

func (l *liveMessage) loop(first handlers.Step) {
	defer close(l.done)
	select {
	case <-l.quit:
		return // finished before the placeholder went out: the report is posted directly
	default:
	}
	text, blocks := RenderProgress(first.Command, first.Service, 0, first.Total, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	go func() { // a report that finishes while the placeholder waits for its turn makes it unnecessary
		select {
		case <-l.quit:
			cancel()
		case <-ctx.Done():
		}
	}()
	ts, err := l.b.post(ctx, l.channel, l.threadTS, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	cancel()
	if err != nil {
		select {
		case <-l.quit: // the report was ready first; it is posted directly
		default:
			l.b.log.Warn("placeholder failed", "channel", l.channel, "err", err)
		}
		return
	}
	l.mu.Lock()
	l.ts = ts
	l.mu.Unlock()
	t := time.NewTicker(l.every)
	defer t.Stop()
	for {
		select {
		case <-l.quit:
			return
		case <-t.C:
			l.flush()
		}
	}
}

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
	ctx, cancel := context.WithTimeout(context.Background(), slackCallTimeout)
	defer cancel()
	_, _, _, err := l.b.api.UpdateMessageContext(ctx, l.channel, ts, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	var rl *slack.RateLimitedError
	if err != nil && !asRateLimit(err, &rl) { // a skipped progress update is fine; the final one is retried
		l.b.log.Warn("progress update failed", "channel", l.channel, "err", err)
	}
}

// stop ends the updates and returns the placeholder's timestamp ("" when none was posted).
func (l *liveMessage) stop() string {
	l.mu.Lock()
	quit, done := l.quit, l.done
	l.mu.Unlock()
	if quit != nil {
		close(quit)
		<-done
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ts
}

func asRateLimit(err error, target **slack.RateLimitedError) bool { return errors.As(err, target) }

// update replaces a message, waiting out Slack's rate limit (Retry-After) a few times.
func (b *Bot) update(ctx context.Context, channel, ts string, opts ...slack.MsgOption) error {
	for attempt := 0; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, slackCallTimeout)
		_, _, _, err := b.api.UpdateMessageContext(cctx, channel, ts, opts...)
		cancel()
		var rl *slack.RateLimitedError
		if err == nil || attempt == 30 || !asRateLimit(err, &rl) {
			return err
		}
		select {
		case <-time.After(rl.RetryAfter + jitter()):
		case <-ctx.Done():
			return err
		}
	}
}
