package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/incidents"
	"github.com/perfbot/perfbot/internal/textfmt"
)

// Incidents runs the /perf incident commands over the incident store and a chat workspace.
type Incidents struct {
	store *incidents.Store
	ws    Workspace
	cfg   *config.Config
	log   *slog.Logger
	now   func() time.Time
}

// NewIncidents returns the incident commands.
func NewIncidents(store *incidents.Store, ws Workspace, cfg *config.Config, log *slog.Logger, now func() time.Time) *Incidents {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &Incidents{store: store, ws: ws, cfg: cfg, log: log, now: now}
}

// Commands returns /perf incident and /perf postmortem for Handlers.Add.
func (in *Incidents) Commands() []Command {
	return []Command{
		{Name: "incident", Usage: "incident open <title> [sev1|sev2|sev3] | status | note <text> | update <text> | lead @user | page <team> | escalate | resolve [root cause]",
			Summary: "incident channel, escalation clock, timeline (runbook: Escalation Procedures)",
			Example: "/perf incident open checkout p95 over 2s sev2", Run: in.run},
		{Name: "postmortem", Usage: "postmortem [incident]", Summary: "regenerate the postmortem from the timeline (runbook: Post-Incident Review)",
			Example: "/perf postmortem", Run: in.postmortem},
	}
}

const incidentUsage = "usage: /perf incident open <title> [sev1|sev2|sev3] · status · note <text> · update <text> · lead @user · page <team> · escalate · resolve [root cause]"

func (in *Incidents) run(ctx context.Context, req Request, args []string) (Report, error) {
	if len(args) == 0 {
		return Report{}, errs.Invalidf(incidentUsage)
	}
	rest := args[1:]
	switch strings.ToLower(args[0]) {
	case "open":
		return in.open(ctx, req, rest)
	case "status":
		return in.status(ctx, req)
	case "note":
		return in.note(ctx, req, rest)
	case "escalate":
		return in.escalate(ctx, req)
	case "resolve":
		return in.resolve(ctx, req, rest)
	case "update":
		return in.update(ctx, req, rest)
	case "lead":
		return in.lead(ctx, req, rest)
	case "page":
		return in.page(ctx, req, rest)
	}
	return Report{}, errs.Invalidf("unknown incident command %q. %s", args[0], incidentUsage)
}

func (in *Incidents) open(ctx context.Context, req Request, args []string) (Report, error) {
	var sev incidents.Severity
	if n := len(args); n > 0 {
		if s, err := incidents.ParseSeverity(args[n-1]); err == nil && strings.HasPrefix(strings.ToLower(args[n-1]), "sev") {
			sev, args = s, args[:n-1]
		}
	}
	title := strings.Join(args, " ")
	if title == "" {
		return Report{}, errs.Invalidf("an incident needs a title. %s", incidentUsage)
	}
	service := in.cfg.Services[0].Name
	if _, ok := in.cfg.Service(args[0]); ok {
		service = args[0]
	}
	source := "slack"
	if in.ws == nil {
		source = "console"
	}
	inc, err := in.store.Open(ctx, incidents.OpenParams{Title: title, Severity: sev, Service: service, OpenedBy: req.User, Source: source})
	if err != nil {
		return Report{}, fmt.Errorf("open incident: %w", err)
	}
	if in.ws == nil {
		return Report{Command: "/perf incident open", Title: "Incident opened",
			Text: T(IconIncident, Plain(fmt.Sprintf("Incident #%d ", inc.Number)), Bold(inc.Title),
				Plain(fmt.Sprintf(" (%s) opened by ", inc.Severity)), Who(req.User),
				Plain(". Its Slack channel is created, and told what happened here, when perfbot run reaches Slack."))}, nil
	}
	inc, err = in.Start(ctx, inc, req.User)
	if err != nil {
		return Report{}, err
	}
	return Report{Command: "/perf incident open", Title: "Incident opened",
		Text: T(IconIncident, Plain(fmt.Sprintf("Incident #%d ", inc.Number)), Bold(inc.Title),
			Plain(fmt.Sprintf(" (%s) opened by ", inc.Severity)), Who(req.User), Plain(" in "), Channel(inc.ChannelID), Plain("."))}, nil
}

// Start gives a new incident its channel: created collision-safe, responders invited, topic set,
// opening summary posted, and the assessment run there.
func (in *Incidents) Start(ctx context.Context, inc incidents.Incident, opener string) (incidents.Incident, error) {
	taken := map[string]bool{}
	var id, name string
	for attempt := 0; attempt < 10; attempt++ {
		name = incidents.ChannelName(in.now(), inc.Title, func(n string) bool { return taken[n] })
		var err error
		id, err = in.ws.CreateChannel(ctx, name)
		if err == nil {
			break
		}
		if errs.KindOf(err) != errs.Conflict {
			return inc, fmt.Errorf("create incident channel: %w", err)
		}
		taken[name] = true
	}
	if id == "" {
		return inc, errs.Conflictf("no free channel name for %q", inc.Title)
	}
	if err := in.store.SetChannel(ctx, inc.ID, id, name); err != nil {
		return inc, fmt.Errorf("store incident channel: %w", err)
	}
	inc.ChannelID, inc.ChannelName = id, name
	people := append([]string{}, in.cfg.Incidents.OnCall...)
	if textfmt.IsUserID(opener) {
		people = append([]string{opener}, people...)
	}
	if len(people) > 0 {
		if err := in.ws.Invite(ctx, id, people); err != nil {
			in.log.Warn("invite responders failed", "incident", inc.Number, "err", err)
		}
	}
	in.setTopic(ctx, inc)
	summary := T(IconIncident, Bold(fmt.Sprintf("Incident #%d: %s", inc.Number, inc.Title)), Break(),
		Plain(fmt.Sprintf("Severity %s · service ", inc.Severity)), Data(inc.Service), Plain(" · opened by "), Who(opener),
		Plain(" at "+inc.OpenedAt.UTC().Format("15:04")+" UTC"), Break(),
		Plain("Escalation: "), Data(in.ladder()), Plain(". Commands: "), Code("/perf incident note <text>"), Plain(", "),
		Code("/perf incident update <text>"), Plain(", "), Code("/perf incident lead @user"), Plain(", "),
		Code("/perf incident page <team>"), Plain(", "),
		Code("/perf incident escalate"), Plain(", "), Code("/perf incident resolve <root cause>"), Plain("."))
	if err := in.prompt(ctx, id, summary, updateStep()); err != nil {
		in.log.Warn("opening summary failed", "incident", inc.Number, "err", err)
	}
	in.announceOpen(ctx, inc, in.impact(ctx, inc))
	in.ws.Run(ctx, id, opener, "assess "+inc.Service)
	return inc, nil
}

func (in *Incidents) ladder() string {
	var parts []string
	for _, l := range incidents.LevelsFrom(in.cfg.Incidents) {
		when := "at once"
		if l.After > 0 {
			when = "after " + incidents.FormatDuration(l.After)
		}
		parts = append(parts, l.Name+" "+when)
	}
	return strings.Join(parts, ", ")
}

// here returns the incident of the channel the command was typed in; in the terminal, the one
// the request names (perfbot exec -incident N) or else the only open one.
func (in *Incidents) here(ctx context.Context, req Request) (incidents.Incident, error) {
	if in.ws == nil {
		return in.terminalIncident(ctx, req)
	}
	inc, err := in.store.ByChannel(ctx, req.Channel)
	if err != nil && errs.KindOf(err) == errs.NotFound {
		return inc, errs.Invalidf("this command works inside an incident channel; open one with /perf incident open <title>")
	}
	return inc, err
}

func (in *Incidents) note(ctx context.Context, req Request, args []string) (Report, error) {
	text := strings.Join(args, " ")
	if text == "" {
		return Report{}, errs.Invalidf("usage: /perf incident note <text>")
	}
	inc, err := in.here(ctx, req)
	if err != nil {
		return Report{}, err
	}
	if _, err := in.store.Record(ctx, inc.ID, incidents.Event{Kind: incidents.KindNote, Actor: req.User, Summary: text,
		DedupeKey: dedupeKey("note:", req.ID)}); err != nil {
		return Report{}, fmt.Errorf("record note: %w", err)
	}
	return Report{Command: "/perf incident note", Title: "Note",
		Text: T(IconNote, Plain("Note by "), Who(req.User), Plain(" added to the timeline: "), Data(text))}, nil
}

func (in *Incidents) escalate(ctx context.Context, req Request) (Report, error) {
	inc, err := in.here(ctx, req)
	if err != nil {
		return Report{}, err
	}
	if err := in.mayDecide(ctx, inc, req.User, "escalate"); err != nil {
		return Report{}, err
	}
	var pager incidents.Pager
	if in.ws != nil {
		pager = in.Pager()
	}
	esc, err := in.store.Escalate(ctx, inc.ID, req.User, pager)
	if err != nil {
		return Report{}, err
	}
	return Report{Command: "/perf incident escalate", Title: "Escalated", Ephemeral: true,
		Text: T(Plain(fmt.Sprintf("Escalated incident #%d to ", inc.Number)), Data(esc.Level.Name), Plain("."))}, nil
}

func (in *Incidents) resolve(ctx context.Context, req Request, args []string) (Report, error) {
	inc, err := in.here(ctx, req)
	if err != nil {
		return Report{}, err
	}
	if err := in.mayDecide(ctx, inc, req.User, "resolve"); err != nil {
		return Report{}, err
	}
	inc, err = in.store.Resolve(ctx, inc.ID, req.User, strings.Join(args, " "))
	if err != nil {
		return Report{}, err
	}
	if in.ws == nil {
		if _, err := in.savePostmortem(ctx, inc); err != nil {
			return Report{}, err
		}
		return Report{Command: "/perf incident resolve", Title: "Resolved",
			Text: T(IconResolved, Plain(fmt.Sprintf("Incident #%d resolved by ", inc.Number)), Who(req.User),
				Plain(fmt.Sprintf(" after %s. Print the postmortem with /perf postmortem #%d.", incidents.FormatDuration(inc.Duration(in.now())), inc.Number)))}, nil
	}
	if err := in.publish(ctx, inc); err != nil {
		return Report{}, err
	}
	in.setTopic(ctx, inc)
	in.announceResolved(ctx, inc)
	return Report{Command: "/perf incident resolve", Title: "Resolved",
		Text: T(IconResolved, Plain(fmt.Sprintf("Incident #%d resolved by ", inc.Number)), Who(req.User),
			Plain(fmt.Sprintf(" after %s. The postmortem draft is in this channel.", incidents.FormatDuration(inc.Duration(in.now())))))}, nil
}

// Pinned says in the incident's channel that user's pin is in the timeline, and refreshes the
// postmortem draft so its canvas shows it.
func (in *Incidents) Pinned(ctx context.Context, inc incidents.Incident, user string) {
	msg := T(IconNote, Plain("Pinned to the timeline of incident "), Bold(fmt.Sprintf("#%d", inc.Number)), Plain(" by "), Who(user),
		Plain("; the postmortem draft is updated."))
	if err := in.ws.Post(ctx, inc.ChannelID, msg); err != nil {
		in.log.Warn("pin feedback failed", "incident", inc.Number, "err", err)
	}
	if err := in.publish(ctx, inc); err != nil {
		in.log.Warn("postmortem refresh after a pin failed", "incident", inc.Number, "err", err)
	}
}

// savePostmortem writes the postmortem from the timeline and stores it.
func (in *Incidents) savePostmortem(ctx context.Context, inc incidents.Incident) (string, error) {
	src, err := in.store.PostmortemSource(ctx, inc.ID, nil)
	if err != nil {
		return "", fmt.Errorf("postmortem: %w", err)
	}
	md, err := in.store.SavePostmortem(ctx, src)
	if err != nil {
		return "", fmt.Errorf("postmortem: %w", err)
	}
	return md, nil
}

func (in *Incidents) publish(ctx context.Context, inc incidents.Incident) error {
	src, err := in.store.PostmortemSource(ctx, inc.ID, nil)
	if err != nil {
		return fmt.Errorf("postmortem: %w", err)
	}
	md, err := in.store.SavePostmortem(ctx, src)
	if err != nil {
		return fmt.Errorf("postmortem: %w", err)
	}
	doc := Document{Title: fmt.Sprintf("Postmortem #%d: %s", inc.Number, inc.Title), Markdown: md,
		Filename: incidents.PostmortemFilename(inc), WithPeople: src.Markdown}
	if err := in.ws.Publish(ctx, inc.ChannelID, doc); err != nil {
		return fmt.Errorf("publish postmortem: %w", err)
	}
	return nil
}

func (in *Incidents) postmortem(ctx context.Context, req Request, args []string) (Report, error) {
	var inc incidents.Incident
	var err error
	if len(args) > 0 {
		inc, err = in.store.Lookup(ctx, args[0])
	} else {
		inc, err = in.here(ctx, req)
	}
	if err != nil {
		return Report{}, err
	}
	if in.ws == nil || inc.ChannelID == "" {
		md, err := in.savePostmortem(ctx, inc)
		if err != nil {
			return Report{}, err
		}
		return Report{Command: "/perf postmortem", Title: fmt.Sprintf("Postmortem #%d", inc.Number), Markdown: md}, nil
	}
	if err := in.publish(ctx, inc); err != nil {
		return Report{}, err
	}
	return Report{Command: "/perf postmortem", Title: "Postmortem", Ephemeral: true,
		Text: T(Plain(fmt.Sprintf("Postmortem for incident #%d regenerated from ", inc.Number)), Data(inc.ChannelName), Plain("'s timeline."))}, nil
}

func (in *Incidents) status(ctx context.Context, req Request) (Report, error) {
	inc, err := in.here(ctx, req)
	if err != nil {
		return Report{}, err
	}
	events, err := in.store.Timeline(ctx, inc.ID)
	if err != nil {
		return Report{}, err
	}
	parts := []Part{Bold(fmt.Sprintf("Incident #%d: %s", inc.Number, inc.Title)),
		Plain(fmt.Sprintf(" — %s, %s, open for %s", inc.Severity, inc.Status, incidents.FormatDuration(inc.Duration(in.now()))))}
	if inc.Lead != "" {
		parts = append(parts, Break(), Plain("Lead: "), Who(inc.Lead))
	}
	if inc.LastUpdate != "" {
		parts = append(parts, Break(), Plain("Last update ("+inc.LastUpdateAt.UTC().Format("15:04")+" UTC): "), Data(inc.LastUpdate))
	}
	start := max(0, len(events)-10)
	for _, e := range events[start:] {
		parts = append(parts, Break(), Plain(fmt.Sprintf("• %s UTC %s — ", e.OccurredAt.UTC().Format("15:04:05"), e.Kind)), Data(e.Summary))
	}
	return Report{Command: "/perf incident status", Title: "Incident status", Text: T(parts...), Ephemeral: true}, nil
}

// dedupeKey makes a timeline event recorded once per command run; a run without an ID records always.
func dedupeKey(prefix, id string) string {
	if id == "" {
		return ""
	}
	return prefix + id
}
