package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/incidents"
	"github.com/perfbot/perfbot/probes"
)

// teamAreas says which team's area each signal is in: a report whose top finding has one of them
// offers to page that team.
var teamAreas = map[probes.Signal]string{
	probes.SigDBLock: "database", probes.SigDBQueryTime: "database", probes.SigDBSlowStatement: "database",
	probes.SigDBIdleInTx: "database", probes.SigDBConnections: "database", probes.SigDBCacheHit: "database",
	probes.SigNodeCPU: "infrastructure", probes.SigNodeMemory: "infrastructure", probes.SigPodMemory: "infrastructure",
	probes.SigPodCPU: "infrastructure", probes.SigPodRestarts: "infrastructure", probes.SigReplicas: "infrastructure",
	probes.SigRedisMemory: "infrastructure", probes.SigRedisEvictions: "infrastructure",
}

// TeamStep offers to page the team whose area rep's top finding is in, when such a team is configured.
func (h *Handlers) TeamStep(rep Report) (NextStep, bool) {
	if len(rep.Findings) == 0 || rep.Findings[0].Status < probes.Warn {
		return NextStep{}, false
	}
	team, ok := teamAreas[rep.Findings[0].Signal]
	if !ok {
		return NextStep{}, false
	}
	if _, ok := h.cfg.Team(team); !ok {
		return NextStep{}, false
	}
	return NextStep{Label: "Page the " + team + " team", Command: "/perf incident page " + team,
		Confirm: "Page the " + team + " team into this incident? They are invited and mentioned."}, true
}

func (in *Incidents) pageUsage() string {
	return fmt.Sprintf("usage: /perf incident page <team>  (teams: %s)", orNone(strings.Join(in.cfg.TeamNames(), ", ")))
}

func orNone(s string) string {
	if s == "" {
		return "none configured; add teams: to the configuration"
	}
	return s
}

// page brings a team into the incident: its members are invited, it is mentioned with the
// incident's summary and the top finding, and the page joins the timeline.
func (in *Incidents) page(ctx context.Context, req Request, args []string) (Report, error) {
	if len(args) != 1 {
		return Report{}, errs.Invalidf("%s", in.pageUsage())
	}
	team, ok := in.cfg.Team(strings.ToLower(args[0]))
	if !ok {
		return Report{}, errs.Invalidf("no team %q. %s", args[0], in.pageUsage())
	}
	inc, err := in.here(ctx, req)
	if err != nil {
		return Report{}, err
	}
	if inc.Status != incidents.StatusOpen {
		return Report{}, errs.Conflictf("incident #%d is resolved", inc.Number)
	}
	page := append([]string{}, team.Users...)
	if team.Group != "" {
		page = append([]string{team.Group}, page...)
	}
	if err := in.store.RecordTeamPage(ctx, inc.ID, req.User, team.Name, page); err != nil {
		return Report{}, err
	}
	finding := in.topFinding(ctx, inc)
	msg := T(IconEscalation, Bold("Paging the "+team.Name+" team"), Plain(" for incident #"+fmt.Sprint(inc.Number)+": "), Data(inc.Title))
	for _, p := range page {
		msg = T(msg, Plain(" "), Who(p))
	}
	msg = T(msg, Break(), Plain("Severity "+strings.ToUpper(string(inc.Severity))+" · service "), Data(inc.Service),
		Plain(" · paged by "), Who(req.User))
	if finding != "" {
		msg = T(msg, Break(), Plain("Top finding: "), Data(finding))
	}
	if inc.LastUpdate != "" {
		msg = T(msg, Break(), Plain("Latest update: "), Data(inc.LastUpdate))
	}
	if team.Contact != "" {
		msg = T(msg, Break(), Plain("Contact: "), Data(team.Contact))
	}
	if in.ws != nil && inc.ChannelID != "" {
		if err := in.invite(ctx, inc.ChannelID, team.Group, team.Users); err != nil {
			in.log.Warn("invite team failed", "incident", inc.Number, "team", team.Name, "err", err)
			msg = T(msg, Break(), Plain("Some members could not be invited: please add them by hand."))
		}
		if err := in.ws.Post(ctx, inc.ChannelID, msg); err != nil {
			return Report{}, fmt.Errorf("page %s: %w", team.Name, err)
		}
	}
	return Report{Command: "/perf incident page", Title: "Team paged", Ephemeral: in.ws != nil,
		Text: T(Plain(fmt.Sprintf("Paged the %s team for incident #%d.", team.Name, inc.Number)))}, nil
}

// invite invites a team's users and its group's members.
func (in *Incidents) invite(ctx context.Context, channel, group string, users []string) error {
	people := append([]string{}, users...)
	if gl, ok := in.ws.(GroupLister); ok && group != "" {
		members, err := gl.GroupMembers(ctx, group)
		if err != nil {
			return fmt.Errorf("members of %s: %w", group, err)
		}
		people = append(people, members...)
	}
	if len(people) == 0 {
		return nil
	}
	return in.ws.Invite(ctx, channel, people)
}

// topFinding is the headline of the newest command run in the incident, or "" when none ran.
func (in *Incidents) topFinding(ctx context.Context, inc incidents.Incident) string {
	events, err := in.store.Timeline(ctx, inc.ID)
	if err != nil {
		in.log.Warn("read timeline for the top finding", "incident", inc.Number, "err", err)
		return ""
	}
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].Kind != incidents.KindCommand {
			continue
		}
		var d incidents.CommandDetail
		if json.Unmarshal(events[i].Detail, &d) == nil && d.Headline != "" {
			return d.Headline
		}
	}
	return ""
}
