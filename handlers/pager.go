package handlers

import (
	"context"
	"fmt"

	"github.com/perfbot/perfbot/incidents"
	"github.com/perfbot/perfbot/internal/textfmt"
)

// Pager pages an escalation level in the incident's channel: it mentions and invites the level's people.
type Pager struct{ WS Workspace }

// Page posts the escalation and invites the level's users.
func (p Pager) Page(ctx context.Context, inc incidents.Incident, l incidents.Level) error {
	if inc.ChannelID == "" {
		return fmt.Errorf("page level %d: %w", l.Number, incidents.ErrNoChannel)
	}
	var users []string
	for _, id := range l.Page {
		if textfmt.IsUserID(id) {
			users = append(users, id)
		}
	}
	if len(users) > 0 {
		if err := p.WS.Invite(ctx, inc.ChannelID, users); err != nil {
			return fmt.Errorf("invite level %d: %w", l.Number, err)
		}
	}
	parts := []Part{IconEscalation, Bold("Escalation — " + l.Name), Plain(fmt.Sprintf(" (unresolved after %s). ", l.After))}
	if len(l.Page) == 0 {
		parts = append(parts, Plain("Nobody is configured to page at this level (incidents.levels)."))
	}
	for i, id := range l.Page {
		if i > 0 {
			parts = append(parts, Plain(" "))
		}
		parts = append(parts, Who(id))
	}
	if len(l.Page) > 0 {
		parts = append(parts, Plain(" please join."))
	}
	return p.WS.Post(ctx, inc.ChannelID, T(parts...))
}
