package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/perfbot/perfbot/actions"
	"github.com/perfbot/perfbot/bot"
	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/handlers"
	"github.com/perfbot/perfbot/incidents"
	"github.com/perfbot/perfbot/internal/textfmt"
)

// ActionRecorder writes action events into the timeline of the incident the request was made in.
type ActionRecorder struct{ Store *incidents.Store }

var actionKinds = map[actions.EventKind]incidents.Kind{
	actions.EventRequested: incidents.KindActionRequested, actions.EventApproved: incidents.KindActionApproved,
	actions.EventDenied: incidents.KindActionDenied, actions.EventExpired: incidents.KindActionDenied,
	actions.EventExecuted: incidents.KindActionExecuted, actions.EventVerified: incidents.KindActionExecuted,
	actions.EventFailed: incidents.KindActionFailed,
}

// Record stores one action event; events outside an incident, and refused clicks, are not timeline events.
func (r ActionRecorder) Record(ctx context.Context, incidentRef string, e actions.Event) error {
	kind, ok := actionKinds[e.Kind]
	id, err := uuid.Parse(incidentRef)
	if !ok || err != nil {
		return nil
	}
	d := incidents.ActionDetail{ActionID: e.RequestID, Action: string(e.Action), Target: e.Target, Change: e.Summary}
	for _, n := range e.Numbers {
		d.Numbers = append(d.Numbers, incidents.Number{Name: n.Name, Unit: n.Unit, Before: n.Before, After: n.After})
	}
	summary, actor := e.Summary, e.Actor
	switch e.Kind {
	case actions.EventRequested:
		d.RequestedBy = e.Actor
	case actions.EventApproved:
		d.ApprovedBy = e.Actor
	case actions.EventDenied:
		d.DeniedBy = e.Actor
	case actions.EventExpired:
		summary, actor = "expired without approval: "+e.Summary, "perfbot"
	case actions.EventFailed:
		d.Error = e.Detail
	}
	_, err = r.Store.Record(ctx, id, incidents.Event{Kind: kind, OccurredAt: e.At, Actor: actor, Summary: summary,
		Detail: incidents.JSON(d), DedupeKey: fmt.Sprintf("%s:%s", e.RequestID, e.Kind)})
	return err
}

// ApprovalMessages shows the outcomes the action clock decides (an expiry, a recovery) in the
// approval messages, in place (actions.Messages).
type ApprovalMessages struct {
	Bot     *bot.Bot
	Actions *handlers.Actions
}

// ShowRequest updates r's approval message; when where it was posted is unknown, it says the
// outcome in the channel the request was made in instead (nowhere for requests from the terminal).
func (m *ApprovalMessages) ShowRequest(ctx context.Context, r actions.Request) error {
	ap := m.Actions.Approval(r)
	if r.MessageTS != "" {
		return m.Bot.UpdateApproval(ctx, r.MessageChannel, r.MessageTS, ap)
	}
	if !textfmt.IsChannelID(r.Channel) {
		return nil
	}
	parts := []handlers.Part{handlers.IconWarning, handlers.Plain("Approval request "), handlers.Bold(ap.Summary),
		handlers.Plain(" requested by "), handlers.Who(ap.RequestedBy), handlers.Plain(": " + ap.Status + ".")}
	if ap.Result != "" {
		parts = append(parts, handlers.Plain(" "), handlers.Data(ap.Result))
	}
	return m.Bot.Workspace().Post(ctx, r.Channel, handlers.T(parts...))
}

// botHooks are what the bot reports to: the incident timeline, and where each approval message
// was posted (so the action clock can update it).
type botHooks struct {
	Timeline
	// actions is set once the action service exists, before the bot runs.
	actions *actions.Service
}

// CommandDone records where an approval message was posted, then the command in the timeline.
func (h *botHooks) CommandDone(ctx context.Context, rec handlers.CommandRecord) {
	if rec.Report.Approval != nil && h.actions != nil {
		if channel, ts, ok := strings.Cut(rec.ID, ":"); ok {
			if err := h.actions.SetMessage(ctx, rec.Report.Approval.ID, channel, ts); err != nil {
				h.Timeline.Log.Warn("store where the approval message is", "request", rec.Report.Approval.ID, "err", err)
			}
		}
	}
	h.Timeline.CommandDone(ctx, rec)
}

// IncidentFor maps a channel to the incident it belongs to, for actions.Options.Incidents.
type IncidentFor struct{ Store *incidents.Store }

// IncidentFor returns the incident id of an incident channel, or "" elsewhere.
func (f IncidentFor) IncidentFor(ctx context.Context, channel string) (string, error) {
	inc, err := f.Store.ByChannel(ctx, channel)
	if errs.KindOf(err) == errs.NotFound {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return inc.ID.String(), nil
}
