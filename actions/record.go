package actions

import (
	"context"
	"log/slog"
	"time"
)

// Recorder receives every step of a request for the incident timeline. incidentRef is the request's
// incident (empty when the request was made outside one). The bot adapts it to the incidents package.
type Recorder interface {
	Record(ctx context.Context, incidentRef string, e Event) error
}

// Approvers says whether a user may approve beyond the configured list, e.g. by user-group membership.
type Approvers interface {
	IsApprover(ctx context.Context, user string) (bool, error)
}

// Messages shows a request as it stands now where its approval was asked for (in Slack: the
// approval message, updated in place, its buttons gone once it is decided). The clock calls it for
// the outcomes it decides (expired, recovered); r.MessageChannel and r.MessageTS locate the message
// when the bot recorded them (SetMessage). It must be safe to call again for the same outcome.
type Messages interface {
	ShowRequest(ctx context.Context, r Request) error
}

// Incidents finds the open incident of a channel so a request can be tied to its timeline.
type Incidents interface {
	IncidentFor(ctx context.Context, channel string) (ref string, err error)
}

// EventKind names a step of a request's life.
type EventKind string

// The steps a request goes through.
const (
	EventRequested EventKind = "requested"
	EventApproved  EventKind = "approved"
	EventDenied    EventKind = "denied"
	EventRefused   EventKind = "refused"
	EventExpired   EventKind = "expired"
	EventExecuted  EventKind = "executed"
	EventVerified  EventKind = "verified"
	EventFailed    EventKind = "failed"
)

// Event is one step of a request: who did what, when, and a line a person can read.
type Event struct {
	At        time.Time `json:"at"`
	RequestID string    `json:"request_id"`
	Kind      EventKind `json:"kind"`
	Actor     string    `json:"actor,omitempty"`
	// Summary is the request's one-line summary, e.g. "scale agentic-studio/agentic-studio to 5 replicas".
	Summary string `json:"summary"`
	// Detail is what happened in this step (the plan, the result, the error).
	Detail string `json:"detail,omitempty"`
	// Action and Target say which kind of change this is and what it changes (Spec.Target).
	Action Kind   `json:"action,omitempty"`
	Target string `json:"target,omitempty"`
	// Numbers are the key numbers the change moved, before and after; set on the verified step of
	// the actions that measure them (rollback, restart, explain-analyze).
	Numbers []Number `json:"numbers,omitempty"`
}

// Number is one key number of a change, read before and after it, e.g. the ready replicas.
type Number struct {
	Name   string  `json:"name"`
	Unit   string  `json:"unit,omitempty"`
	Before float64 `json:"before"`
	After  float64 `json:"after"`
}

// numberer is an action that measured key numbers before and after it ran (after verify).
type numberer interface {
	numbers() []Number
}

// record writes the event to the request's audit trail, the log and the Recorder. Failures to record
// are logged, never returned: the change itself has already happened or been refused. Once shutdown
// has given up on running requests nothing more is recorded: lease recovery tells their outcome.
func (s *Service) record(ctx context.Context, r Request, kind EventKind, actor, detail string) {
	s.recordNumbers(ctx, r, kind, actor, detail, nil)
}

// recordNumbers is record with the key numbers the step measured.
func (s *Service) recordNumbers(ctx context.Context, r Request, kind EventKind, actor, detail string, numbers []Number) {
	if s.abandoned.Load() { // shutdown gave up on running requests: lease recovery records their outcome
		s.log.Warn("action event left to lease recovery", "request", r.ID, "event", string(kind), "detail", detail)
		return
	}
	e := Event{At: s.now(), RequestID: r.ID, Kind: kind, Actor: actor, Summary: r.Plan.Summary, Detail: detail,
		Action: r.Spec.Kind, Target: r.Spec.Target(), Numbers: numbers}
	if e.Summary == "" {
		e.Summary = r.Spec.Summary()
	}
	lvl := slog.LevelInfo
	if kind == EventFailed || kind == EventRefused {
		lvl = slog.LevelWarn
	}
	s.log.Log(ctx, lvl, "action "+string(kind), "request", r.ID, "action", string(r.Spec.Kind),
		"actor", actor, "incident", r.IncidentRef, "summary", e.Summary, "detail", detail)
	if err := s.store.addEvent(ctx, e); err != nil {
		s.log.Error("store action event", "request", r.ID, "event", string(kind), "err", err)
	}
	if s.recorder == nil {
		return
	}
	if err := s.recorder.Record(ctx, r.IncidentRef, e); err != nil {
		s.log.Error("record action event in timeline", "request", r.ID, "event", string(kind), "err", err)
	}
}
