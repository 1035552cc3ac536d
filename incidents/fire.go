package incidents

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// maxPageAttempts is how many times a failing page is retried before the escalation is marked
// fired anyway (with the failure in the timeline), so one broken user group cannot wedge the clock.
const maxPageAttempts = 5

// pageTimeout bounds one Page call, which runs while the escalation row is locked.
const pageTimeout = 20 * time.Second

// FireDue pages every escalation due at now, one transaction each: the row is locked with
// FOR UPDATE SKIP LOCKED, paged, then marked fired with its escalated event. A process that dies
// mid-page leaves the row unfired for the next claimer; a page that fails is retried on later
// calls. It returns how many escalations fired.
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
// after maxPageAttempts it is marked fired with the failure in its timeline event.
func (s *Store) pageFailed(ctx context.Context, tx pgx.Tx, d dueEscalation, now time.Time, claimer string, perr error) error {
	var attempts int
	err := tx.QueryRow(ctx, `UPDATE escalations SET attempts = attempts + 1, last_error = $3,
		retry_at = $4::timestamptz + (attempts + 1) * interval '30 seconds'
		WHERE incident_id = $1 AND level = $2 RETURNING attempts`,
		d.esc.IncidentID, d.esc.Level.Number, oneLine(perr.Error(), 500), now.UTC()).Scan(&attempts)
	if err != nil {
		return fmt.Errorf("count page attempt: %w", err)
	}
	s.log.Warn("page failed", "incident", d.inc.Number, "level", d.esc.Level.Number, "attempt", attempts, "err", perr)
	if attempts < maxPageAttempts {
		return nil
	}
	_, err = s.markFired(ctx, tx, d, now, claimer, "perfbot", perr)
	return err
}

// RunEscalations fires due escalations every interval until ctx ends, paging through pager.
// Run one per process; several processes share the work without double-firing.
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
