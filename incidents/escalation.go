package incidents

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/errs"
)

// Level is one rung of the escalation ladder: who is paged, and how long after the incident opened.
type Level struct {
	Number int // 1-based
	Name   string
	After  time.Duration
	// Page lists the Slack users or user groups to mention and invite (IDs or handles, as configured).
	Page []string
}

// DefaultLevels is the runbook's ladder: on-call at once, senior engineer at 30 minutes, manager at 60.
func DefaultLevels() []Level {
	return LevelsFrom(config.Default().Incidents)
}

// LevelsFrom turns the configured ladder into Levels; level 1 pages the on-call list when it names no one.
func LevelsFrom(c config.Incidents) []Level {
	out := make([]Level, len(c.Levels))
	for i, l := range c.Levels {
		page := append([]string(nil), l.Page...)
		if i == 0 && len(page) == 0 {
			page = append(page, c.OnCall...)
		}
		out[i] = Level{Number: i + 1, Name: l.Name, After: l.After.D(), Page: page}
	}
	return out
}

// Escalation is one scheduled rung for one incident.
type Escalation struct {
	IncidentID uuid.UUID
	Level      Level
	DueAt      time.Time
	FiredAt    time.Time // zero until fired
	ClaimedBy  string
	Cancelled  bool // the incident was resolved before it fired
}

// Pager is how an escalation reaches people: the bot posts in the incident channel, mentions the
// level's users and groups, and invites them. It is declared here, where it is used. Page may be
// called again for a level it already paged when a process died before recording the page (see
// FireDue); it returns ErrNoChannel when the incident has no channel to page in.
type Pager interface {
	Page(ctx context.Context, inc Incident, level Level) error
}

// schedule stores one escalation per configured level for a newly opened incident.
func (s *Store) schedule(ctx context.Context, tx pgx.Tx, inc Incident) error {
	for _, l := range s.opts.Levels {
		page := l.Page
		if page == nil {
			page = []string{}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO escalations (incident_id, level, name, page, due_at)
			VALUES ($1, $2, $3, $4, $5)`, inc.ID, l.Number, l.Name, page, inc.OpenedAt.Add(l.After)); err != nil {
			return fmt.Errorf("schedule escalation level %d: %w", l.Number, err)
		}
	}
	return nil
}

const escalationCols = `e.incident_id, e.level, e.name, e.page, e.due_at, e.fired_at, e.claimed_by, e.cancelled_at`

func scanEscalation(row pgx.Row, extra ...any) (Escalation, error) {
	var e Escalation
	var fired, cancelled *time.Time
	dest := append([]any{&e.IncidentID, &e.Level.Number, &e.Level.Name, &e.Level.Page, &e.DueAt, &fired,
		&e.ClaimedBy, &cancelled}, extra...)
	err := row.Scan(dest...)
	e.DueAt = e.DueAt.UTC()
	if fired != nil {
		e.FiredAt = fired.UTC()
	}
	e.Cancelled = cancelled != nil
	return e, err
}

// withAfter fills Level.After from the incident's opening time.
func (e Escalation) withAfter(openedAt time.Time) Escalation {
	e.Level.After = e.DueAt.Sub(openedAt.UTC())
	return e
}

// Escalations returns the incident's escalation schedule, lowest level first.
func (s *Store) Escalations(ctx context.Context, incidentID uuid.UUID) ([]Escalation, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+escalationCols+`, i.opened_at FROM escalations e
		JOIN incidents i ON i.id = e.incident_id WHERE e.incident_id = $1 ORDER BY e.level`, incidentID)
	if err != nil {
		return nil, fmt.Errorf("read escalations: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Escalation, error) {
		var opened time.Time
		e, err := scanEscalation(r, &opened)
		return e.withAfter(opened), err
	})
	if err != nil {
		return nil, fmt.Errorf("read escalations: %w", err)
	}
	return out, nil
}

// ClaimDue claims up to limit escalations that are due at now, unfired, and belong to open
// incidents; it marks them fired by claimer and records their escalated events in the same
// transaction. Rows another process holds are skipped (FOR UPDATE SKIP LOCKED), so concurrent
// claimers each get distinct escalations and every escalation is claimed by one transaction only.
// The caller pages after the commit, so paging is at most once: a process that dies between the
// commit and its page loses that page. FireDue pages inside the claim instead (at least once).
func (s *Store) ClaimDue(ctx context.Context, now time.Time, claimer string, limit int) ([]Escalation, error) {
	var out []Escalation
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		due, err := s.lockDue(ctx, tx, now, limit)
		if err != nil {
			return err
		}
		for _, d := range due {
			e, err := s.markFired(ctx, tx, d, now, claimer, claimer, nil)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim due escalations: %w", err)
	}
	return out, nil
}

// dueEscalation is a locked, due escalation with its incident.
type dueEscalation struct {
	esc Escalation
	inc Incident
}

// channelGrace is how long an incident without a channel waits before its escalations fire anyway:
// the bot creates the channel just after Open, and a page should land in it rather than race it.
const channelGrace = 5 * time.Minute

// lockDue locks up to limit due escalations of open incidents, skipping rows others hold.
func (s *Store) lockDue(ctx context.Context, tx pgx.Tx, now time.Time, limit int) ([]dueEscalation, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := tx.Query(ctx, `SELECT `+escalationCols+`, `+prefixed("i.")+`
		FROM escalations e JOIN incidents i ON i.id = e.incident_id
		WHERE e.fired_at IS NULL AND e.cancelled_at IS NULL AND e.due_at <= $1 AND i.status = 'open'
			AND (e.retry_at IS NULL OR e.retry_at <= $1)
			AND (i.channel_id IS NOT NULL OR i.opened_at <= $1 - $3::interval)
		ORDER BY e.due_at, e.level LIMIT $2 FOR UPDATE OF e SKIP LOCKED`, now.UTC(), limit, channelGrace)
	if err != nil {
		return nil, fmt.Errorf("lock due escalations: %w", err)
	}
	return pgx.CollectRows(rows, scanDue)
}

func scanDue(r pgx.CollectableRow) (dueEscalation, error) {
	var d dueEscalation
	i := &d.inc
	e, err := scanEscalation(r, i.scanDest()...)
	i.fixTimes()
	d.esc = e.withAfter(i.OpenedAt)
	return d, err
}

// markFired marks a locked escalation fired and records its escalated event (once, by level).
func (s *Store) markFired(ctx context.Context, tx pgx.Tx, d dueEscalation, now time.Time, claimer, actor string, pageErr error) (Escalation, error) {
	now = now.UTC().Truncate(time.Microsecond)
	if _, err := tx.Exec(ctx, `UPDATE escalations SET fired_at = $3, claimed_by = $4
		WHERE incident_id = $1 AND level = $2`, d.esc.IncidentID, d.esc.Level.Number, now, claimer); err != nil {
		return Escalation{}, fmt.Errorf("mark escalation fired: %w", err)
	}
	summary := fmt.Sprintf("Escalated to %s", levelLabel(d.esc.Level))
	if len(d.esc.Level.Page) > 0 {
		summary += fmt.Sprintf(" (paging %s)", joinNames(d.esc.Level.Page))
	}
	if pageErr != nil {
		summary += "; paging failed: " + pageErr.Error()
	}
	ev := Event{Kind: KindEscalated, OccurredAt: now, Actor: actor, Summary: summary,
		DedupeKey: fmt.Sprintf("escalation:%d", d.esc.Level.Number),
		Detail: JSON(map[string]any{"level": d.esc.Level.Number, "name": d.esc.Level.Name,
			"page": d.esc.Level.Page, "due_at": d.esc.DueAt, "claimed_by": claimer})}
	if _, err := s.insertEvent(ctx, tx, d.esc.IncidentID, ev); err != nil {
		return Escalation{}, fmt.Errorf("record escalation: %w", err)
	}
	e := d.esc
	e.FiredAt, e.ClaimedBy = now, claimer
	return e, nil
}

func levelLabel(l Level) string {
	if l.Name != "" {
		return l.Name
	}
	return fmt.Sprintf("Level %d", l.Number)
}

// Escalate fires the incident's next unfired level now, on a person's request, paging it with
// pager (nil: the caller pages). It is a Conflict error when every level has already fired, and
// when that level is being paged right now by the clock or another person: waiting for that page
// would escalate one level further than anyone asked for.
func (s *Store) Escalate(ctx context.Context, incidentID uuid.UUID, actor string, pager Pager) (Escalation, error) {
	now := s.now()
	var fired Escalation
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		d, err := s.lockNextLevel(ctx, tx, incidentID)
		if err != nil {
			return err
		}
		if pager != nil {
			pctx, cancel := context.WithTimeoutCause(ctx, pageTimeout, errors.New("page timed out"))
			err := pager.Page(pctx, d.inc, d.esc.Level)
			cancel()
			if err != nil {
				return fmt.Errorf("page %s: %w", levelLabel(d.esc.Level), err)
			}
		}
		fired, err = s.markFired(ctx, tx, d, now, "manual:"+actor, actor, nil)
		return err
	})
	if err != nil {
		return Escalation{}, fmt.Errorf("escalate: %w", err)
	}
	return fired, nil
}

// lockNextLevel locks the incident's lowest unfired level without waiting: when another
// transaction holds it (it is being paged), or fired it since the level was looked up, it is a
// Conflict error naming the level.
func (s *Store) lockNextLevel(ctx context.Context, tx pgx.Tx, incidentID uuid.UUID) (dueEscalation, error) {
	var level int
	err := tx.QueryRow(ctx, `SELECT e.level FROM escalations e JOIN incidents i ON i.id = e.incident_id
		WHERE e.incident_id = $1 AND e.fired_at IS NULL AND e.cancelled_at IS NULL AND i.status = 'open'
		ORDER BY e.level LIMIT 1`, incidentID).Scan(&level)
	if isNoRows(err) {
		return dueEscalation{}, s.noNextLevel(ctx, incidentID)
	}
	if err != nil {
		return dueEscalation{}, fmt.Errorf("find next level: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT `+escalationCols+`, `+prefixed("i.")+`
		FROM escalations e JOIN incidents i ON i.id = e.incident_id
		WHERE e.incident_id = $1 AND e.level = $2 AND e.fired_at IS NULL AND e.cancelled_at IS NULL
			AND i.status = 'open'
		FOR UPDATE OF e SKIP LOCKED`, incidentID, level)
	if err != nil {
		return dueEscalation{}, fmt.Errorf("lock level %d: %w", level, err)
	}
	due, err := pgx.CollectRows(rows, scanDue)
	if err != nil {
		return dueEscalation{}, fmt.Errorf("lock level %d: %w", level, err)
	}
	if len(due) == 0 {
		return dueEscalation{}, errs.Conflictf("level %d is being paged right now", level)
	}
	return due[0], nil
}

func (s *Store) noNextLevel(ctx context.Context, id uuid.UUID) error {
	inc, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if inc.Status != StatusOpen {
		return errs.Conflictf("incident #%d is resolved", inc.Number)
	}
	return errs.Conflictf("incident #%d is already at the top escalation level", inc.Number)
}
