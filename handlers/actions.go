package handlers

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/perfbot/perfbot/actions"
	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/incidents"
)

// Actions runs the approval-gated commands (scale, limits, analyze, index, cancel).
type Actions struct {
	svc       *actions.Service
	approvers []string
	group     string
}

// NewActions returns the action commands over an actions service; approvers and group are who may approve.
func NewActions(svc *actions.Service, approvers []string, group string) *Actions {
	return &Actions{svc: svc, approvers: approvers, group: group}
}

// Commands returns one command per action kind for Handlers.Add.
func (a *Actions) Commands() []Command {
	summaries := map[actions.Kind]string{
		actions.Scale:   "scale a deployment after a second person approves (runbook: Resource Scaling)",
		actions.Limits:  "change a deployment's CPU/memory limits after approval (runbook: Resource Limits)",
		actions.Analyze: "ANALYZE a table after approval (runbook: Update table statistics)",
		actions.Index:   "CREATE INDEX CONCURRENTLY after approval (runbook: Add missing indexes)",
		actions.Cancel:  "cancel (or --terminate) a database backend after approval (runbook: locks)",
	}
	examples := map[actions.Kind]string{
		actions.Scale: "/perf scale agentic-studio 5", actions.Limits: "/perf limits agentic-studio cpu=1000m memory=2Gi",
		actions.Analyze: "/perf analyze ideas", actions.Index: "/perf index ideas category", actions.Cancel: "/perf cancel 12345",
	}
	var out []Command
	for _, k := range actions.Kinds {
		out = append(out, Command{Name: string(k), Usage: strings.TrimPrefix(actions.Usage(k), "/perf "), Summary: summaries[k],
			Example: examples[k], Run: func(ctx context.Context, req Request, args []string) (Report, error) {
				return a.request(ctx, req, string(k)+" "+strings.Join(args, " "))
			}})
	}
	return out
}

func (a *Actions) request(ctx context.Context, req Request, text string) (Report, error) {
	spec, err := actions.ParseRequest(text)
	if err != nil {
		return Report{}, err
	}
	r, err := a.svc.Request(ctx, req.User, req.Channel, spec)
	if err != nil {
		return Report{}, err
	}
	return a.report(r), nil
}

// Decide applies an Approve or Deny click by user on request id and returns the updated approval.
func (a *Actions) Decide(ctx context.Context, id, user string, approve bool) (Report, error) {
	var r actions.Request
	var err error
	if approve {
		r, err = a.svc.Approve(ctx, id, user)
	} else {
		r, err = a.svc.Deny(ctx, id, user)
	}
	if err != nil {
		return Report{}, err
	}
	return a.report(r), nil
}

func (a *Actions) report(r actions.Request) Report {
	ap := &Approval{ID: r.ID, Summary: r.Spec.Summary(), RequestedBy: r.RequestedBy, DryRun: r.Plan.DryRun,
		Warnings: r.Plan.Warnings, Approvers: a.approvers, ApproverGroup: a.group, ExpiresAt: r.ExpiresAt, Status: string(r.Status), Result: r.Result}
	for _, c := range r.Plan.Changes {
		ap.Changes = append(ap.Changes, Change{What: c.What, From: c.From, To: c.To})
	}
	ap.DecidedBy = r.ApprovedBy
	if r.DeniedBy != "" {
		ap.DecidedBy = r.DeniedBy
	}
	return Report{Command: "/perf " + string(r.Spec.Kind), Title: "Approval needed: " + ap.Summary, Approval: ap}
}

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
