package bot

import (
	"context"
	"encoding/json"
	"time"

	"github.com/slack-go/slack"

	"github.com/perfbot/perfbot/journal"
)

// Journal keeps accepted work until it is done, so work acked by a replica that then dies is done by
// another (see package journal). Options.Journal may be nil: work then lives only in memory.
type Journal interface {
	Accept(ctx context.Context, id, kind string, payload []byte) (bool, error)
	Mark(ctx context.Context, id, key, value string) error
	Done(ctx context.Context, id string) error
	Abandon(ctx context.Context, id string) error
	Release(ctx context.Context, id string) error
	Renew(ctx context.Context) error
	Claim(ctx context.Context, limit int) ([]journal.Entry, error)
	Forget(ctx context.Context, age time.Duration) (int64, error)
	Lease() time.Duration
}

// keepDone is how long finished work stays in the journal (for a look after an incident); older
// entries are deleted about every forgetEvery.
const (
	keepDone    = 24 * time.Hour
	forgetEvery = 10 * time.Minute
)

// Progress keys a command's journal entry carries.
const (
	markPlaceholder = "placeholder" // ts of the message that shows the command's progress
	markAnswer      = "answer"      // ts of the message that holds its answer
	markFiles       = "files"       // "posted": its charts and overflow files are in the thread
)

// journalCallTimeout bounds one journal write; the socket reader waits for Accept before it acks.
const journalCallTimeout = 2 * time.Second

// journaledKinds are the envelopes whose work is journaled: Slack does not deliver them again once
// acked. Interactions are not: a click that is lost is clicked again, and the buttons stay.
var journaledKinds = map[string]bool{"slash_commands": true, "events_api": true}

// accept journals an envelope's work before it is acked. It reports whether to hand the envelope on:
// false for a delivery of work the journal already holds. When the journal cannot be written the
// work is handed on unjournaled (it still runs, it is only not safe from a crash).
func (b *Bot) accept(in *inbound) bool {
	if b.opts.Journal == nil || !journaledKinds[in.typ] {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), journalCallTimeout)
	defer cancel()
	fresh, err := b.opts.Journal.Accept(ctx, in.id, in.typ, in.raw)
	if err != nil {
		b.log.Warn("journal unavailable; running the work without it", "envelope", in.id, "err", err)
		return true
	}
	in.journaled = fresh
	return fresh
}

// mark records how far a journaled command got.
func (b *Bot) mark(id, key, value string) {
	if id == "" || b.opts.Journal == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), journalCallTimeout)
	defer cancel()
	if err := b.opts.Journal.Mark(ctx, id, key, value); err != nil {
		b.log.Warn("journal mark failed", "entry", id, "key", key, "err", err)
	}
}

// finish closes a journaled piece of work: done, or (when the bot is stopping before it ran) left to
// the next replica that claims it.
func (b *Bot) finish(id string, done bool) {
	if id == "" || b.opts.Journal == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), journalCallTimeout)
	defer cancel()
	var err error
	if done {
		err = b.opts.Journal.Done(ctx, id)
	} else {
		err = b.opts.Journal.Release(ctx, id)
	}
	if err != nil {
		b.log.Warn("journal update failed", "entry", id, "done", done, "err", err)
	}
}

// Work older than answerable is not taken up again: a slash command's response_url lasts 30 minutes.
const answerable = 25 * time.Minute

// maxAttempts is how many replicas may take one piece of work before it is given up (work that
// crashes whoever runs it must not go round for ever).
const maxAttempts = 3

// recover renews this replica's leases and takes up lapsed work until ctx ends: at once (work left
// by a replica that died, or by this one before a restart), then every third of a lease.
func (b *Bot) recover(ctx context.Context) {
	j := b.opts.Journal
	every := max(j.Lease()/3, 100*time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	var forgot time.Time
	for {
		b.claim(ctx)
		if time.Since(forgot) >= forgetEvery {
			forgot = time.Now()
			fctx, cancel := context.WithTimeout(ctx, journalCallTimeout)
			if n, err := j.Forget(fctx, keepDone); err != nil {
				b.log.Warn("journal cleanup failed", "err", err)
			} else if n > 0 {
				b.log.Debug("journal cleanup", "deleted", n)
			}
			cancel()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, journalCallTimeout)
		if err := j.Renew(rctx); err != nil {
			b.log.Warn("journal renew failed", "err", err)
		}
		cancel()
	}
}

// claim takes lapsed work, as much as the queue has room for, and hands it on as if just received.
func (b *Bot) claim(ctx context.Context) {
	room := cap(b.jobs) - len(b.jobs)
	if room <= 0 || b.isStopping() {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, journalCallTimeout)
	defer cancel()
	entries, err := b.opts.Journal.Claim(cctx, min(room, 16))
	if err != nil {
		b.log.Warn("journal claim failed", "err", err)
		return
	}
	for _, e := range entries {
		if time.Since(e.Created) > answerable || e.Attempts > maxAttempts {
			b.giveUp(e)
			continue
		}
		b.log.Info("taking up work another run left unfinished", "entry", e.ID, "kind", e.Kind, "attempt", e.Attempts)
		b.dispatch(inbound{id: e.ID, typ: e.Kind, raw: e.Payload, journaled: true, replay: e.Progress})
	}
}

// giveUp closes work that will not be done and, for a command, tells its user while the
// response_url still works.
func (b *Bot) giveUp(e journal.Entry) {
	b.log.Error("giving up work left unfinished", "entry", e.ID, "kind", e.Kind, "attempts", e.Attempts, "accepted", e.Created)
	ctx, cancel := context.WithTimeout(context.Background(), slackCallTimeout)
	defer cancel()
	if err := b.opts.Journal.Abandon(ctx, e.ID); err != nil {
		b.log.Warn("journal abandon failed", "entry", e.ID, "err", err)
	}
	if e.Kind != "slash_commands" || time.Since(e.Created) > 30*time.Minute {
		return
	}
	var env struct {
		Payload slack.SlashCommand `json:"payload"`
	}
	if json.Unmarshal(e.Payload, &env) != nil {
		return
	}
	cmd := env.Payload
	b.tell(ctx, commandRequest{user: cmd.UserID, channel: cmd.ChannelID, text: cmd.Text, responseURL: cmd.ResponseURL},
		":warning: perfbot could not finish "+code("/perf "+cmd.Text, 300)+" (it was interrupted "+
			"more than once). Please run it again.")
}
