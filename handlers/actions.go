package handlers

import (
	"context"
	"strings"

	"github.com/perfbot/perfbot/actions"
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
	ap := a.Approval(r)
	return Report{Command: "/perf " + string(r.Spec.Kind), Title: "Approval needed: " + ap.Summary, Approval: &ap}
}

// Approval is how request r is shown to approvers: what it changes, who asked, who may approve,
// and where it stands.
func (a *Actions) Approval(r actions.Request) Approval {
	ap := Approval{ID: r.ID, Summary: r.Spec.Summary(), RequestedBy: r.RequestedBy, DryRun: r.Plan.DryRun,
		Warnings: r.Plan.Warnings, Approvers: a.approvers, ApproverGroup: a.group, ExpiresAt: r.ExpiresAt, Status: string(r.Status), Result: r.Result}
	for _, c := range r.Plan.Changes {
		ap.Changes = append(ap.Changes, Change{What: c.What, From: c.From, To: c.To})
	}
	ap.DecidedBy = r.ApprovedBy
	if r.DeniedBy != "" {
		ap.DecidedBy = r.DeniedBy
	}
	return ap
}
