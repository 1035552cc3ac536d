package handlers

import (
	"context"
	"fmt"
	"strings"

	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/incidents"
	"github.com/perfbot/perfbot/internal/textfmt"
)

const (
	updateUsage = "usage: /perf incident update <text>  e.g. /perf incident update rollback done, p95 back under 500 ms"
	leadUsage   = "usage: /perf incident lead @user  (a person in this workspace)"
)

// updateStep is the button that asks for a status update (in Slack: a modal) and posts it.
func updateStep() NextStep {
	return NextStep{Label: "Post a status update", Command: "/perf incident update", Ask: "Status update for stakeholders"}
}

// update posts a status update in the incident channel and the announcement channel, and records it.
func (in *Incidents) update(ctx context.Context, req Request, args []string) (Report, error) {
	text := strings.Join(args, " ")
	if strings.TrimSpace(text) == "" {
		return Report{}, errs.Invalidf(updateUsage)
	}
	inc, err := in.here(ctx, req)
	if err != nil {
		return Report{}, err
	}
	inc, err = in.store.PostUpdate(ctx, inc.ID, req.User, text)
	if err != nil {
		return Report{}, err
	}
	in.announce(ctx, inc, T(IconNote, Bold(fmt.Sprintf("Update on incident #%d: %s", inc.Number, inc.Title)), Break(),
		Data(inc.LastUpdate), Break(), Plain("by "), Who(req.User), Plain(" · "), in.where(inc)))
	in.setTopic(ctx, inc)
	return Report{Command: "/perf incident update", Title: "Status update",
		Text: T(IconNote, Plain("Status update by "), Who(req.User), Plain(": "), Data(inc.LastUpdate))}, nil
}

// lead makes the named user the incident's lead.
func (in *Incidents) lead(ctx context.Context, req Request, args []string) (Report, error) {
	if len(args) != 1 {
		return Report{}, errs.Invalidf(leadUsage)
	}
	id, err := in.userRef(ctx, args[0])
	if err != nil {
		return Report{}, err
	}
	inc, err := in.here(ctx, req)
	if err != nil {
		return Report{}, err
	}
	inc, err = in.store.SetLead(ctx, inc.ID, req.User, id)
	if err != nil {
		return Report{}, err
	}
	if in.ws != nil {
		if err := in.ws.Invite(ctx, inc.ChannelID, []string{id}); err != nil {
			in.log.Warn("invite lead failed", "incident", inc.Number, "err", err)
		}
	}
	in.setTopic(ctx, inc)
	in.announce(ctx, inc, T(IconIncident, Plain(fmt.Sprintf("Incident #%d: ", inc.Number)), Who(id), Plain(" now leads. "), in.where(inc)))
	return Report{Command: "/perf incident lead", Title: "Incident lead",
		Text: T(IconIncident, Who(id), Plain(fmt.Sprintf(" now leads incident #%d (set by ", inc.Number)), Who(req.User), Plain(")."))}, nil
}

// userRef reads a user reference: @ID or an ID (the chat front end turns its mentions into @ID), or in
// the terminal a name in terminal.users.
// Anything that is not a user of the workspace is a usage error.
func (in *Incidents) userRef(ctx context.Context, ref string) (string, error) {
	id := strings.TrimPrefix(ref, "@")
	if mapped, ok := in.cfg.Terminal.Users[id]; ok && in.ws == nil {
		id = mapped
	}
	if !textfmt.IsUserID(id) {
		return "", errs.Invalidf("%q is not a user. %s", ref, leadUsage)
	}
	if uc, ok := in.ws.(UserChecker); ok && in.ws != nil {
		exists, err := uc.UserExists(ctx, id)
		if err != nil {
			return "", fmt.Errorf("look up %s: %w", id, err)
		}
		if !exists {
			return "", errs.Invalidf("%s is not a user of this workspace. %s", id, leadUsage)
		}
	}
	return id, nil
}

// where refers to the incident's channel, or says it has none yet.
func (in *Incidents) where(inc incidents.Incident) Part {
	if inc.ChannelID == "" {
		return Plain("(no channel yet: run from the terminal)")
	}
	return T(Plain("Channel: "), Channel(inc.ChannelID))
}

// announce posts t in the service's announcement channel (incidents.announce), if it has one.
// A failure is logged: stakeholders miss one message, the incident goes on.
func (in *Incidents) announce(ctx context.Context, inc incidents.Incident, t Text) {
	ch := in.cfg.Incidents.Announce[inc.Service]
	if ch == "" || in.ws == nil {
		return
	}
	if err := in.ws.Post(ctx, ch, t); err != nil {
		in.log.Warn("announcement failed", "incident", inc.Number, "channel", ch, "err", err)
	}
}

// announceOpen tells stakeholders an incident opened: what, how bad, where, and who leads.
func (in *Incidents) announceOpen(ctx context.Context, inc incidents.Incident, impact string) {
	lead := inc.Lead
	if lead == "" {
		lead = inc.OpenedBy
	}
	if impact == "" {
		impact = "being assessed"
	}
	in.announce(ctx, inc, T(IconIncident, Bold(fmt.Sprintf("Incident #%d opened: %s", inc.Number, inc.Title)), Break(),
		Plain("Severity "+strings.ToUpper(string(inc.Severity))+" · service "), Data(inc.Service), Break(),
		Plain("Impact so far: "), Data(impact), Break(), in.where(inc), Plain(" · lead: "), Who(lead)))
}

// topic is the incident channel's topic: severity, lead, status and the last update.
func topic(inc incidents.Incident) string {
	parts := []string{strings.ToUpper(string(inc.Severity)), inc.Service, inc.Title}
	lead := "none (/perf incident lead @you)"
	if inc.Lead != "" {
		lead = "@" + inc.Lead
	}
	parts = append(parts, "lead "+lead, "status "+string(inc.Status))
	if !inc.LastUpdateAt.IsZero() {
		parts = append(parts, "last update "+inc.LastUpdateAt.UTC().Format("15:04")+" UTC: "+textfmt.Truncate(inc.LastUpdate, 60))
	} else {
		parts = append(parts, "no update yet")
	}
	return strings.Join(parts, " · ")
}

// setTopic makes the channel topic follow the incident's state.
func (in *Incidents) setTopic(ctx context.Context, inc incidents.Incident) {
	if in.ws == nil || inc.ChannelID == "" {
		return
	}
	if err := in.ws.SetTopic(ctx, inc.ChannelID, topic(inc)); err != nil {
		in.log.Warn("set topic failed", "incident", inc.Number, "err", err)
	}
}

// prompt posts t with buttons where the workspace can, else t alone.
func (in *Incidents) prompt(ctx context.Context, channel string, t Text, steps ...NextStep) error {
	if p, ok := in.ws.(Prompter); ok {
		return p.Prompt(ctx, channel, t, steps)
	}
	return in.ws.Post(ctx, channel, t)
}
