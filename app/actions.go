package app

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/perfbot/perfbot/actions"
	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/incidents"
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
	d := incidents.ActionDetail{ActionID: e.RequestID, Change: e.Summary}
	switch e.Kind {
	case actions.EventRequested:
		d.RequestedBy = e.Actor
	case actions.EventApproved:
		d.ApprovedBy = e.Actor
	case actions.EventDenied:
		d.DeniedBy = e.Actor
	case actions.EventFailed:
		d.Error = e.Detail
	}
	_, err = r.Store.Record(ctx, id, incidents.Event{Kind: kind, OccurredAt: e.At, Actor: e.Actor, Summary: e.Summary,
		Detail: incidents.JSON(d), DedupeKey: fmt.Sprintf("%s:%s", e.RequestID, e.Kind)})
	return err
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
