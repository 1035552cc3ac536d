package incidents

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"
)

// report is everything the postmortem template shows, computed from an incident and its timeline.
type report struct {
	Inc        Incident
	Open       bool
	Generated  stamp
	Zone       string
	ShowLocal  bool
	Started    stamp
	Detected   stamp
	Resolved   stamp
	Duration   string
	ToDetect   string
	Responders []string
	Alerts     []string
	Worst      *rankedFinding
	Events     []pmEvent
	Findings   []rankedFinding
	Actions    []pmAction
	Numbers    []pmNumber
	Prevention []string
	FollowUps  []string
}

// stamp is a time shown in UTC and in the configured zone.
type stamp struct {
	T     time.Time
	UTC   string
	Local string
}

type pmEvent struct {
	At      stamp
	Kind    Kind
	Actor   string
	Summary string
	Link    string
}

type rankedFinding struct {
	Finding
	Count     int
	FirstSeen stamp
	rank      float64
}

type pmAction struct {
	ID, Action, Target, Change, Outcome, Error string
	RequestedBy, ApprovedBy, DeniedBy          string
	Requested, Decided, Done                   stamp
	Numbers                                    []Number
}

type pmNumber struct {
	Name, Unit, Before, After, Change string
	From, To                          stamp
	Instant                           bool // before and after were read at one moment (an action's)
}

// maxFindings bounds the ranked findings shown in the root cause analysis.
const maxFindings = 15

// newReport builds the postmortem's content.
func newReport(inc Incident, events []Event, now time.Time, loc *time.Location) *report {
	st := func(t time.Time) stamp { return mkStamp(t, loc) }
	r := &report{Inc: inc, Open: inc.Status == StatusOpen, Generated: st(now), Zone: loc.String(),
		ShowLocal: loc.String() != "UTC", Detected: st(inc.OpenedAt), Resolved: st(inc.ResolvedAt)}
	start := inc.DetectedAt
	for _, e := range events {
		if e.Kind == KindAlertFiring && e.OccurredAt.Before(start) {
			start = e.OccurredAt
		}
	}
	end := inc.ResolvedAt
	if end.IsZero() {
		end = now
	}
	r.Started, r.Duration, r.ToDetect = st(start), FormatDuration(end.Sub(start)), FormatDuration(inc.OpenedAt.Sub(start))
	r.Events = make([]pmEvent, len(events))
	for i, e := range events {
		r.Events[i] = pmEvent{At: st(e.OccurredAt), Kind: e.Kind, Actor: e.Actor, Summary: e.Summary, Link: e.Link}
	}
	ps := parseAll(events)
	r.Responders = responders(inc, events)
	r.Alerts = alertNames(ps)
	r.Findings = rankFindings(ps, st)
	if len(r.Findings) > 0 {
		r.Worst = &r.Findings[0]
	}
	r.Actions = actions(ps, st)
	r.Numbers = keyNumbers(ps, st)
	r.Prevention = prevention(inc, r.Findings, r.Actions)
	r.FollowUps = followUps
	return r
}

func mkStamp(t time.Time, loc *time.Location) stamp {
	if t.IsZero() {
		return stamp{UTC: "—", Local: "—"}
	}
	return stamp{T: t, UTC: t.UTC().Format("2006-01-02 15:04:05 UTC"), Local: t.In(loc).Format("2006-01-02 15:04:05 MST")}
}

// machine actors are not counted as responders.
var machines = map[string]bool{"": true, "perfbot": true, "alertmanager": true}

func responders(inc Incident, events []Event) []string {
	seen := map[string]bool{}
	var out []string
	add := func(a string) {
		if !machines[a] && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	add(inc.OpenedBy)
	for _, e := range events {
		add(e.Actor)
	}
	add(inc.ResolvedBy)
	return out
}

// parsed is an event with its detail decoded once.
type parsed struct {
	Event
	cmd     *CommandDetail
	act     *ActionDetail
	alert   *AlertDetail
	numbers []Number
}

func parseAll(events []Event) []parsed {
	out := make([]parsed, len(events))
	for i, e := range events {
		p := parsed{Event: e}
		if d, ok := e.Command(); ok {
			p.cmd, p.numbers = &d, d.Numbers
		} else if d, ok := e.Chart(); ok {
			p.numbers = d.Numbers
		} else if d, ok := e.Action(); ok {
			p.act, p.numbers = &d, d.Numbers
		} else if d, ok := e.Alert(); ok {
			p.alert = &d
		}
		out[i] = p
	}
	return out
}

func alertNames(ps []parsed) []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range ps {
		if d := e.alert; d != nil && e.Kind == KindAlertFiring && !seen[d.Alertname] {
			seen[d.Alertname] = true
			out = append(out, d.Alertname)
		}
	}
	return out
}

// rankFindings merges the findings of every command event by (check, subject), keeping the worst
// reading, and ranks them worst first; OK findings are left out.
func rankFindings(ps []parsed, st func(time.Time) stamp) []rankedFinding {
	byKey := map[string]*rankedFinding{}
	var order []*rankedFinding
	for _, e := range ps {
		d := e.cmd
		if d == nil {
			continue
		}
		for _, f := range d.Findings {
			if f.Status == "OK" || f.Status == "" {
				continue
			}
			key := f.Check + "\x00" + f.Subject
			rf := byKey[key]
			if rf == nil {
				rf = &rankedFinding{Finding: f, FirstSeen: st(e.OccurredAt), rank: f.rank()}
				byKey[key] = rf
				order = append(order, rf)
			} else if f.rank() > rf.rank {
				rf.Finding, rf.rank = f, f.rank()
			}
			rf.Count++
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i].rank > order[j].rank })
	out := make([]rankedFinding, 0, min(len(order), maxFindings))
	for _, rf := range order[:min(len(order), maxFindings)] {
		out = append(out, *rf)
	}
	return out
}

// actions gathers each action's events (by ActionID) into one row, in order of request.
func actions(ps []parsed, st func(time.Time) stamp) []pmAction {
	byID := map[string]*pmAction{}
	var order []*pmAction
	for _, e := range ps {
		if e.act == nil {
			continue
		}
		d := *e.act
		id := d.ActionID
		if id == "" {
			id = e.ID.String()
		}
		a := byID[id]
		if a == nil {
			a = &pmAction{ID: id, Outcome: "requested"}
			byID[id] = a
			order = append(order, a)
		}
		a.merge(e.Event, d, st)
	}
	out := make([]pmAction, len(order))
	for i, a := range order {
		out[i] = *a
	}
	return out
}

func (a *pmAction) merge(e Event, d ActionDetail, st func(time.Time) stamp) {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&a.Action, d.Action)
	set(&a.Target, d.Target)
	set(&a.Change, d.Change)
	set(&a.RequestedBy, d.RequestedBy)
	set(&a.ApprovedBy, d.ApprovedBy)
	set(&a.DeniedBy, d.DeniedBy)
	set(&a.Error, d.Error)
	if len(d.Numbers) > 0 {
		a.Numbers = d.Numbers
	}
	switch e.Kind {
	case KindActionRequested:
		a.Requested = st(e.OccurredAt)
		set(&a.RequestedBy, e.Actor)
	case KindActionApproved:
		a.Decided, a.Outcome = st(e.OccurredAt), "approved"
		set(&a.ApprovedBy, e.Actor)
	case KindActionDenied:
		a.Decided, a.Outcome = st(e.OccurredAt), "denied"
		set(&a.DeniedBy, e.Actor)
	case KindActionExecuted:
		a.Done, a.Outcome = st(e.OccurredAt), "executed"
	case KindActionFailed:
		a.Done, a.Outcome = st(e.OccurredAt), "failed"
	}
}

// keyNumbers pairs, per named number, the earliest "before" with the latest "after" seen, over the
// window from the first one's start to the last one's end.
func keyNumbers(ps []parsed, st func(time.Time) stamp) []pmNumber {
	type span struct {
		first, last Number
		from, to    time.Time
	}
	byName := map[string]*span{}
	var order []string
	for _, e := range ps {
		for _, n := range e.numbers {
			from, to := e.OccurredAt, e.OccurredAt // a number without its own window was read when recorded
			if !n.From.IsZero() && !n.To.IsZero() {
				from, to = n.From, n.To
			}
			key := n.Name + "\x00" + n.Unit
			s := byName[key]
			if s == nil {
				byName[key] = &span{first: n, last: n, from: from, to: to}
				order = append(order, key)
				continue
			}
			s.last, s.to = n, to
		}
	}
	out := make([]pmNumber, 0, len(order))
	for _, k := range order {
		s := byName[k]
		out = append(out, pmNumber{Name: s.first.Name, Unit: s.first.Unit, Before: fmtNum(s.first.Before),
			After: fmtNum(s.last.After), Change: change(s.first.Before, s.last.After), From: st(s.from), To: st(s.to),
			Instant: s.from.Equal(s.to)})
	}
	return out
}

// fmtNum writes a number compactly: whole above 1000, else four significant digits.
func fmtNum(v float64) string {
	if math.Abs(v) >= 1000 {
		return strconv.FormatFloat(math.Round(v), 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

func change(before, after float64) string {
	if before == 0 {
		return "—"
	}
	pct := (after - before) / before * 100
	return fmt.Sprintf("%+.0f %%", pct)
}

// followUps is the runbook's follow-up list.
var followUps = []string{
	"Implement monitoring improvements",
	"Update runbooks",
	"Code improvements",
	"Infrastructure optimizations",
	"Team training updates",
}
