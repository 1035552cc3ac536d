package incidents

import (
	"encoding/json"
	"time"
)

// Finding is one diagnostic the bot reported during an incident, as kept in a command event's
// detail. It mirrors probes.Finding with the status as text ("OK", "UNKNOWN", "WARN", "CRIT"),
// so stored timelines stay readable whatever the probes package becomes.
type Finding struct {
	Check     string  `json:"check"`
	Status    string  `json:"status"`
	Subject   string  `json:"subject,omitempty"`
	Value     float64 `json:"value"`
	Threshold float64 `json:"threshold,omitempty"`
	Unit      string  `json:"unit,omitempty"`
	Message   string  `json:"message"`
}

// rank orders findings like probes.Finding.Severity: status first, then how far past the threshold.
func (f Finding) rank() float64 {
	status := map[string]float64{"OK": 0, "UNKNOWN": 1, "WARN": 2, "CRIT": 3}[f.Status]
	ratio := 0.0
	if f.Threshold > 0 {
		ratio = min(f.Value/f.Threshold, 1000)
	}
	return status*10000 + ratio
}

// Number is a key number a chart, command or action carried, before and after.
type Number struct {
	Name   string  `json:"name"`
	Unit   string  `json:"unit,omitempty"`
	Before float64 `json:"before"`
	After  float64 `json:"after"`
	// From and To are when Before and After were measured (a chart's first and last point); zero
	// when both were read at the moment the event was recorded (an action's before and after).
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
}

// CommandDetail is the Detail of a command event: a /perf command run in the incident channel.
type CommandDetail struct {
	Command  string    `json:"command"` // e.g. "/perf db agentic-studio"
	Service  string    `json:"service,omitempty"`
	Status   string    `json:"status,omitempty"`
	Headline string    `json:"headline,omitempty"`
	Findings []Finding `json:"findings,omitempty"` // ranked worst first, as shown
	Numbers  []Number  `json:"numbers,omitempty"`
}

// ChartDetail is the Detail of a chart event: the key numbers of a posted chart.
type ChartDetail struct {
	Title     string   `json:"title"`
	Unit      string   `json:"unit,omitempty"`
	Threshold float64  `json:"threshold,omitempty"`
	Numbers   []Number `json:"numbers,omitempty"` // e.g. each series' first and last value
}

// ActionDetail is the Detail of the action_* events; ActionID ties one action's events together.
type ActionDetail struct {
	ActionID    string   `json:"action_id"`
	Action      string   `json:"action"` // scale, limits, analyze, index, cancel, rollback, restart, explain-analyze
	Target      string   `json:"target"` // e.g. "agentic-studio/agentic-studio" or "ideas(user_id)"
	Change      string   `json:"change,omitempty"`
	RequestedBy string   `json:"requested_by,omitempty"`
	ApprovedBy  string   `json:"approved_by,omitempty"`
	DeniedBy    string   `json:"denied_by,omitempty"`
	Reason      string   `json:"reason,omitempty"`
	Error       string   `json:"error,omitempty"`
	Numbers     []Number `json:"numbers,omitempty"`
}

// decode fills v from the event's detail; it reports false when there is none or it does not fit.
func (e Event) decode(v any) bool {
	return len(e.Detail) > 0 && json.Unmarshal(e.Detail, v) == nil
}

// Command returns the event's CommandDetail when it is a command event.
func (e Event) Command() (CommandDetail, bool) {
	var d CommandDetail
	return d, e.Kind == KindCommand && e.decode(&d)
}

// Chart returns the event's ChartDetail when it is a chart event.
func (e Event) Chart() (ChartDetail, bool) {
	var d ChartDetail
	return d, e.Kind == KindChart && e.decode(&d)
}

// Action returns the event's ActionDetail when it is an action_* event.
func (e Event) Action() (ActionDetail, bool) {
	var d ActionDetail
	switch e.Kind {
	case KindActionRequested, KindActionApproved, KindActionDenied, KindActionExecuted, KindActionFailed:
		return d, e.decode(&d)
	}
	return d, false
}

// Alert returns the event's AlertDetail when it is an alert event.
func (e Event) Alert() (AlertDetail, bool) {
	var d AlertDetail
	return d, (e.Kind == KindAlertFiring || e.Kind == KindAlertResolved) && e.decode(&d)
}
