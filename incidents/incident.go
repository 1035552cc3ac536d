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

// Severity is an incident's severity: sev1 is the worst.
type Severity string

// The severities.
const (
	Sev1 Severity = "sev1"
	Sev2 Severity = "sev2"
	Sev3 Severity = "sev3"
)

// ParseSeverity reads "sev1".."sev3" (or "1".."3"); empty means sev2.
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return Sev2, nil
	case "sev1", "1":
		return Sev1, nil
	case "sev2", "2":
		return Sev2, nil
	case "sev3", "3":
		return Sev3, nil
	}
	return "", errs.Invalidf("severity %q is not one of sev1, sev2, sev3", s)
}

// Status is whether an incident is still being worked.
type Status string

// The statuses.
const (
	StatusOpen     Status = "open"
	StatusResolved Status = "resolved"
)

// Incident is one incident as stored.
type Incident struct {
	ID               uuid.UUID
	Number           int64
	Title            string
	Severity         Severity
	Service          string
	ChannelID        string
	ChannelName      string
	Status           Status
	Source           string // who or what opened it: "slack", "alertmanager", "console"
	AlertFingerprint string
	OpenedBy         string
	OpenedAt         time.Time
	DetectedAt       time.Time
	ResolvedAt       time.Time // zero while open
	ResolvedBy       string
	RootCause        string
	// Lead is the Slack user leading the incident (empty: nobody has taken it).
	Lead string
	// LastUpdate is the latest status update's text; LastUpdateAt when it was posted (zero: none yet).
	LastUpdate   string
	LastUpdateAt time.Time

	scan *incidentScan
}

// Duration is how long the incident lasted from detection, or until now while it is open.
func (i Incident) Duration(now time.Time) time.Duration {
	end := i.ResolvedAt
	if end.IsZero() {
		end = now
	}
	return end.Sub(i.DetectedAt)
}

// OpenParams is what Open needs to know.
type OpenParams struct {
	Title    string
	Severity Severity // empty means sev2
	Service  string
	OpenedBy string
	Source   string
	// DetectedAt is when the problem was first seen (an alert's startsAt); zero means now.
	DetectedAt       time.Time
	AlertFingerprint string
}

// incidentColsFmt lists an incident's columns in scanIncident's order; %[1]s is a table alias prefix.
const incidentColsFmt = `%[1]sid, %[1]snumber, %[1]stitle, %[1]sseverity, %[1]sservice,
	coalesce(%[1]schannel_id, ''), coalesce(%[1]schannel_name, ''), %[1]sstatus, %[1]ssource,
	%[1]salert_fingerprint, %[1]sopened_by, %[1]sopened_at, %[1]sdetected_at, %[1]sresolved_at,
	%[1]sresolved_by, %[1]sroot_cause, %[1]slead, %[1]slast_update, %[1]slast_update_at`

var incidentCols = prefixed("")

// prefixed returns the incident columns qualified by alias (e.g. "i.").
func prefixed(alias string) string { return fmt.Sprintf(incidentColsFmt, alias) }

func scanIncident(row pgx.Row, extra ...any) (Incident, error) {
	var i Incident
	err := row.Scan(append(i.scanDest(), extra...)...)
	i.fixTimes()
	return i, err
}

// incidentScan holds the nullable columns while an incident is scanned.
type incidentScan struct{ resolved, lastUpdate *time.Time }

// scanDest lists where the incident columns are scanned to, in incidentColsFmt's order; call
// fixTimes after the scan.
func (i *Incident) scanDest() []any {
	i.scan = &incidentScan{}
	return []any{&i.ID, &i.Number, &i.Title, &i.Severity, &i.Service, &i.ChannelID, &i.ChannelName,
		&i.Status, &i.Source, &i.AlertFingerprint, &i.OpenedBy, &i.OpenedAt, &i.DetectedAt, &i.scan.resolved,
		&i.ResolvedBy, &i.RootCause, &i.Lead, &i.LastUpdate, &i.scan.lastUpdate}
}

// fixTimes moves the scanned nullable times into place, all in UTC.
func (i *Incident) fixTimes() {
	if i.scan != nil {
		if i.scan.resolved != nil {
			i.ResolvedAt = i.scan.resolved.UTC()
		}
		if i.scan.lastUpdate != nil {
			i.LastUpdateAt = i.scan.lastUpdate.UTC()
		}
		i.scan = nil
	}
	i.OpenedAt, i.DetectedAt = i.OpenedAt.UTC(), i.DetectedAt.UTC()
}

// Open creates an incident, schedules its escalations and records the opened event, in one transaction.
func (s *Store) Open(ctx context.Context, p OpenParams) (Incident, error) {
	inc, err := s.validateOpen(p)
	if err != nil {
		return Incident{}, err
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		inc, err = s.insertIncident(ctx, tx, inc)
		return err
	})
	if err != nil {
		return Incident{}, fmt.Errorf("open incident: %w", err)
	}
	s.log.Info("incident opened", "incident", inc.Number, "service", inc.Service, "severity", inc.Severity)
	return inc, nil
}

func (s *Store) validateOpen(p OpenParams) (Incident, error) {
	title := strings.Join(strings.Fields(p.Title), " ")
	if title == "" {
		return Incident{}, errs.Invalidf("an incident needs a title, e.g. `/perf incident open API latency high sev2`")
	}
	if len(title) > 200 {
		return Incident{}, errs.Invalidf("the title is %d characters; keep it under 200", len(title))
	}
	sev, err := ParseSeverity(string(p.Severity))
	if err != nil {
		return Incident{}, err
	}
	now := s.now()
	detected := p.DetectedAt.UTC().Truncate(time.Microsecond)
	if p.DetectedAt.IsZero() || detected.After(now) {
		detected = now
	}
	return Incident{ID: s.opts.NewID(), Title: title, Severity: sev, Service: p.Service, Status: StatusOpen,
		Source: p.Source, AlertFingerprint: p.AlertFingerprint, OpenedBy: p.OpenedBy, OpenedAt: now,
		DetectedAt: detected}, nil
}

// insertIncident stores inc with its escalation schedule and opened event inside tx.
func (s *Store) insertIncident(ctx context.Context, tx pgx.Tx, inc Incident) (Incident, error) {
	err := tx.QueryRow(ctx, `INSERT INTO incidents (id, title, severity, service, status, source,
		alert_fingerprint, opened_by, opened_at, detected_at)
		VALUES ($1, $2, $3, $4, 'open', $5, $6, $7, $8, $9) RETURNING number`,
		inc.ID, inc.Title, inc.Severity, inc.Service, inc.Source, inc.AlertFingerprint, inc.OpenedBy,
		inc.OpenedAt, inc.DetectedAt).Scan(&inc.Number)
	if err != nil {
		return inc, fmt.Errorf("insert incident: %w", err)
	}
	if err := s.schedule(ctx, tx, inc); err != nil {
		return inc, err
	}
	summary := fmt.Sprintf("Incident #%d opened: %s (%s", inc.Number, inc.Title, inc.Severity)
	if inc.Service != "" {
		summary += ", " + inc.Service
	}
	ev := Event{Kind: KindOpened, OccurredAt: inc.OpenedAt, Actor: inc.OpenedBy, Summary: summary + ")",
		DedupeKey: "opened", Detail: JSON(map[string]string{"source": inc.Source, "fingerprint": inc.AlertFingerprint})}
	_, err = s.insertEvent(ctx, tx, inc.ID, ev)
	return inc, err
}

// Get returns the incident with id, or a NotFound error.
func (s *Store) Get(ctx context.Context, id uuid.UUID) (Incident, error) {
	inc, err := scanIncident(s.pool.QueryRow(ctx, `SELECT `+incidentCols+` FROM incidents WHERE id = $1`, id))
	if isNoRows(err) {
		return Incident{}, errs.NotFoundf("incident %s", id)
	}
	if err != nil {
		return Incident{}, fmt.Errorf("get incident %s: %w", id, err)
	}
	return inc, nil
}

// Lookup finds an incident by a reference a person types: its UUID, its number ("12" or "#12"),
// its channel ID or its channel name.
func (s *Store) Lookup(ctx context.Context, ref string) (Incident, error) {
	ref = strings.TrimSpace(ref)
	if id, err := uuid.Parse(ref); err == nil {
		return s.Get(ctx, id)
	}
	inc, err := scanIncident(s.pool.QueryRow(ctx, `SELECT `+incidentCols+` FROM incidents
		WHERE number::text = ltrim($1, '#') OR channel_id = $1 OR channel_name = ltrim($1, '#')
		ORDER BY number DESC LIMIT 1`, ref))
	if isNoRows(err) {
		return Incident{}, errs.NotFoundf("no incident %q (give its number, channel or id)", ref)
	}
	if err != nil {
		return Incident{}, fmt.Errorf("look up incident %q: %w", ref, err)
	}
	return inc, nil
}

// ByChannel returns the incident whose channel is channelID, or a NotFound error saying the
// command only makes sense inside an incident channel.
func (s *Store) ByChannel(ctx context.Context, channelID string) (Incident, error) {
	inc, err := scanIncident(s.pool.QueryRow(ctx, `SELECT `+incidentCols+` FROM incidents WHERE channel_id = $1`, channelID))
	if isNoRows(err) {
		return Incident{}, errs.NotFoundf("this is not an incident channel; run it in the incident's channel")
	}
	if err != nil {
		return Incident{}, fmt.Errorf("incident for channel %s: %w", channelID, err)
	}
	return inc, nil
}

// OpenForService returns the newest open incident for service; ok is false when there is none.
func (s *Store) OpenForService(ctx context.Context, service string) (inc Incident, ok bool, err error) {
	return s.openForService(ctx, s.pool, service)
}

type queryRower interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func (s *Store) openForService(ctx context.Context, q queryRower, service string) (Incident, bool, error) {
	inc, err := scanIncident(q.QueryRow(ctx, `SELECT `+incidentCols+` FROM incidents
		WHERE status = 'open' AND service = $1 ORDER BY opened_at DESC, number DESC LIMIT 1`, service))
	if isNoRows(err) {
		return Incident{}, false, nil
	}
	if err != nil {
		return Incident{}, false, fmt.Errorf("open incident for %s: %w", service, err)
	}
	return inc, true, nil
}

// ListOpen returns the open incidents, oldest first.
func (s *Store) ListOpen(ctx context.Context) ([]Incident, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+incidentCols+` FROM incidents WHERE status = 'open' ORDER BY opened_at, number`)
	if err != nil {
		return nil, fmt.Errorf("list open incidents: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Incident, error) { return scanIncident(r) })
	if err != nil {
		return nil, fmt.Errorf("list open incidents: %w", err)
	}
	return out, nil
}

// SetChannel records the Slack channel created for the incident.
func (s *Store) SetChannel(ctx context.Context, id uuid.UUID, channelID, name string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE incidents SET channel_id = $2, channel_name = $3 WHERE id = $1`, id, channelID, name)
	if err != nil {
		return fmt.Errorf("set channel of incident %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return errs.NotFoundf("incident %s", id)
	}
	return nil
}

// Resolve closes the incident, cancels its pending escalations and records the resolved event.
// Resolving an incident twice is a Conflict error.
func (s *Store) Resolve(ctx context.Context, id uuid.UUID, actor, rootCause string) (Incident, error) {
	now := s.now()
	rootCause = strings.TrimSpace(rootCause)
	var inc Incident
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		inc, err = scanIncident(tx.QueryRow(ctx, `UPDATE incidents SET status = 'resolved', resolved_at = $2,
			resolved_by = $3, root_cause = $4 WHERE id = $1 AND status = 'open' RETURNING `+incidentCols,
			id, now, actor, rootCause))
		if isNoRows(err) {
			if _, gerr := s.Get(ctx, id); gerr != nil {
				return gerr
			}
			return errs.Conflictf("incident is already resolved")
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE escalations SET cancelled_at = $2
			WHERE incident_id = $1 AND fired_at IS NULL AND cancelled_at IS NULL`, id, now); err != nil {
			return fmt.Errorf("cancel escalations: %w", err)
		}
		summary := fmt.Sprintf("Incident #%d resolved after %s", inc.Number, FormatDuration(inc.Duration(now)))
		if rootCause != "" {
			summary += ": " + rootCause
		}
		_, err = s.insertEvent(ctx, tx, id, Event{Kind: KindResolved, OccurredAt: now, Actor: actor,
			Summary: summary, DedupeKey: "resolved", Detail: JSON(map[string]string{"root_cause": rootCause})})
		return err
	})
	if err != nil {
		return Incident{}, fmt.Errorf("resolve incident: %w", err)
	}
	s.log.Info("incident resolved", "incident", inc.Number, "by", actor)
	return inc, nil
}

// FormatDuration writes a duration as people read it in an incident: "1h12m", "45m", "1m40s", "16s".
// Every place that says how long an incident lasted (the resolve reply, the timeline, the postmortem)
// uses it, so they say the same.
func FormatDuration(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, sec := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0 && m == 0:
		return fmt.Sprintf("%dh", h)
	case h > 0:
		return fmt.Sprintf("%dh%02dm", h, m)
	case m > 0 && sec == 0:
		return fmt.Sprintf("%dm", m)
	case m > 0:
		return fmt.Sprintf("%dm%02ds", m, sec)
	}
	return fmt.Sprintf("%ds", sec)
}
