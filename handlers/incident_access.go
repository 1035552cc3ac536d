package handlers

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/incidents"
	"github.com/perfbot/perfbot/internal/textfmt"
)

// mayDecide refuses user the decision what (escalate, resolve) on inc unless incidents.may_resolve
// allows them: a user it lists, the on-call list ("on_call"), or the incident's responders
// ("responders": whoever opened it and the users its fired levels paged). Anyone can join a public
// incident channel; not everyone there may page the next level or close the incident.
func (in *Incidents) mayDecide(ctx context.Context, inc incidents.Incident, user, what string) error {
	allowed := in.cfg.Incidents.MayResolve
	if len(allowed) == 0 {
		allowed = []string{config.MayResolveResponders, config.MayResolveOnCall}
	}
	for _, a := range allowed {
		switch a {
		case config.MayResolveOnCall:
			if slices.Contains(in.cfg.Incidents.OnCall, user) {
				return nil
			}
		case config.MayResolveResponders:
			ok, err := in.isResponder(ctx, inc, user)
			if err != nil || ok {
				return err
			}
		default:
			if ok, err := in.isOrIn(ctx, a, user); err != nil || ok {
				return err
			}
		}
	}
	return errs.Forbiddenf("only %s may %s this incident (incidents.may_resolve)", whoMayDecide(allowed), what)
}

// isResponder reports whether user opened inc or was paged by one of its levels that has fired.
func (in *Incidents) isResponder(ctx context.Context, inc incidents.Incident, user string) (bool, error) {
	if user == inc.OpenedBy {
		return true, nil
	}
	escs, err := in.store.Escalations(ctx, inc.ID)
	if err != nil {
		return false, fmt.Errorf("read who was paged: %w", err)
	}
	for _, e := range escs {
		if e.FiredAt.IsZero() {
			continue
		}
		for _, p := range e.Level.Page {
			if ok, err := in.isOrIn(ctx, p, user); err != nil || ok {
				return ok, err
			}
		}
	}
	return false, nil
}

// isOrIn reports whether id is user, or a user group (S…) user is a member of. A group's members
// are asked of the workspace; without one (the terminal) a group matches nobody.
func (in *Incidents) isOrIn(ctx context.Context, id, user string) (bool, error) {
	if id == user {
		return true, nil
	}
	gl, ok := in.ws.(GroupLister)
	if !ok || !textfmt.IsGroupID(id) {
		return false, nil
	}
	members, err := gl.GroupMembers(ctx, id)
	if err != nil {
		return false, fmt.Errorf("members of %s: %w", id, err)
	}
	return slices.Contains(members, user), nil
}

// whoMayDecide says incidents.may_resolve in words.
func whoMayDecide(allowed []string) string {
	var parts []string
	for _, a := range allowed {
		switch a {
		case config.MayResolveResponders:
			parts = append(parts, "its responders (who opened it and who was paged)")
		case config.MayResolveOnCall:
			parts = append(parts, "the on-call engineers")
		default:
			parts = append(parts, a)
		}
	}
	return strings.Join(parts, " or ")
}
