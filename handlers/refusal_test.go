package handlers

import (
	"reflect"
	"strings"
	"testing"

	"github.com/perfbot/perfbot/actions"
	"github.com/perfbot/perfbot/errs"
)

// TestApprovalRefusalsNamePeopleAsMentions: a refused click says who may approve, who approved and
// who denied as user and group mentions, never as a Go slice of IDs; the kind stays the same.
func TestApprovalRefusalsNamePeopleAsMentions(t *testing.T) {
	a := NewActions(nil, []string{"U0ALICE", "U0CAROL"}, "S0APPROVE")
	req := actions.Request{RequestedBy: "U0BOB", Status: actions.StatusPending}
	approvers := T(Plain("approvers are "), User("U0ALICE"), Plain(", "), User("U0CAROL"), Plain(" and members of "), Group("S0APPROVE"))
	for _, tc := range []struct {
		name    string
		r       actions.Request
		user    string
		approve bool
		err     error
		want    Text
	}{
		{"not an approver", req, "U0DAVE", true, errs.Forbiddenf("you may not approve changes; approvers are [U0ALICE U0CAROL] and members of group S0APPROVE"),
			T(Plain("you may not approve changes; "), approvers, Plain("."))},
		{"own request", req, "U0BOB", true, errs.Forbiddenf("you requested this change; someone else must approve it (approvers are [U0ALICE U0CAROL])"),
			T(Plain("you requested this change; someone else must approve it ("), approvers, Plain(")."))},
		{"approved and done", actions.Request{RequestedBy: "U0BOB", Status: actions.StatusSucceeded, ApprovedBy: "U0CAROL"}, "U0ALICE", true,
			errs.Conflictf("this request was already approved by U0CAROL and has succeeded"),
			T(Plain("this request was already approved by "), User("U0CAROL"), Plain(" and has succeeded."))},
		{"running", actions.Request{RequestedBy: "U0BOB", Status: actions.StatusExecuting, ApprovedBy: "U0CAROL"}, "U0ALICE", false,
			errs.Conflictf("this request was already approved by U0CAROL and is running"),
			T(Plain("this request was already approved by "), User("U0CAROL"), Plain(" and is running."))},
		{"denied", actions.Request{RequestedBy: "U0BOB", Status: actions.StatusDenied, DeniedBy: "U0ALICE"}, "U0CAROL", true,
			errs.Conflictf("this request was denied by U0ALICE"), T(Plain("this request was denied by "), User("U0ALICE"), Plain("."))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := a.refusal(tc.r, tc.user, tc.approve, tc.err)
			rf, ok := err.(*Refusal)
			if !ok {
				t.Fatalf("refusal = %v (%T), want a *Refusal", err, err)
			}
			if !reflect.DeepEqual(rf.Text, tc.want) {
				t.Errorf("text = %+v\nwant %+v", rf.Text, tc.want)
			}
			if errs.KindOf(err) != errs.KindOf(tc.err) {
				t.Errorf("kind %v, want %v", errs.KindOf(err), errs.KindOf(tc.err))
			}
			if msg := errs.UserMessage(err, "r"); strings.Contains(msg, "[") {
				t.Errorf("plain message %q shows a slice", msg)
			}
		})
	}
	if err := errs.Conflictf("this request expired at 12:00; ask again"); a.refusal(req, "U0ALICE", true, err) != err {
		t.Error("a refusal without people in it was rewritten")
	}
}
