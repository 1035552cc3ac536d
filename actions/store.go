package actions

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Status is where a request is in its life.
type Status string

// The statuses of a request. Pending is the only one from which a request can still run. Approval
// moves a request from pending straight to executing in one statement, so StatusApproved is never
// stored today; it is kept so the column's vocabulary does not change if approval and execution part.
const (
	StatusPending   Status = "pending"
	StatusApproved  Status = "approved"
	StatusDenied    Status = "denied"
	StatusExpired   Status = "expired"
	StatusExecuting Status = "executing"
	StatusSucceeded Status = "succeeded"
	StatusFailed    Status = "failed"
)

// Request is one approval-gated change as stored in PostgreSQL.
type Request struct {
	ID          string
	Spec        Spec
	RequestedBy string
	Channel     string
	IncidentRef string
	CreatedAt   time.Time
	ExpiresAt   time.Time
	Status      Status
	ApprovedBy  string
	DeniedBy    string
	// DecidedAt is when it was approved, denied or found expired; zero while pending.
	DecidedAt time.Time
	// FinishedAt is when execution and verification ended; zero until then.
	FinishedAt time.Time
	Plan       Plan
	// Result is what execution and verification reported, or the error that stopped them.
	Result string
	// MessageChannel and MessageTS locate the approval message, once the bot has posted it.
	MessageChannel, MessageTS string
	// LeaseOwner is the process running an executing request; it holds it until LeaseUntil and
	// renews it while it runs. A lapsed lease means that process stopped: see Service.Recover.
	LeaseOwner string
	LeaseUntil time.Time
	// Deadline is when an executing request is stopped (actions.deadlines of its kind).
	Deadline time.Time
}

// store is the SQL of the approval flow; every state change is one conditional statement.
type store struct{ pool *pgxpool.Pool }

const requestColumns = `id, spec, requested_by, channel, incident_ref, created_at, expires_at, status,
	approved_by, denied_by, decided_at, finished_at, plan_detail, result,
	message_channel, message_ts, lease_owner, lease_until, deadline_at`

func scanRequest(row pgx.Row) (Request, error) {
	var r Request
	var id uuid.UUID
	var decided, finished, leaseUntil, deadline *time.Time
	var status string
	err := row.Scan(&id, &r.Spec, &r.RequestedBy, &r.Channel, &r.IncidentRef, &r.CreatedAt, &r.ExpiresAt,
		&status, &r.ApprovedBy, &r.DeniedBy, &decided, &finished, &r.Plan, &r.Result,
		&r.MessageChannel, &r.MessageTS, &r.LeaseOwner, &leaseUntil, &deadline)
	if err != nil {
		return Request{}, err
	}
	r.ID, r.Status = id.String(), Status(status)
	r.CreatedAt, r.ExpiresAt = r.CreatedAt.UTC(), r.ExpiresAt.UTC()
	r.DecidedAt, r.FinishedAt = utcOrZero(decided), utcOrZero(finished)
	r.LeaseUntil, r.Deadline = utcOrZero(leaseUntil), utcOrZero(deadline)
	return r, nil
}

func (s *store) insert(ctx context.Context, r Request) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO action_requests
		(id, kind, spec, requested_by, channel, incident_ref, created_at, expires_at, status, plan, plan_detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10)`,
		uuid.MustParse(r.ID), string(r.Spec.Kind), r.Spec, r.RequestedBy, r.Channel, r.IncidentRef,
		r.CreatedAt, r.ExpiresAt, r.Plan.Text(), r.Plan)
	if err != nil {
		return fmt.Errorf("insert action request: %w", err)
	}
	return nil
}

// get returns the request, or pgx.ErrNoRows.
func (s *store) get(ctx context.Context, id uuid.UUID) (Request, error) {
	r, err := scanRequest(s.pool.QueryRow(ctx, `SELECT `+requestColumns+` FROM action_requests WHERE id = $1`, id))
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return Request{}, fmt.Errorf("read action request %s: %w", id, err)
	}
	return r, err
}

func utcOrZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// claim moves a pending, unexpired request to executing in one conditional UPDATE, leased to owner
// until leaseUntil and to be stopped at deadline. Of any number of concurrent callers on any number
// of replicas exactly one gets ok=true.
func (s *store) claim(ctx context.Context, id uuid.UUID, approver string, now time.Time, owner string,
	leaseUntil, deadline time.Time) (Request, bool, error) {
	r, err := scanRequest(s.pool.QueryRow(ctx, `UPDATE action_requests
		SET status = 'executing', approved_by = $2, decided_at = $3, lease_owner = $4, lease_until = $5, deadline_at = $6
		WHERE id = $1 AND status = 'pending' AND expires_at > $3
		RETURNING `+requestColumns, id, approver, now, owner, leaseUntil, deadline))
	if errors.Is(err, pgx.ErrNoRows) {
		return Request{}, false, nil
	}
	if err != nil {
		return Request{}, false, fmt.Errorf("claim action request %s: %w", id, err)
	}
	return r, true, nil
}

// deny moves a pending, unexpired request to denied; ok is false when it was no longer pending.
func (s *store) deny(ctx context.Context, id uuid.UUID, user string, now time.Time) (Request, bool, error) {
	r, err := scanRequest(s.pool.QueryRow(ctx, `UPDATE action_requests
		SET status = 'denied', denied_by = $2, decided_at = $3
		WHERE id = $1 AND status = 'pending' AND expires_at > $3
		RETURNING `+requestColumns, id, user, now))
	if errors.Is(err, pgx.ErrNoRows) {
		return Request{}, false, nil
	}
	if err != nil {
		return Request{}, false, fmt.Errorf("deny action request %s: %w", id, err)
	}
	return r, true, nil
}

// finish stores the outcome of an executing request that owner still holds; ok is false when it
// no longer does (its lease lapsed and the clock decided the outcome from what is there).
func (s *store) finish(ctx context.Context, id, owner string, status Status, result string, now time.Time) (Request, bool, error) {
	r, err := scanRequest(s.pool.QueryRow(ctx, `UPDATE action_requests
		SET status = $2, result = $3, finished_at = $4, lease_owner = '', lease_until = NULL
		WHERE id = $1 AND status = 'executing' AND lease_owner = $5
		RETURNING `+requestColumns, uuid.MustParse(id), string(status), result, now, owner))
	if errors.Is(err, pgx.ErrNoRows) {
		return Request{}, false, nil
	}
	if err != nil {
		return Request{}, false, fmt.Errorf("store outcome of action request %s: %w", id, err)
	}
	return r, true, nil
}

// querier is a pool or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func (s *store) addEvent(ctx context.Context, e Event) error { return addEventTo(ctx, s.pool, e) }

func addEventTo(ctx context.Context, q querier, e Event) error {
	_, err := q.Exec(ctx, `INSERT INTO action_events (request_id, at, kind, actor, detail)
		VALUES ($1, $2, $3, $4, $5)`, uuid.MustParse(e.RequestID), e.At, string(e.Kind), e.Actor, e.Detail)
	if err != nil {
		return fmt.Errorf("insert action event: %w", err)
	}
	return nil
}

// events returns a request's audit trail, oldest first.
func (s *store) events(ctx context.Context, id uuid.UUID) ([]Event, error) {
	rows, err := s.pool.Query(ctx, `SELECT at, kind, actor, detail FROM action_events
		WHERE request_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("read action events: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Event, error) {
		e := Event{RequestID: id.String()}
		var kind string
		err := row.Scan(&e.At, &kind, &e.Actor, &e.Detail)
		e.Kind, e.At = EventKind(kind), e.At.UTC()
		return e, err
	})
}
