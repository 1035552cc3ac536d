// Package journal keeps the work perfbot has accepted (a slash command, an event) in the state
// database from before it is acknowledged until it is done. Each entry is leased by the replica
// working on it; an entry whose lease lapses (the replica died, or stopped before it got to it) is
// claimed by another replica, or by the same one after a restart, and done there. Entries are opaque
// payloads: the journal knows nothing of Slack.
package journal

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/perfbot/perfbot/internal/pgmigrate"
)

//go:embed migrations/*.sql
var migrations embed.FS

var migrationSet = pgmigrate.Set{FS: migrations, Dir: "migrations", Table: "journal_migrations", Lock: 0x6a6f75726e616c} // "journal"

// Pending lists the migrations not yet applied (for readiness checks).
func Pending(ctx context.Context, pool *pgxpool.Pool) ([]string, error) {
	return pgmigrate.Pending(ctx, pool, migrationSet)
}

// Migrate applies the journal's migrations once across replicas that start together.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	err := pgmigrate.Apply(ctx, pool, migrationSet)
	if err != nil {
		return fmt.Errorf("migrate journal: %w", err)
	}
	return nil
}

// Entry is one piece of accepted work.
type Entry struct {
	ID      string
	Kind    string
	Payload []byte
	// Progress is what earlier attempts recorded (e.g. where the answer is), by key.
	Progress map[string]string
	// Attempts counts the replicas that took the entry, this one included.
	Attempts int
	Created  time.Time
}

// Store is one replica's view of the journal.
type Store struct {
	pool  *pgxpool.Pool
	owner string
	lease time.Duration
	now   func() time.Time
}

// New returns the journal of pool as seen by owner (a replica's unique name). lease is how long an
// entry stays with its replica without a renewal.
func New(pool *pgxpool.Pool, owner string, lease time.Duration) *Store {
	return &Store{pool: pool, owner: owner, lease: lease, now: time.Now}
}

// Owner is the replica name entries are leased to.
func (s *Store) Owner() string { return s.owner }

// Lease is how long an entry stays with its replica without a renewal.
func (s *Store) Lease() time.Duration { return s.lease }

// Accept records new work, leased to this replica. It reports false when the ID is already known
// (the same work accepted before, here or by another replica): then it must not be done again.
func (s *Store) Accept(ctx context.Context, id, kind string, payload []byte) (bool, error) {
	tag, err := s.pool.Exec(ctx, `INSERT INTO work_journal (id, kind, payload, owner, lease_until)
		VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5)) ON CONFLICT (id) DO NOTHING`,
		id, kind, payload, s.owner, s.lease.Seconds())
	if err != nil {
		return false, fmt.Errorf("journal accept %s: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// Mark records how far the work got (key = value), for a later attempt to continue from there.
func (s *Store) Mark(ctx context.Context, id, key, value string) error {
	_, err := s.pool.Exec(ctx, `UPDATE work_journal SET progress = progress || jsonb_build_object($2::text, $3::text)
		WHERE id = $1`, id, key, value)
	if err != nil {
		return fmt.Errorf("journal mark %s: %w", id, err)
	}
	return nil
}

// Done closes an entry: nobody takes it again.
func (s *Store) Done(ctx context.Context, id string) error {
	_, err := s.pool.Exec(ctx, `UPDATE work_journal SET state = 'done', done_at = now() WHERE id = $1 AND state = 'open'`, id)
	if err != nil {
		return fmt.Errorf("journal done %s: %w", id, err)
	}
	return nil
}

// Abandon closes an entry that will not be done (too old to answer, tried too often).
func (s *Store) Abandon(ctx context.Context, id string) error {
	_, err := s.pool.Exec(ctx, `UPDATE work_journal SET state = 'abandoned', done_at = now() WHERE id = $1 AND state = 'open'`, id)
	if err != nil {
		return fmt.Errorf("journal abandon %s: %w", id, err)
	}
	return nil
}

// Release hands an entry this replica will not do (it is stopping) to whichever replica claims next.
func (s *Store) Release(ctx context.Context, id string) error {
	_, err := s.pool.Exec(ctx, `UPDATE work_journal SET lease_until = now(), owner = '' WHERE id = $1 AND state = 'open' AND owner = $2`,
		id, s.owner)
	if err != nil {
		return fmt.Errorf("journal release %s: %w", id, err)
	}
	return nil
}

// Renew extends the lease of every open entry this replica holds.
func (s *Store) Renew(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, `UPDATE work_journal SET lease_until = now() + make_interval(secs => $2) WHERE owner = $1 AND state = 'open'`,
		s.owner, s.lease.Seconds())
	if err != nil {
		return fmt.Errorf("journal renew: %w", err)
	}
	return nil
}

// Claim takes up to limit open entries whose lease has lapsed, leasing them to this replica. Replicas
// claiming at once get different entries (FOR UPDATE SKIP LOCKED).
func (s *Store) Claim(ctx context.Context, limit int) ([]Entry, error) {
	rows, err := s.pool.Query(ctx, `UPDATE work_journal j SET owner = $1, lease_until = now() + make_interval(secs => $2),
			attempts = j.attempts + 1
		FROM (SELECT id FROM work_journal WHERE state = 'open' AND lease_until < now()
			ORDER BY created_at LIMIT $3 FOR UPDATE SKIP LOCKED) c
		WHERE j.id = c.id
		RETURNING j.id, j.kind, j.payload, j.progress, j.attempts, j.created_at`, s.owner, s.lease.Seconds(), limit)
	if err != nil {
		return nil, fmt.Errorf("journal claim: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Entry, error) {
		var e Entry
		var progress []byte
		if err := r.Scan(&e.ID, &e.Kind, &e.Payload, &progress, &e.Attempts, &e.Created); err != nil {
			return e, err
		}
		e.Progress = map[string]string{}
		if err := json.Unmarshal(progress, &e.Progress); err != nil {
			return e, fmt.Errorf("progress of %s: %w", e.ID, err)
		}
		return e, nil
	})
	if err != nil {
		return nil, fmt.Errorf("journal claim: %w", err)
	}
	return out, nil
}

// Forget deletes closed entries older than age, so the journal does not grow without bound.
func (s *Store) Forget(ctx context.Context, age time.Duration) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM work_journal WHERE state <> 'open' AND done_at < now() - make_interval(secs => $1)`, age.Seconds())
	if err != nil {
		return 0, fmt.Errorf("journal forget: %w", err)
	}
	return tag.RowsAffected(), nil
}
