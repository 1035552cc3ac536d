package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/incidents"
)

// Pager is the escalation pager of these incidents: it pages in the incident channel with each
// level's duties, and tells the announcement channel.
func (in *Incidents) Pager() Pager {
	duties := map[int][]string{}
	for i, l := range in.cfg.Incidents.Levels {
		duties[i+1] = l.Duties
	}
	return Pager{WS: in.ws, Duties: duties, Announce: func(ctx context.Context, inc incidents.Incident, l incidents.Level) {
		in.announce(ctx, inc, T(IconEscalation, Bold(fmt.Sprintf("Incident #%d escalated to %s", inc.Number, l.Name)),
			Plain(fmt.Sprintf(" (unresolved after %s): ", l.After)), Data(inc.Title), Break(), in.where(inc)))
	}}
}

// impact is what the incident's alerts said so far, for the opening announcement.
func (in *Incidents) impact(ctx context.Context, inc incidents.Incident) string {
	events, err := in.store.Timeline(ctx, inc.ID)
	if err != nil {
		return ""
	}
	var said []string
	for _, e := range events {
		if e.Kind == incidents.KindAlertFiring {
			said = append(said, strings.TrimPrefix(e.Summary, "[FIRING] "))
		}
	}
	return strings.Join(said, "; ")
}

// announceResolved tells stakeholders the incident is over: how long, why, and where the postmortem is.
func (in *Incidents) announceResolved(ctx context.Context, inc incidents.Incident) {
	cause := inc.RootCause
	if cause == "" {
		cause = "not given yet (see the postmortem)"
	}
	t := T(IconResolved, Bold(fmt.Sprintf("Incident #%d resolved: %s", inc.Number, inc.Title)), Break(),
		Plain("Duration: "+incidents.FormatDuration(inc.Duration(in.now()))+" · root cause: "), Data(cause), Break())
	link := ""
	if dl, ok := in.ws.(DocumentLinker); ok {
		var err error
		if link, err = dl.DocumentLink(ctx, inc.ChannelID); err != nil {
			in.log.Warn("postmortem link", "incident", inc.Number, "err", err)
		}
	}
	if link != "" {
		t = T(t, Plain("Postmortem: "), Link(link, fmt.Sprintf("postmortem #%d", inc.Number)), Plain(" · "), in.where(inc))
	} else {
		t = T(t, Plain("Postmortem: in "), Channel(inc.ChannelID))
	}
	in.announce(ctx, inc, t)
}

// terminalIncident is the incident a terminal command acts on: the one it names (perfbot exec
// -incident N puts it in the request's channel) or the only open one.
func (in *Incidents) terminalIncident(ctx context.Context, req Request) (incidents.Incident, error) {
	if ref := strings.TrimSpace(req.Channel); ref != "" && ref != TerminalChannel {
		return in.store.Lookup(ctx, ref)
	}
	open, err := in.store.ListOpen(ctx)
	if err != nil {
		return incidents.Incident{}, err
	}
	switch len(open) {
	case 0:
		return incidents.Incident{}, errs.Invalidf("no incident is open; open one with /perf incident open <title>, or name one with perfbot exec -incident N")
	case 1:
		return open[0], nil
	}
	var nums []string
	for _, i := range open {
		nums = append(nums, fmt.Sprintf("#%d", i.Number))
	}
	return incidents.Incident{}, errs.Invalidf("%d incidents are open (%s): name one with perfbot exec -incident N (in the console: incident N)",
		len(open), strings.Join(nums, ", "))
}

// TerminalChannel is the channel of requests typed in the terminal that name no incident.
const TerminalChannel = "console"

// Remind asks for the overdue status updates at now: a reminder with the update button in each
// incident's channel. It returns how many were due.
func (in *Incidents) Remind(ctx context.Context, now time.Time) (int, error) {
	cad := incidents.Cadence{}
	for sev, d := range in.cfg.Incidents.UpdateEvery {
		cad[incidents.Severity(sev)] = d.D()
	}
	due, err := in.store.ClaimReminders(ctx, now, cad)
	if err != nil {
		return 0, err
	}
	for _, inc := range due {
		if inc.ChannelID == "" || in.ws == nil {
			continue
		}
		since := inc.LastUpdateAt
		if since.IsZero() {
			since = inc.OpenedAt
		}
		t := T(IconWarning, Bold(fmt.Sprintf("Status update due for incident #%d", inc.Number)),
			Plain(fmt.Sprintf(": none for %s (%s: every %s). ", incidents.FormatDuration(now.Sub(since)), inc.Severity,
				incidents.FormatDuration(cad[inc.Severity]))))
		if inc.Lead != "" {
			t = T(t, Who(inc.Lead), Plain(", "))
		}
		t = T(t, Plain("stakeholders are waiting: post one with the button or "), Code("/perf incident update <text>"), Plain("."))
		if err := in.prompt(ctx, inc.ChannelID, t, updateStep()); err != nil {
			in.log.Warn("update reminder failed", "incident", inc.Number, "err", err)
		}
	}
	return len(due), nil
}

// RunReminders asks for overdue status updates every interval until ctx ends.
func (in *Incidents) RunReminders(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := in.Remind(ctx, in.now()); err != nil && ctx.Err() == nil {
			in.log.Error("update reminders", "err", err)
		}
		if _, err := in.store.CatchUpTerminal(ctx, in.catchUp); err != nil && ctx.Err() == nil {
			in.log.Error("terminal catch-up", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// catchUp tells an incident's channel what was done from the terminal meanwhile, creating the
// channel first for an incident opened there; stakeholders get the same summary.
func (in *Incidents) catchUp(ctx context.Context, inc incidents.Incident, events []incidents.Event) error {
	if in.ws == nil {
		return errs.Unavailablef("no chat to catch up")
	}
	if inc.ChannelID == "" {
		var err error
		if inc, err = in.Start(ctx, inc, inc.OpenedBy); err != nil {
			return err
		}
	}
	t := T(IconNote, Bold(fmt.Sprintf("While Slack was unreachable, %d thing(s) happened from the terminal:", len(events))))
	for _, e := range events {
		t = T(t, Break(), Plain("• "+e.OccurredAt.UTC().Format("15:04:05")+" UTC "), Who(e.Actor), Plain(" "+string(e.Kind)+": "), Data(e.Summary))
	}
	if err := in.ws.Post(ctx, inc.ChannelID, t); err != nil {
		return err
	}
	in.setTopic(ctx, inc)
	in.announce(ctx, inc, t)
	in.pageNow(ctx, inc, events)
	return nil
}

// pageNow pages, now that Slack answers, whoever an escalation or a team page from the terminal was
// meant to reach: from the terminal they were only recorded. A page that fails is logged; the
// summary above already says what happened.
func (in *Incidents) pageNow(ctx context.Context, inc incidents.Incident, events []incidents.Event) {
	for _, e := range events {
		var d struct {
			Level int    `json:"level"`
			Team  string `json:"team"`
		}
		if json.Unmarshal(e.Detail, &d) != nil {
			continue
		}
		switch {
		case e.Kind == incidents.KindEscalated && d.Level > 0:
			for _, l := range incidents.LevelsFrom(in.cfg.Incidents) {
				if l.Number == d.Level {
					if err := in.Pager().Page(ctx, inc, l); err != nil {
						in.log.Warn("page after catch-up failed", "incident", inc.Number, "level", l.Number, "err", err)
					}
				}
			}
		case e.Kind == incidents.KindTeamPaged && d.Team != "":
			team, ok := in.cfg.Team(d.Team)
			if !ok {
				continue
			}
			if err := in.invite(ctx, inc.ChannelID, team.Group, team.Users); err != nil {
				in.log.Warn("invite team after catch-up failed", "incident", inc.Number, "team", team.Name, "err", err)
			}
			msg := T(IconEscalation, Bold("Paging the "+team.Name+" team"), Plain(" (asked for from the terminal by "), Who(e.Actor), Plain(")"))
			for _, id := range append([]string{team.Group}, team.Users...) {
				if id != "" {
					msg = T(msg, Plain(" "), Who(id))
				}
			}
			if team.Contact != "" {
				msg = T(msg, Break(), Plain("Contact: "), Data(team.Contact))
			}
			if err := in.ws.Post(ctx, inc.ChannelID, msg); err != nil {
				in.log.Warn("team page after catch-up failed", "incident", inc.Number, "team", team.Name, "err", err)
			}
		}
	}
}
