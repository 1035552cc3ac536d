package bot

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/perfbot/perfbot/handlers"
)

// liveMessage is the placeholder a report grows in: posted at once, then updated in place,
// at most once per `every` (chat.update is rate limited), by one goroutine.
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

// progress is the handlers.Progress callback: the first call posts the placeholder.
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
	text, blocks := RenderProgress(s.Command, s.Service, 0, s.Total, nil)
	ts, err := l.b.post(context.Background(), l.channel, l.threadTS, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	if err != nil {
		l.b.log.Warn("placeholder failed", "channel", l.channel, "err", err)
		return
	}
	l.ts = ts
	l.quit, l.done = make(chan struct{}), make(chan struct{})
	go l.loop()
}

func (l *liveMessage) loop() {
	defer close(l.done)
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
	s := l.step
	sections := append([]handlers.Section(nil), l.sections...)
	l.mu.Unlock()
	text, blocks := RenderProgress(s.Command, s.Service, s.Done, s.Total, sections)
	_, _, _, err := l.b.api.UpdateMessageContext(context.Background(), l.channel, l.ts, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	var rl *slack.RateLimitedError
	if err != nil && !asRateLimit(err, &rl) {
		l.b.log.Warn("progress update failed", "channel", l.channel, "err", err)
	}
}

// stop ends the updates; the caller then writes the final message.
func (l *liveMessage) stop() {
	l.mu.Lock()
	quit, done := l.quit, l.done
	l.mu.Unlock()
	if quit != nil {
		close(quit)
		<-done
	}
}

func asRateLimit(err error, target **slack.RateLimitedError) bool { return errors.As(err, target) }
