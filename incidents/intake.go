package incidents

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// AlertAction is what HandleAlert did with an alert.
type AlertAction string

// The alert actions.
const (
	// AlertOpened: a firing alert opened a new incident. The bot creates its channel and runs the assessment.
	AlertOpened AlertAction = "opened"
	// AlertJoined: a firing alert was added to the open incident for its service.
	AlertJoined AlertAction = "joined"
	// AlertNoted: a resolved alert was noted on the open incident for its service.
	AlertNoted AlertAction = "noted"
	// AlertIgnored: the alert is for no configured service, or resolved with no open incident.
	AlertIgnored AlertAction = "ignored"
)

// AlertDecision is the outcome of HandleAlert.
type AlertDecision struct {
	Action   AlertAction
	Service  string
	Incident Incident // zero when ignored
	// Recorded is false when the alert's timeline event was already there (a redelivery).
	Recorded bool
	Reason   string // why it was ignored
}

// AlertDetail is the Detail of alert_firing and alert_resolved events.
type AlertDetail struct {
	Alertname    string            `json:"alertname"`
	Status       string            `json:"status"`
	Severity     string            `json:"severity,omitempty"`
	Fingerprint  string            `json:"fingerprint"`
	StartsAt     time.Time         `json:"starts_at"`
	EndsAt       time.Time         `json:"ends_at,omitzero"`
	GeneratorURL string            `json:"generator_url,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

// ServiceOf names the service an alert is about: the first of the configured service labels
// it carries. ok is false when it names none, or one that is not configured.
func (s *Store) ServiceOf(a Alert) (service string, ok bool) {
	for _, l := range s.opts.ServiceLabels {
		if v := a.Labels[l]; v != "" {
			service = v
			break
		}
	}
	if service == "" {
		return "", false
	}
	return service, len(s.opts.Services) == 0 || slices.Contains(s.opts.Services, service)
}

// HandleAlert decides what an alert means for incidents and stores it: a firing alert opens an
// incident for its service, or joins the open one, and is recorded as alert_firing; a resolved
// alert is recorded as alert_resolved on the open incident. Opening is serialised per service,
// so two replicas handling alerts for one service at once open one incident between them.
func (s *Store) HandleAlert(ctx context.Context, a Alert) (AlertDecision, error) {
	service, ok := s.ServiceOf(a)
	if !ok {
		return AlertDecision{Action: AlertIgnored, Service: service,
			Reason: fmt.Sprintf("alert %s names no configured service (labels %s)", a.Name(), strings.Join(s.opts.ServiceLabels, ", "))}, nil
	}
	d := AlertDecision{Service: service}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('perfbot-incident-service:' || $1))`, service); err != nil {
			return fmt.Errorf("lock service: %w", err)
		}
		inc, found, err := s.openForService(ctx, tx, service)
		if err != nil {
			return err
		}
		switch {
		case !found && !a.Firing():
			d.Action, d.Reason = AlertIgnored, "resolved alert with no open incident for "+service
			return nil
		case !found:
			d.Action = AlertOpened
			inc, err = s.insertIncident(ctx, tx, s.alertIncident(a, service))
			if err != nil {
				return err
			}
		case a.Firing():
			d.Action = AlertJoined
		default:
			d.Action = AlertNoted
		}
		d.Incident = inc
		d.Recorded, err = s.insertEvent(ctx, tx, inc.ID, alertEvent(a))
		return err
	})
	if err != nil {
		return AlertDecision{}, fmt.Errorf("handle alert %s: %w", a.Name(), err)
	}
	return d, nil
}

// alertIncident is the incident a firing alert opens.
func (s *Store) alertIncident(a Alert, service string) Incident {
	now := s.now()
	detected := a.StartsAt.Truncate(time.Microsecond)
	if detected.After(now) {
		detected = now
	}
	return Incident{ID: s.opts.NewID(), Title: oneLine(alertTitle(a, service), 200), Severity: alertSeverity(a),
		Service: service, Status: StatusOpen, Source: "alertmanager", AlertFingerprint: a.Fingerprint,
		OpenedBy: "alertmanager", OpenedAt: now, DetectedAt: detected}
}

func alertTitle(a Alert, service string) string {
	if s := strings.Join(strings.Fields(a.Annotations["summary"]), " "); s != "" {
		return s
	}
	name := a.Name()
	if name == "" {
		name = "Alert"
	}
	return name + " on " + service
}

// alertSeverity maps Alertmanager's conventional severity label to an incident severity.
func alertSeverity(a Alert) Severity {
	switch strings.ToLower(a.Labels["severity"]) {
	case "critical", "page", "sev1", "p1":
		return Sev1
	case "info", "low", "sev3", "p3":
		return Sev3
	}
	return Sev2
}

// alertEvent is the timeline event for an alert notification.
func alertEvent(a Alert) Event {
	kind, at, verb := KindAlertFiring, a.StartsAt, "FIRING"
	if !a.Firing() {
		kind, at, verb = KindAlertResolved, a.EndsAt, "RESOLVED"
	}
	summary := fmt.Sprintf("[%s] %s", verb, a.Name())
	if s := a.Annotations["summary"]; s != "" {
		summary += ": " + s
	}
	return Event{Kind: kind, OccurredAt: at, Actor: "alertmanager", Summary: summary, Link: a.GeneratorURL,
		DedupeKey: fmt.Sprintf("alert:%s:%d:%s", a.Fingerprint, a.StartsAt.UnixMicro(), a.Status),
		Detail: JSON(AlertDetail{Alertname: a.Name(), Status: a.Status, Severity: a.Labels["severity"],
			Fingerprint: a.Fingerprint, StartsAt: a.StartsAt, EndsAt: a.EndsAt, GeneratorURL: a.GeneratorURL,
			Labels: a.Labels, Annotations: a.Annotations})}
}
