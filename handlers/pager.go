package handlers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/perfbot/perfbot/incidents"
	"github.com/perfbot/perfbot/internal/textfmt"
	"github.com/perfbot/perfbot/probes"
)

// Pager pages an escalation level in the incident's channel: it mentions and invites the level's
// people, shows the level's duties as a checklist, and tells stakeholders.
type Pager struct {
	WS Workspace
	// Duties are each level's duties, by level number (incidents.levels[].duties).
	Duties map[int][]string
	// Announce, when set, tells the announcement channel about a page that went out.
	Announce func(ctx context.Context, inc incidents.Incident, l incidents.Level)
}

// inviteFailure is one person the page could not bring into the channel, and why.
type inviteFailure struct {
	user string
	err  error
}

// maxReasonRunes bounds how much of an invite error the channel is shown.
const maxReasonRunes = 120

// Page invites the level's users into the incident's channel, each on their own so one who cannot be
// invited (deactivated, unknown, from another workspace) keeps nobody else out, then posts the page
// mentioning everyone on the level whatever the invites did, saying who could not be invited and
// why. The invites get at most half of ctx's time, so the page itself is never starved. It returns
// an error only when the page could not be posted: a level whose message went out has been paged.
func (p Pager) Page(ctx context.Context, inc incidents.Incident, l incidents.Level) error {
	if inc.ChannelID == "" {
		return fmt.Errorf("page level %d: %w", l.Number, incidents.ErrNoChannel)
	}
	failed := p.invite(ctx, inc.ChannelID, l.Page)
	when := " (paged when the incident opened). "
	if l.After > 0 {
		when = " (unresolved after " + incidents.FormatDuration(l.After) + "). "
	}
	parts := []Part{IconEscalation, Bold("Escalation — " + l.Name), Plain(when)}
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
	for i, f := range failed {
		if i == 0 {
			parts = append(parts, Break(), Plain("Could not invite "))
		} else {
			parts = append(parts, Plain("; "))
		}
		parts = append(parts, Who(f.user), Plain(" ("), Data(textfmt.Truncate(probes.RedactText(f.err.Error()), maxReasonRunes)), Plain(")"))
	}
	if len(failed) > 0 {
		parts = append(parts, Plain(": please add them by hand."))
	}
	if duties := p.Duties[l.Number]; len(duties) > 0 {
		parts = append(parts, Break(), Bold("Duties at this level:"))
		for _, d := range duties {
			parts = append(parts, Break(), Plain("☐ "), Data(d))
		}
	}
	if err := p.WS.Post(ctx, inc.ChannelID, T(parts...)); err != nil {
		errs := []error{err}
		for _, f := range failed {
			errs = append(errs, fmt.Errorf("invite %s: %w", f.user, f.err))
		}
		return fmt.Errorf("page level %d: %w", l.Number, errors.Join(errs...))
	}
	if p.Announce != nil {
		p.Announce(ctx, inc, l)
	}
	return nil
}

// invite invites each user on page (groups and names cannot be invited) and returns who failed.
func (p Pager) invite(ctx context.Context, channel string, page []string) []inviteFailure {
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, time.Now().Add(time.Until(deadline)/2))
		defer cancel()
	}
	var failed []inviteFailure
	for _, id := range page {
		if !textfmt.IsUserID(id) {
			continue
		}
		if err := p.WS.Invite(ctx, channel, []string{id}); err != nil {
			failed = append(failed, inviteFailure{user: id, err: err})
		}
	}
	return failed
}
