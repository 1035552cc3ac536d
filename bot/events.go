package bot

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack/slackevents"

	"github.com/perfbot/perfbot/handlers"
)

// onEventsAPI turns the events the timeline cares about into EventRecords, once per event_id in this process
// (the incident store de-duplicates across replicas).
// onEventsAPI queues an event's work; it reports whether a job was queued (the job then closes the
// event's journal entry).
func (b *Bot) onEventsAPI(ev slackevents.EventsAPIEvent, retry int, entry string) bool {
	cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent)
	if !ok || b.opts.Hooks == nil {
		return false
	}
	if b.seen.has(cb.EventID) {
		b.log.Debug("duplicate event ignored", "event_id", cb.EventID, "retry", retry)
		return false
	}
	rec := handlers.EventRecord{ID: cb.EventID, EventTime: time.Unix(int64(cb.EventTime), 0).UTC()}
	switch e := ev.InnerEvent.Data.(type) {
	case *slackevents.ReactionAddedEvent:
		rec.Type, rec.User, rec.Channel, rec.ItemTS, rec.Reaction = "reaction_added", e.User, e.Item.Channel, e.Item.Timestamp, e.Reaction
		rec.EventTime = tsTime(e.EventTimestamp, rec.EventTime)
	case *slackevents.PinAddedEvent:
		rec.Type, rec.User, rec.Channel = "pin_added", e.User, e.Channel
		rec.EventTime = tsTime(e.EventTimestamp, rec.EventTime)
		if e.Item.Message != nil {
			rec.ItemTS = e.Item.Message.Timestamp
		}
	default:
		b.log.Debug("event ignored", "type", ev.InnerEvent.Type)
		return false
	}
	rec.Link = b.permalink(rec.Channel, rec.ItemTS)
	hooks := b.opts.Hooks
	// Remembered only once queued: an event dropped by a full queue is taken when Slack redelivers it.
	if !b.seen.first(cb.EventID) {
		return false
	}
	what := "event " + rec.Type + " " + cb.EventID
	if !b.submit(job{run: func(ctx context.Context) { hooks.EventSeen(ctx, rec) }, what: what, entry: entry}) {
		b.seen.forget(cb.EventID)
		if entry != "" {
			b.log.Warn("event left in the journal: queue full", "event_id", cb.EventID, "type", rec.Type)
			b.finish(entry, false)
			return true
		}
		b.log.Warn("event dropped: queue full", "event_id", cb.EventID, "type", rec.Type)
	}
	return true
}

// seenSet remembers recent IDs so a redelivered envelope is handled once.
type seenSet struct {
	mu  sync.Mutex
	ids map[string]time.Time
}

func (s *seenSet) has(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.ids[id]
	return ok && id != ""
}

func (s *seenSet) forget(id string) {
	s.mu.Lock()
	delete(s.ids, id)
	s.mu.Unlock()
}

func (s *seenSet) first(id string) bool {
	if id == "" {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.ids == nil {
		s.ids = map[string]time.Time{}
	}
	if len(s.ids) > 10000 {
		for k, t := range s.ids {
			if now.Sub(t) > time.Hour {
				delete(s.ids, k)
			}
		}
	}
	if _, dup := s.ids[id]; dup {
		return false
	}
	s.ids[id] = now
	return true
}

// tsTime reads a Slack timestamp ("1700000000.123456") with its microseconds; def when it does not parse.
func tsTime(ts string, def time.Time) time.Time {
	sec, frac, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return def
	}
	us, _ := strconv.ParseInt((frac + "000000")[:6], 10, 64)
	return time.Unix(s, us*1000).UTC()
}
