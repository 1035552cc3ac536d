package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/perfbot/perfbot/app"
	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/dev/slackserver"
	"github.com/perfbot/perfbot/dev/studiosim"
	"github.com/perfbot/perfbot/internal/stacktest"
)

// messageWith returns the newest message in msgs containing substr.
func messageWith(msgs []slackserver.Message, substr string) (slackserver.Message, bool) {
	for i := len(msgs) - 1; i >= 0; i-- {
		if strings.Contains(msgs[i].Text, substr) {
			return msgs[i], true
		}
	}
	return slackserver.Message{}, false
}

// TestStakeholdersEndToEnd: an alert opens an incident and the announcement channel gets the open
// message; the status update falls overdue and the reminder (with its button) appears; the button's
// modal posts an update to both channels; a lead is named; level 2's page carries its duties; the
// database team is paged and its group's member invited; resolve announces the root cause and the
// postmortem link; the postmortem's timeline lists all of it.
func TestStakeholdersEndToEnd(t *testing.T) {
	clock := &fakeClock{}
	w := &world{slack: slackserver.NewTestServer(t, slackserver.Options{RateLimits: slackserver.RateLimits{Disabled: true}}), user: "U0ALICE"}
	for id, name := range map[string]string{"U0ALICE": "alice", "U0BOB": "bob", "U0CAROL": "carol", "U0DAN": "dan"} {
		w.slack.AddUser(id, name)
	}
	w.slack.AddUserGroup("S0DBA", "U0DAN")
	announce := w.slack.AddChannel("incidents-announce")
	w.sim = stacktest.StartSim(t, 15)
	if _, err := w.sim.Client.Inject(context.Background(), studiosim.Fault{Kind: "errors", Endpoint: "/api/ideas", Rate: 0.6}); err != nil {
		t.Fatal(err)
	}
	every := config.Duration(20 * time.Minute)
	w.cfg = &config.Config{
		Services: []config.Service{{Name: "agentic-studio",
			Prometheus: config.Prometheus{NodeSelector: `job="none"`, Window: config.Duration(time.Minute)},
			HealthURL:  w.sim.URL + "/health/detailed"}},
		Slack: config.Slack{AppToken: w.slack.AppToken(), BotToken: w.slack.BotToken(), APIURL: w.slack.APIURL()},
		State: config.State{PostgresDSN: stacktest.Database(t, "perfbot_people")},
		HTTP:  config.HTTP{Listen: freeAddr(t), AlertmanagerToken: "am-token"},
		Incidents: config.Incidents{OnCall: []string{"U0ALICE"}, Announce: map[string]string{"agentic-studio": announce},
			UpdateEvery: map[string]config.Duration{"sev1": every, "sev2": every, "sev3": every},
			Levels: []config.EscalationLevel{
				{Name: "Level 1: developer on-call", After: 0, Page: []string{"U0ALICE"}},
				{Name: "Level 2: senior engineer", After: config.Duration(30 * time.Minute), Page: []string{"U0BOB"}},
				{Name: "Level 3: engineering manager", After: config.Duration(60 * time.Minute), Page: []string{"U0CAROL"}},
			}},
		Teams: []config.Team{{Name: "database", Group: "S0DBA", Contact: "dba-oncall@example.com"},
			{Name: "infrastructure", Users: []string{"U0CAROL"}}, {Name: "security", Users: []string{"U0CAROL"}}},
	}
	am := stacktest.StartAlertmanager(t, "http://"+w.cfg.HTTP.Listen+"/alertmanager", "am-token")
	prom := stacktest.StartPrometheusWith(t, stacktest.PromOptions{Jobs: map[string]string{"agentic-studio": w.sim.Addr},
		RuleFiles: []string{"../../deploy/prometheus/alerts.yml"}, Alertmanager: am})
	w.cfg.Services[0].Prometheus.URL = prom.URL
	w.cfg.ApplyDefaults()
	if err := w.cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := app.Start(context.Background(), w.cfg, slog.New(slog.NewTextHandler(io.Discard, nil)),
		app.WithClock(clock.Now), app.WithEscalationEvery(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)

	var inc slackserver.Channel
	w.wait(t, 90*time.Second, "the alert to open an incident channel", func() bool {
		var ok bool
		inc, ok = w.channelNamed("inc-")
		return ok
	})
	w.wait(t, 20*time.Second, "the open announcement", func() bool {
		m, ok := messageWith(w.slack.Messages(announce), "Incident #1 opened")
		return ok && strings.Contains(m.Text, "Impact so far") && strings.Contains(m.Text, inc.ID)
	})

	// No update for longer than the cadence: the reminder with its button.
	clock.Advance(21 * time.Minute)
	var reminder slackserver.Message
	w.wait(t, 15*time.Second, "the update reminder", func() bool {
		var ok bool
		reminder, ok = messageWith(w.slack.Messages(inc.ID), "Status update due")
		return ok
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.slack.ClickButton(ctx, "U0ALICE", inc.ID, reminder.TS, buttonID(t, reminder, "perf_ask:"), ""); err != nil {
		t.Fatal(err)
	}
	var views []slackserver.View
	w.wait(t, 10*time.Second, "the update modal", func() bool { views = w.slack.Views("U0ALICE"); return len(views) == 1 })
	if err := w.slack.SubmitView(ctx, "U0ALICE", views[0].ID, map[string]map[string]string{"perf_ask_text": {"text": "rolled back release 42, errors falling"}}); err != nil {
		t.Fatal(err)
	}
	w.wait(t, 15*time.Second, "the update in both channels", func() bool {
		return countMessages(w.slack.Messages(inc.ID), "rolled back release 42") >= 1 &&
			countMessages(w.slack.Messages(announce), "rolled back release 42") == 1
	})

	w.slash(t, inc.ID, "incident lead <@U0BOB|bob>")
	w.wait(t, 10*time.Second, "the lead in the topic", func() bool {
		ch, _ := w.slack.Channel(inc.ID)
		return strings.Contains(ch.Topic, "lead @U0BOB") && strings.Contains(ch.Topic, "rolled back release 42")
	})

	clock.Advance(10 * time.Minute)
	w.wait(t, 15*time.Second, "level 2's page with its duties", func() bool {
		m, ok := messageWith(w.slack.Messages(inc.ID), "Escalation — Level 2")
		return ok && strings.Contains(m.Text, "Duties at this level") && strings.Contains(m.Text, "Deep dive into application logs and metrics") &&
			strings.Contains(m.Text, "Coordinate with the infrastructure team")
	})
	w.wait(t, 10*time.Second, "the escalation announced", func() bool {
		return countMessages(w.slack.Messages(announce), "escalated to Level 2") == 1
	})

	w.slash(t, inc.ID, "incident page database")
	w.wait(t, 15*time.Second, "the database team paged and invited", func() bool {
		ch, _ := w.slack.Channel(inc.ID)
		m, ok := messageWith(w.slack.Messages(inc.ID), "Paging the database team")
		return ok && strings.Contains(m.Text, "S0DBA") && strings.Contains(m.Text, "dba-oncall@example.com") &&
			strings.Contains(strings.Join(ch.Members, " "), "U0DAN")
	})

	w.slash(t, inc.ID, "incident resolve a bad release exhausted the connection pool")
	w.wait(t, 20*time.Second, "the resolution announced with the root cause and the postmortem link", func() bool {
		m, ok := messageWith(w.slack.Messages(announce), "Incident #1 resolved")
		return ok && strings.Contains(m.Text, "exhausted the connection pool") && strings.Contains(m.Text, "/docs/")
	})
	w.wait(t, 20*time.Second, "the postmortem canvas", func() bool { return len(w.slack.Canvases(inc.ID)) == 1 })
	md := w.slack.Canvases(inc.ID)[0].Markdown
	timeline := md[strings.Index(md, "## Timeline"):strings.Index(md, "## Root cause")]
	for _, want := range []string{"| opened |", "| reminder |", "| update |", "rolled back release 42", "| lead |",
		"| escalated |", "| team_paged |", "Paged the database team", "| resolved |"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("the postmortem's timeline lacks %q:\n%s", want, timeline)
		}
	}
}
