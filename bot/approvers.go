package bot

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// groupCacheTTL is how long a user group's members are reused: usergroups.users.list is rate limited
// (tier 2, about 20 calls a minute), and a burst of Approve clicks must not spend it.
const groupCacheTTL = time.Minute

// GroupApprovers says whether a user belongs to the Slack user group allowed to approve changes.
type GroupApprovers struct {
	b     *Bot
	group string

	mu      sync.Mutex
	members []string
	fetched time.Time
}

// Approvers returns the approver check for a Slack user group ID ("S…").
func (b *Bot) Approvers(group string) *GroupApprovers { return &GroupApprovers{b: b, group: group} }

// IsApprover reads the group's members (usergroups.users.list; paid plans only), reusing them for a minute.
func (g *GroupApprovers) IsApprover(ctx context.Context, user string) (bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.members == nil || time.Since(g.fetched) > groupCacheTTL {
		members, err := g.b.api.GetUserGroupMembersContext(ctx, g.group)
		if err != nil {
			return false, fmt.Errorf("usergroups.users.list %s: %w", g.group, err)
		}
		g.members, g.fetched = members, time.Now()
	}
	return slices.Contains(g.members, user), nil
}
