package incidents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/perfbot/perfbot/errs"
)

// Kind is what a timeline event is about.
type Kind string

// The kinds of timeline event.
const (
	KindOpened          Kind = "opened"
	KindEscalated       Kind = "escalated"
	KindResolved        Kind = "resolved"
	KindCommand         Kind = "command"
	KindChart           Kind = "chart"
	KindNote            Kind = "note"
	KindPin             Kind = "pin"
	KindReaction        Kind = "reaction"
	KindAlertFiring     Kind = "alert_firing"
	KindAlertResolved   Kind = "alert_resolved"
	KindActionRequested Kind = "action_requested"
	KindActionApproved  Kind = "action_approved"
	KindActionDenied    Kind = "action_denied"
	KindActionExecuted  Kind = "action_executed"
	KindActionFailed    Kind = "action_failed"
	KindUpdate          Kind = "update"     // a status update for stakeholders
	KindLead            Kind = "lead"       // someone now leads the incident
	KindTeamPaged       Kind = "team_paged" // a team was paged into the incident
	KindReminder        Kind = "reminder"   // a status update was overdue and asked for
	KindCaughtUp        Kind = "caught_up"  // the channel was told what happened from the terminal
)

// Kinds lists every event kind, in the order above.
var Kinds = []Kind{KindOpened, KindEscalated, KindResolved, KindCommand, KindChart, KindNote, KindPin,
	KindReaction, KindAlertFiring, KindAlertResolved, KindActionRequested, KindActionApproved,
	KindActionDenied, KindActionExecuted, KindActionFailed, KindUpdate, KindLead, KindTeamPaged, KindReminder, KindCaughtUp}

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool {
	for _, v := range Kinds {
		if v == k {
			return true
		}
	}
	return false
}

// Event is one entry of an incident's timeline.
type Event struct {
	ID         uuid.UUID
	IncidentID uuid.UUID
	Kind       Kind
	// OccurredAt is when it happened (the Slack message's time); zero means now.
	OccurredAt time.Time
	// RecordedAt is when perfbot stored it; set by Record.
	RecordedAt time.Time
	Actor      string
	Summary    string
	// Detail is kind-specific JSON: CommandDetail, ChartDetail, ActionDetail, AlertDetail (see JSON).
	Detail json.RawMessage
	Link   string
	// DedupeKey makes Record idempotent per incident: a Slack event_id, "pin:<channel>:<ts>", an
	// action ID plus kind. Empty means the event is always recorded.
	DedupeKey string
	// Via is where it was done: ViaChat (the default) or ViaTerminal.
	Via string
	// Seq orders events recorded at the same instant; set by Timeline.
	Seq int64
}

// Where an event was done.
const (
	ViaChat     = ""
	ViaTerminal = "terminal"
)

// JSON encodes a detail value for Event.Detail. Values that cannot be encoded become an error object.
func JSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"encode_error": err.Error()})
	}
	return b
}

// Record adds ev to the incident's timeline. recorded is false when an event with the same
// DedupeKey is already there (a redelivered Slack event, or another replica got there first).
func (s *Store) Record(ctx context.Context, incidentID uuid.UUID, ev Event) (recorded bool, err error) {
	if !ev.Kind.Valid() {
		return false, errs.Invalidf("unknown timeline event kind %q", ev.Kind)
	}
	recorded, err = s.insertEvent(ctx, s.pool, incidentID, ev)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" { // foreign_key_violation
		return false, errs.NotFoundf("incident %s", incidentID)
	}
	if err != nil {
		return false, fmt.Errorf("record %s event: %w", ev.Kind, err)
	}
	return recorded, nil
}

type execQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// insertEvent stores ev unless its dedupe key is taken; it reports whether a row was written.
func (s *Store) insertEvent(ctx context.Context, q execQuerier, incidentID uuid.UUID, ev Event) (bool, error) {
	now := s.now()
	if ev.OccurredAt.IsZero() {
		ev.OccurredAt = now
	}
	if ev.Via == ViaChat {
		ev.Via = s.opts.Via
	}
	var key *string
	if ev.DedupeKey != "" {
		key = &ev.DedupeKey
	}
	var detail any
	if len(ev.Detail) > 0 {
		detail = string(ev.Detail)
	}
	var id uuid.UUID
	err := q.QueryRow(ctx, `INSERT INTO timeline_events
		(id, incident_id, kind, occurred_at, recorded_at, actor, summary, detail, link, dedupe_key, via)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11)
		ON CONFLICT (incident_id, dedupe_key) DO NOTHING RETURNING id`,
		s.opts.NewID(), incidentID, ev.Kind, ev.OccurredAt.UTC(), now, ev.Actor, oneLine(ev.Summary, 3000),
		detail, ev.Link, key, ev.Via).Scan(&id)
	if isNoRows(err) {
		return false, nil
	}
	return err == nil, err
}

// oneLine trims s to at most n bytes without splitting a character.
func oneLine(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n] + "…"
}

// Timeline returns every event of the incident in the order they happened.
func (s *Store) Timeline(ctx context.Context, incidentID uuid.UUID) ([]Event, error) {
	return s.events(ctx, s.pool, `WHERE incident_id = $1 ORDER BY occurred_at, seq`, incidentID)
}

// events reads the timeline events the where clause selects.
func (s *Store) events(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, where string, args ...any) ([]Event, error) {
	rows, err := q.Query(ctx, `SELECT id, incident_id, kind, occurred_at, recorded_at, actor, summary,
		detail, link, coalesce(dedupe_key, ''), via, seq FROM timeline_events `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read timeline: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Event, error) {
		var e Event
		var detail []byte
		err := r.Scan(&e.ID, &e.IncidentID, &e.Kind, &e.OccurredAt, &e.RecordedAt, &e.Actor, &e.Summary,
			&detail, &e.Link, &e.DedupeKey, &e.Via, &e.Seq)
		e.OccurredAt, e.RecordedAt = e.OccurredAt.UTC(), e.RecordedAt.UTC()
		if len(detail) > 0 {
			e.Detail = detail
		}
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("read timeline: %w", err)
	}
	return out, nil
}
