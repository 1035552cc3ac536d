package handlers

import (
	"context"
	"fmt"
	"strings"

	"github.com/perfbot/perfbot/errs"
)

// DecisionCommands returns /perf actions, /perf approve and /perf deny: the approval flow without
// buttons, for the terminal (and for anyone who prefers typing). The two-person rule is the same.
func (a *Actions) DecisionCommands() []Command {
	return []Command{
		{Name: "actions", Usage: "actions", Summary: "the newest change requests and where each stands",
			Example: "/perf actions", Run: a.list},
		{Name: "approve", Usage: "approve <request id>", Summary: "approve someone else's change request (you must be an approver)",
			Example: "/perf approve 3f2a9c1e", Run: func(ctx context.Context, req Request, args []string) (Report, error) {
				return a.decide(ctx, req, args, true)
			}},
		{Name: "deny", Usage: "deny <request id>", Summary: "deny a change request (or withdraw your own)",
			Example: "/perf deny 3f2a9c1e", Run: func(ctx context.Context, req Request, args []string) (Report, error) {
				return a.decide(ctx, req, args, false)
			}},
	}
}

func (a *Actions) decide(ctx context.Context, req Request, args []string, approve bool) (Report, error) {
	verb := "deny"
	if approve {
		verb = "approve"
	}
	if len(args) != 1 {
		return Report{}, errs.Invalidf("usage: /perf %s <request id>  (see /perf actions)", verb)
	}
	r, err := a.svc.Find(ctx, args[0])
	if err != nil {
		return Report{}, err
	}
	return a.Decide(ctx, r.ID, req.User, approve)
}

func (a *Actions) list(ctx context.Context, _ Request, args []string) (Report, error) {
	if len(args) > 0 {
		return Report{}, errs.Invalidf("usage: /perf actions")
	}
	rs, err := a.svc.List(ctx, 20)
	if err != nil {
		return Report{}, err
	}
	if len(rs) == 0 {
		return Report{Command: "/perf actions", Title: "Change requests", Text: T(Plain("No change requests yet."))}, nil
	}
	parts := []Part{Bold("Change requests (pending first):")}
	for _, r := range rs {
		parts = append(parts, Break(), Code(r.ID[:8]), Plain(fmt.Sprintf(" %s — ", strings.ToUpper(string(r.Status)))),
			Data(r.Spec.Summary()), Plain(" · requested by "), Who(r.RequestedBy))
		switch {
		case r.ApprovedBy != "":
			parts = append(parts, Plain(" · approved by "), Who(r.ApprovedBy))
		case r.DeniedBy != "":
			parts = append(parts, Plain(" · denied by "), Who(r.DeniedBy))
		}
	}
	return Report{Command: "/perf actions", Title: "Change requests", Text: T(parts...), Ephemeral: true}, nil
}
