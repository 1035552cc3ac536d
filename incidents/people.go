package incidents

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/perfbot/perfbot/errs"
)

// maxUpdate bounds a status update: stakeholders read it in one glance.
const maxUpdate = 1000

// SetLead makes lead (a user ID) the incident's lead and records who did it.
func (s *Store) SetLead(ctx context.Context, id uuid.UUID, actor, lead string) (Incident, error) {
	var inc Incident
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		inc, err = scanIncident(tx.QueryRow(ctx, `UPDATE incidents SET lead = $2 WHERE id = $1 AND status = 'open'
			RETURNING `+incidentCols, id, lead))
		if isNoRows(err) {
			return s.notOpen(ctx, id)
		}
		if err != nil {
			return err
		}
		_, err = s.insertEvent(ctx, tx, id, Event{Kind: KindLead, Actor: actor, Summary: "Lead: " + lead,
			Detail: JSON(map[string]string{"lead": lead})})
		return err
	})
	if err != nil {
		return Incident{}, fmt.Errorf("set lead: %w", err)
	}
	return inc, nil
}

// PostUpdate records a status update by actor: the timeline gets it, and the update cadence
// starts again from now.
func (s *Store) PostUpdate(ctx context.Context, id uuid.UUID, actor, text string) (Incident, error) {
	text = strings.Join(strings.Fields(text), " ")
	if text == "" {
		return Incident{}, errs.Invalidf("a status update needs text, e.g. `/perf incident update rollback done, p95 recovering`")
	}
	if len(text) > maxUpdate {
		return Incident{}, errs.Invalidf("the update is %d characters; keep it under %d", len(text), maxUpdate)
	}
	now := s.now()
	var inc Incident
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		inc, err = scanIncident(tx.QueryRow(ctx, `UPDATE incidents SET last_update = $2, last_update_at = $3
			WHERE id = $1 AND status = 'open' RETURNING `+incidentCols, id, text, now))
		if isNoRows(err) {
			return s.notOpen(ctx, id)
		}
		if err != nil {
			return err
		}
		_, err = s.insertEvent(ctx, tx, id, Event{Kind: KindUpdate, OccurredAt: now, Actor: actor, Summary: "Status update: " + text,
			Detail: JSON(map[string]string{"text": text})})
		return err
	})
	if err != nil {
		return Incident{}, fmt.Errorf("post update: %w", err)
	}
	return inc, nil
}

// RecordTeamPage records that actor paged team (its members and group in page).
func (s *Store) RecordTeamPage(ctx context.Context, id uuid.UUID, actor, team string, page []string) error {
	summary := "Paged the " + team + " team"
	if len(page) > 0 {
		summary += " (" + joinNames(page) + ")"
	}
	_, err := s.Record(ctx, id, Event{Kind: KindTeamPaged, Actor: actor, Summary: summary,
		Detail: JSON(map[string]any{"team": team, "page": page})})
	return err
}

// notOpen is the error for changing an incident that is resolved or missing.
func (s *Store) notOpen(ctx context.Context, id uuid.UUID) error {
	inc, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	return errs.Conflictf("incident #%d is resolved", inc.Number)
}

// Cadence says how often a status update is due for each severity.
type Cadence map[Severity]time.Duration

// ClaimReminders finds the open incidents whose status update is overdue at now (none since
// the cadence of its severity, counted from the last update or the opening) and that have not
// been reminded since, marks them reminded and records a reminder event, each once across
// replicas (FOR UPDATE SKIP LOCKED). The caller posts the reminders.
func (s *Store) ClaimReminders(ctx context.Context, now time.Time, every Cadence) ([]Incident, error) {
	now = now.UTC().Truncate(time.Microsecond)
	var out []Incident
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+incidentCols+` FROM incidents
			WHERE status = 'open'
				AND coalesce(last_update_at, opened_at) + CASE severity WHEN 'sev1' THEN $2::interval
					WHEN 'sev2' THEN $3::interval ELSE $4::interval END <= $1
				AND (reminded_at IS NULL OR reminded_at < coalesce(last_update_at, opened_at))
			ORDER BY opened_at LIMIT 20 FOR UPDATE SKIP LOCKED`,
			now, every.of(Sev1), every.of(Sev2), every.of(Sev3))
		if err != nil {
			return err
		}
		due, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Incident, error) { return scanIncident(r) })
		if err != nil {
			return err
		}
		for _, inc := range due {
			if _, err := tx.Exec(ctx, `UPDATE incidents SET reminded_at = $2 WHERE id = $1`, inc.ID, now); err != nil {
				return err
			}
			since := inc.LastUpdateAt
			if since.IsZero() {
				since = inc.OpenedAt
			}
			ev := Event{Kind: KindReminder, OccurredAt: now, Actor: "perfbot",
				Summary:   fmt.Sprintf("Status update overdue: none for %s (%s: every %s)", FormatDuration(now.Sub(since)), inc.Severity, FormatDuration(every.of(inc.Severity))),
				DedupeKey: "reminder:" + since.Format(time.RFC3339Nano)}
			if _, err := s.insertEvent(ctx, tx, inc.ID, ev); err != nil {
				return err
			}
		}
		out = due
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim update reminders: %w", err)
	}
	return out, nil
}

// of is the cadence of sev; a severity without one is never due.
func (c Cadence) of(sev Severity) time.Duration {
	if d, ok := c[sev]; ok && d > 0 {
		return d
	}
	return 100 * 365 * 24 * time.Hour
}
