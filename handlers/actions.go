package handlers

import (
	"context"
	"strings"

	"github.com/perfbot/perfbot/actions"
	"github.com/perfbot/perfbot/errs"
)

// Actions runs the approval-gated commands (scale, limits, analyze, index, cancel, rollback, restart, explain-analyze).
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

		actions.Rollback:       "roll a deployment back to an earlier revision after approval (runbook: Deploy hotfix or rollback)",
		actions.Restart:        "rolling restart of a deployment after approval (runbook: Memory Issues)",
		actions.ExplainAnalyze: "EXPLAIN ANALYZE a slow SELECT once, read-only, after approval (runbook: Query Optimization)",
	}
	examples := map[actions.Kind]string{
		actions.Scale: "/perf scale agentic-studio 5", actions.Limits: "/perf limits agentic-studio cpu=1000m memory=2Gi",
		actions.Analyze: "/perf analyze ideas", actions.Index: "/perf index ideas category", actions.Cancel: "/perf cancel 12345",
		actions.Rollback: "/perf rollback agentic-studio", actions.Restart: "/perf restart agentic-studio",
		actions.ExplainAnalyze: "/perf explain-analyze 12345",
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
	r, err := a.svc.RequestOnce(ctx, req.ID, req.User, req.Channel, spec)
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
		return Report{}, a.refusal(r, user, approve, err)
	}
	return a.report(r), nil
}

// refusal says why a click on request r was refused, with the people in it as mentions; an error it
// has no words for is returned as it is.
func (a *Actions) refusal(r actions.Request, user string, approve bool, err error) error {
	kind := errs.KindOf(err)
	var t Text
	switch {
	case kind == errs.Forbidden && approve && user == r.RequestedBy:
		t = T(Plain("you requested this change; someone else must approve it ("), a.whoMayApprove(), Plain(")."))
	case kind == errs.Forbidden && approve:
		t = T(Plain("you may not approve changes; "), a.whoMayApprove(), Plain("."))
	case kind != errs.Conflict:
		return err
	case r.Status == actions.StatusDenied && r.DeniedBy != "":
		t = T(Plain("this request was denied by "), Who(r.DeniedBy), Plain("."))
	case r.Status == actions.StatusExecuting && r.ApprovedBy != "":
		t = T(Plain("this request was already approved by "), Who(r.ApprovedBy), Plain(" and is running."))
	case (r.Status == actions.StatusSucceeded || r.Status == actions.StatusFailed) && r.ApprovedBy != "":
		t = T(Plain("this request was already approved by "), Who(r.ApprovedBy), Plain(" and has "+string(r.Status)+"."))
	default:
		return err
	}
	return Refuse(kind, t)
}

// whoMayApprove names who may approve: the approvers and the approver group, as mentions.
func (a *Actions) whoMayApprove() Text {
	var parts []Part
	for i, id := range a.approvers {
		if i > 0 {
			parts = append(parts, Plain(", "))
		}
		parts = append(parts, Who(id))
	}
	switch {
	case len(a.approvers) > 0 && a.group != "":
		return T(Plain("approvers are "), T(parts...), Plain(" and members of "), Who(a.group))
	case len(a.approvers) > 0:
		return T(Plain("approvers are "), T(parts...))
	case a.group != "":
		return T(Plain("approvers are members of "), Who(a.group))
	}
	return T(Plain("no approvers are configured (actions.approvers)"))
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
