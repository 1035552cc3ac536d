package console

import (
	"strings"

	"github.com/perfbot/perfbot/handlers"
)

// renderApproval shows a change request: what it changes, who asked, where it stands, and how
// another approver approves it from the terminal.
func renderApproval(ew *errWriter, a handlers.Approval) {
	ew.printf("Change request %s: %s\n", oneLine(a.ID), oneLine(a.Summary))
	ew.printf("  requested by %s · status %s", oneLine(a.RequestedBy), strings.ToUpper(oneLine(a.Status)))
	if a.DecidedBy != "" {
		ew.printf(" · decided by %s", oneLine(a.DecidedBy))
	}
	ew.printf("\n")
	for _, c := range a.Changes {
		ew.printf("  %s: %s → %s\n", oneLine(c.What), oneLine(c.From), oneLine(c.To))
	}
	if a.DryRun != "" {
		ew.printf("  dry run: %s\n", oneLine(a.DryRun))
	}
	for _, w := range a.Warnings {
		ew.printf("  warning: %s\n", oneLine(w))
	}
	if a.Result != "" {
		ew.printf("  result: %s\n", oneLine(a.Result))
	}
	if a.Status == "pending" && len(a.ID) >= 8 {
		ew.printf("  Another approver runs it with: perfbot exec '/perf approve %s' (or denies it with /perf deny)\n", a.ID[:8])
	}
}
