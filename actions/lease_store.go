package actions

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// The SQL of the clock: expiry, leases and announcements. Every row the clock works on is claimed
// with FOR UPDATE SKIP LOCKED, so replicas sharing the state database split the work and never
// wait for each other.

// maxAnnounceTries is how often the clock tries to tell an outcome (message and timeline) before it
// gives up and only logs it: a channel that is gone must not be retried forever.
const maxAnnounceTries = 10

// announceRetry is how long a claimed announcement waits before another process may try it again.
const announceRetry = time.Minute

// setMessage records where the approval message of request id was posted.
func (s *store) setMessage(ctx context.Context, id uuid.UUID, channel, ts string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE action_requests SET message_channel = $2, message_ts = $3 WHERE id = $1`, id, channel, ts)
	if err != nil {
		return fmt.Errorf("store the approval message of %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return pgx.ErrNoRows
	}
	return nil
}

// expireDue marks up to limit pending requests whose time is up as expired, records their expired
// events and schedules their announcement, in one transaction; it returns them.
func (s *store) expireDue(ctx context.Context, now time.Time, limit int) ([]Request, error) {
	var out []Request
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE action_requests SET status = 'expired', decided_at = expires_at, announce_at = $1
			WHERE id IN (SELECT id FROM action_requests WHERE status = 'pending' AND expires_at <= $1
				ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)
			RETURNING `+requestColumns, now, limit)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Request, error) { return scanRequest(row) })
		if err != nil {
			return err
		}
		for _, r := range out {
			if err := addEventTo(ctx, tx, Event{At: now, RequestID: r.ID, Kind: EventExpired, Summary: r.Plan.Summary,
				Detail: "nobody approved it before " + r.ExpiresAt.Format(time.RFC3339)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("expire action requests: %w", err)
	}
	return out, nil
}

// renew extends owner's lease on an executing request; ok is false when it is no longer owner's.
func (s *store) renew(ctx context.Context, id, owner string, until time.Time) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE action_requests SET lease_until = $3
		WHERE id = $1 AND status = 'executing' AND lease_owner = $2`, uuid.MustParse(id), owner, until)
	if err != nil {
		return false, fmt.Errorf("renew the lease on %s: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// unleasedGrace is how long recovery leaves a request that was claimed without a lease (by a
// version of perfbot from before leases, perhaps still running it during an upgrade).
const unleasedGrace = 10 * time.Minute

// settlement is what recovery decided about a request whose lease lapsed: its outcome, or (decided
// false) that it cannot tell yet and will look again.
type settlement struct {
	decided bool
	status  Status
	result  string
}

// settleLapsed takes one executing request whose lease lapsed before now (FOR UPDATE SKIP LOCKED),
// asks decide what became of it while holding the row, and stores the answer: an outcome (with its
// event, scheduled for announcement) or, when decide cannot tell yet, a new lease for checkAgain.
// found is false when no lapsed lease was left to take.
func (s *store) settleLapsed(ctx context.Context, now time.Time, owner string, checkAgain time.Duration,
	decide func(context.Context, Request) settlement) (r Request, st settlement, found bool, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		r, err = scanRequest(tx.QueryRow(ctx, `SELECT `+requestColumns+` FROM action_requests
			WHERE status = 'executing' AND (lease_until < $1 OR (lease_until IS NULL AND decided_at < $2))
			ORDER BY lease_until NULLS FIRST LIMIT 1 FOR UPDATE SKIP LOCKED`, now, now.Add(-unleasedGrace)))
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		st = decide(ctx, r)
		if !st.decided {
			_, err := tx.Exec(ctx, `UPDATE action_requests SET lease_owner = $2, lease_until = $3 WHERE id = $1`,
				uuid.MustParse(r.ID), owner, now.Add(checkAgain))
			return err
		}
		r, err = scanRequest(tx.QueryRow(ctx, `UPDATE action_requests SET status = $2, result = $3, finished_at = $4,
			lease_owner = '', lease_until = NULL, announce_at = $4 WHERE id = $1 RETURNING `+requestColumns,
			uuid.MustParse(r.ID), string(st.status), st.result, now))
		if err != nil {
			return err
		}
		return addEventTo(ctx, tx, Event{At: now, RequestID: r.ID, Kind: outcomeEvent(st.status), Summary: r.Plan.Summary, Detail: st.result})
	})
	if err != nil {
		return Request{}, settlement{}, found, fmt.Errorf("recover an action whose process stopped: %w", err)
	}
	return r, st, found, nil
}

// outcomeEvent is the event that tells a finished request's outcome.
func outcomeEvent(st Status) EventKind {
	switch st {
	case StatusSucceeded:
		return EventVerified
	case StatusExpired:
		return EventExpired
	}
	return EventFailed
}

// announcement is an outcome to be told; last is set on its final try.
type announcement struct {
	r    Request
	last bool
}

// claimAnnouncements takes up to limit outcomes due to be told (FOR UPDATE SKIP LOCKED) and puts
// each off by announceRetry, so that a process that dies while telling it leaves it to the next.
func (s *store) claimAnnouncements(ctx context.Context, now time.Time, limit int) ([]announcement, error) {
	rows, err := s.pool.Query(ctx, `UPDATE action_requests SET announce_at = $2, announce_tries = announce_tries + 1
		WHERE id IN (SELECT id FROM action_requests WHERE announce_at <= $1
			ORDER BY announce_at LIMIT $3 FOR UPDATE SKIP LOCKED)
		RETURNING `+requestColumns+`, announce_tries`, now, now.Add(announceRetry), limit)
	if err != nil {
		return nil, fmt.Errorf("claim action outcomes to announce: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (announcement, error) {
		var tries int
		r, err := scanRequest(scanExtra{row, &tries})
		return announcement{r: r, last: tries >= maxAnnounceTries}, err
	})
	if err != nil {
		return nil, fmt.Errorf("claim action outcomes to announce: %w", err)
	}
	return out, nil
}

// announced marks an outcome told, so the clock stops telling it.
func (s *store) announced(ctx context.Context, id string) error {
	if _, err := s.pool.Exec(ctx, `UPDATE action_requests SET announce_at = NULL WHERE id = $1`, uuid.MustParse(id)); err != nil {
		return fmt.Errorf("mark the outcome of %s announced: %w", id, err)
	}
	return nil
}

// scanExtra scans a request row that has more columns after requestColumns.
type scanExtra struct {
	row   pgx.Row
	extra *int
}

func (x scanExtra) Scan(dest ...any) error { return x.row.Scan(append(dest, x.extra)...) }
