package incidents

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// maxPageAttempts is how many times a failing page is tried before the escalation is marked
// fired anyway (with the failure in the timeline and an error in the log), so one broken user
// group cannot wedge the clock. A page that fails because the incident has no channel is not an
// attempt: it is retried every noChannelRetry until the channel exists.
const maxPageAttempts = 5

// noChannelRetry is how often a page waiting for its incident's channel is tried again.
const noChannelRetry = 30 * time.Second

// pageTimeout bounds one Page call, which runs while the escalation row is locked.
const pageTimeout = 20 * time.Second

// ErrNoChannel is what a Pager returns (possibly wrapped) when it cannot page because the
// incident has no channel yet. Such a page is retried without using up its attempts; so is any
// failed page of an incident whose ChannelID is empty.
var ErrNoChannel = errors.New("incident has no channel")

// FireDue pages every escalation due at now, one transaction each: the row is locked with
// FOR UPDATE SKIP LOCKED, paged, then marked fired with its escalated event, and committed.
// Concurrent callers never page one level at the same time. Paging is at least once, not exactly
// once: the page happens before the commit, so a process that dies mid-page, or after the page
// but before the commit, leaves the row unfired and the next claimer pages that level again. A
// page that fails is retried on later calls. It returns how many escalations fired.
func (s *Store) FireDue(ctx context.Context, now time.Time, claimer string, pager Pager) (int, error) {
	fired := 0
	for {
		found, ok, err := s.fireOne(ctx, now, claimer, pager)
		if ok {
			fired++
		}
		if err != nil || !found {
			return fired, err
		}
	}
}

// fireOne takes at most one due escalation (found) and reports whether its page succeeded (fired).
func (s *Store) fireOne(ctx context.Context, now time.Time, claimer string, pager Pager) (found, fired bool, err error) {
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		due, err := s.lockDue(ctx, tx, now, 1)
		if err != nil || len(due) == 0 {
			return err
		}
		found = true
		d := due[0]
		pctx, cancel := context.WithTimeoutCause(ctx, pageTimeout, errors.New("page timed out"))
		perr := pager.Page(pctx, d.inc, d.esc.Level)
		cancel()
		if perr != nil {
			return s.pageFailed(ctx, tx, d, now, claimer, perr)
		}
		if _, err := s.markFired(ctx, tx, d, now, claimer, "perfbot", nil); err != nil {
			return err
		}
		s.log.Info("escalated", "incident", d.inc.Number, "level", d.esc.Level.Number, "claimer", claimer)
		fired = true
		return nil
	})
	if err != nil {
		return found, false, fmt.Errorf("fire due escalation: %w", err)
	}
	return found, fired, nil
}

// pageFailed counts a failed page and backs the escalation off (so others behind it still fire);
// after maxPageAttempts it is marked fired with the failure in its timeline event. A page that
// failed for want of a channel is not counted (see waitForChannel).
func (s *Store) pageFailed(ctx context.Context, tx pgx.Tx, d dueEscalation, now time.Time, claimer string, perr error) error {
	if errors.Is(perr, ErrNoChannel) || d.inc.ChannelID == "" {
		return s.waitForChannel(ctx, tx, d, now, perr)
	}
	var attempts int
	err := tx.QueryRow(ctx, `UPDATE escalations SET attempts = attempts + 1, last_error = $3,
		retry_at = $4::timestamptz + (attempts + 1) * interval '30 seconds'
		WHERE incident_id = $1 AND level = $2 RETURNING attempts`,
		d.esc.IncidentID, d.esc.Level.Number, oneLine(perr.Error(), 500), now.UTC()).Scan(&attempts)
	if err != nil {
		return fmt.Errorf("count page attempt: %w", err)
	}
	if attempts < maxPageAttempts {
		s.log.Warn("page failed", "incident", d.inc.Number, "level", d.esc.Level.Number, "attempt", attempts, "err", perr)
		return nil
	}
	s.log.Error("page failed, giving up: escalation marked fired without reaching anyone",
		"incident", d.inc.Number, "level", d.esc.Level.Number, "attempts", attempts, "err", perr)
	_, err = s.markFired(ctx, tx, d, now, claimer, "perfbot", perr)
	return err
}

// waitForChannel puts a page off that failed because the incident has no channel yet, without
// counting an attempt: nobody can be told until the channel exists, and it can still appear (the
// bot creates it when the alert is redelivered or another alert joins the incident), so giving up
// would mark the level fired with nobody paged.
func (s *Store) waitForChannel(ctx context.Context, tx pgx.Tx, d dueEscalation, now time.Time, perr error) error {
	if _, err := tx.Exec(ctx, `UPDATE escalations SET last_error = $3, retry_at = $4
		WHERE incident_id = $1 AND level = $2`, d.esc.IncidentID, d.esc.Level.Number,
		oneLine("waiting for the incident channel: "+perr.Error(), 500), now.UTC().Add(noChannelRetry)); err != nil {
		return fmt.Errorf("defer page until the channel exists: %w", err)
	}
	s.log.Warn("page waits for the incident channel", "incident", d.inc.Number, "level", d.esc.Level.Number, "err", perr)
	return nil
}

// RunEscalations fires due escalations every interval until ctx ends, paging through pager.
// Run one per process; several processes share the work, and a level is paged twice only when a
// process dies between its page and the commit that marks it fired (see FireDue).
func (s *Store) RunEscalations(ctx context.Context, interval time.Duration, pager Pager) error {
	if interval <= 0 {
		interval = 15 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.FireDue(ctx, s.now(), s.opts.Instance, pager); err != nil && ctx.Err() == nil {
			s.log.Error("escalation clock", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// joinNames lists people or groups for a sentence.
func joinNames(names []string) string { return strings.Join(names, ", ") }
