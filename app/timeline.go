package app

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/google/uuid"

	"github.com/perfbot/perfbot/handlers"
	"github.com/perfbot/perfbot/incidents"
	"github.com/perfbot/perfbot/probes"
)

// Timeline records what happens in incident channels into the incident's timeline.
type Timeline struct {
	Store *incidents.Store
	Log   *slog.Logger
	// Pinned, when set, is told of each pin newly recorded (it says so in the channel and
	// refreshes the postmortem draft).
	Pinned func(ctx context.Context, inc incidents.Incident, user string)
}

// CommandDone records a probe command run in an incident channel, with its headline and charts.
func (t Timeline) CommandDone(ctx context.Context, rec handlers.CommandRecord) {
	if rec.Err != nil || len(rec.Report.Sections) == 0 {
		return // incident commands record themselves; help and refusals are not events
	}
	inc, err := t.Store.ByChannel(ctx, rec.Channel)
	if err != nil {
		return
	}
	d := incidents.CommandDetail{Command: rec.Report.Command, Service: rec.Report.Service, Status: rec.Report.Status.String(), Headline: rec.Report.Headline}
	for _, f := range rec.Report.Findings {
		d.Findings = append(d.Findings, incidents.Finding{Check: f.Check, Status: f.Status.String(), Subject: f.Subject,
			Value: f.Value, Threshold: f.Threshold, Unit: f.Unit, Message: f.Message})
	}
	t.record(ctx, inc, incidents.Event{Kind: incidents.KindCommand, OccurredAt: rec.At, Actor: rec.User,
		Summary: fmt.Sprintf("%s: %s", rec.Report.Command, rec.Report.Headline), Detail: incidents.JSON(d),
		Link: rec.Permalink, DedupeKey: keyOr("cmd:", rec.ID)})
	for _, c := range rec.Charts {
		cd := incidents.ChartDetail{Title: c.Chart.Title, Unit: c.Chart.Unit, Threshold: c.Chart.Threshold, Numbers: chartNumbers(c.Chart)}
		t.record(ctx, inc, incidents.Event{Kind: incidents.KindChart, OccurredAt: rec.At, Actor: "perfbot",
			Summary: "chart: " + c.Chart.Title, Detail: incidents.JSON(cd), Link: rec.Permalink, DedupeKey: keyOr("chart:", c.FileID)})
	}
}

// EventSeen records pinned messages and pushpin reactions in incident channels.
func (t Timeline) EventSeen(ctx context.Context, e handlers.EventRecord) {
	kind := incidents.KindPin
	switch {
	case e.Type == "pin_added":
	case e.Type == "reaction_added" && e.Reaction == "pushpin":
		kind = incidents.KindReaction
	default:
		return
	}
	inc, err := t.Store.ByChannel(ctx, e.Channel)
	if err != nil {
		return
	}
	// The summary is plain text (renderers escape it); who did it is the event's Actor.
	summary := "pinned message " + e.ItemTS
	if kind == incidents.KindReaction {
		summary = "marked message " + e.ItemTS + " with a pushpin reaction"
	}
	if t.record(ctx, inc, incidents.Event{Kind: kind, OccurredAt: e.EventTime, Actor: e.User, Summary: summary, Link: e.Link,
		DedupeKey: "pin:" + e.Channel + ":" + e.ItemTS}) && t.Pinned != nil {
		t.Pinned(ctx, inc, e.User)
	}
}

// keyOr is a dedupe key from an id, or a unique one when the id is missing (a post or upload that
// failed has none, and two such events must not collapse into one).
func keyOr(prefix, id string) string {
	if id == "" || strings.HasSuffix(id, ":") {
		return prefix + uuid.NewString()
	}
	return prefix + id
}

// record adds e to inc's timeline and tells whether it is new there.
func (t Timeline) record(ctx context.Context, inc incidents.Incident, e incidents.Event) bool {
	recorded, err := t.Store.Record(ctx, inc.ID, e)
	if err != nil && t.Log != nil {
		t.Log.Warn("timeline record failed", "incident", inc.Number, "kind", e.Kind, "err", err)
	}
	return recorded && err == nil
}

// chartNumbers summarizes each series by its first and last value: the chart's before and after.
func chartNumbers(c probes.Chart) []incidents.Number {
	var out []incidents.Number
	for _, s := range c.Series {
		if len(s.Points) == 0 {
			continue
		}
		first, last := s.Points[0], s.Points[len(s.Points)-1]
		out = append(out, incidents.Number{Name: s.Name, Unit: c.Unit, Before: first.V, After: last.V, From: first.T, To: last.T})
		if len(out) == 8 {
			break
		}
	}
	return out
}
