package bot

import (
	"context"
	"fmt"
	"slices"
)

// GroupApprovers says whether a user belongs to the Slack user group allowed to approve changes.
type GroupApprovers struct {
	b     *Bot
	group string
}

// Approvers returns the approver check for a Slack user group ID ("S…").
func (b *Bot) Approvers(group string) GroupApprovers { return GroupApprovers{b: b, group: group} }

// IsApprover reads the group's members (usergroups.users.list; paid plans only).
func (g GroupApprovers) IsApprover(ctx context.Context, user string) (bool, error) {
	members, err := g.b.api.GetUserGroupMembersContext(ctx, g.group)
	if err != nil {
		return false, fmt.Errorf("usergroups.users.list %s: %w", g.group, err)
	}
	return slices.Contains(members, user), nil
}
