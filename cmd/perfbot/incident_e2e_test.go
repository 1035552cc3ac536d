package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perfbot/perfbot/app"
	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/dev/slackserver"
	"github.com/perfbot/perfbot/dev/studiosim"
	"github.com/perfbot/perfbot/internal/stacktest"
)

type fakeClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

func (w *world) channelNamed(prefix string) (slackserver.Channel, bool) {
	for _, c := range w.slack.Channels() {
		if strings.HasPrefix(c.Name, prefix) {
			return c, true
		}
	}
	return slackserver.Channel{}, false
}

func countMessages(msgs []slackserver.Message, substr string) int {
	n := 0
	for _, m := range msgs {
		if strings.Contains(m.Text, substr) {
			n++
		}
	}
	return n
}

// TestIncidentEndToEnd: Alertmanager fires a real rule against the simulator with a fault; the alert opens
// the incident channel and the assessment is posted there; two commands and a pin follow; the clock passes
// 30 and 60 minutes and both escalations fire once; resolve posts a canvas and a file whose timeline lists
// every one of those events in order.
func TestIncidentEndToEnd(t *testing.T) {
	clock := &fakeClock{}
	w := &world{slack: slackserver.NewTestServer(t, slackserver.Options{RateLimits: slackserver.RateLimits{Disabled: true}}), user: "U0ALICE"}
	for id, name := range map[string]string{"U0ALICE": "alice", "U0BOB": "bob", "U0CAROL": "carol"} {
		w.slack.AddUser(id, name)
	}
	w.sim = stacktest.StartSim(t, 15)
	if _, err := w.sim.Client.Inject(context.Background(), studiosim.Fault{Kind: "errors", Endpoint: "/api/ideas", Rate: 0.6}); err != nil {
		t.Fatal(err)
	}
	w.cfg = &config.Config{
		Services: []config.Service{{Name: "agentic-studio",
			Prometheus: config.Prometheus{NodeSelector: `job="none"`, Window: config.Duration(time.Minute)},
			HealthURL:  w.sim.URL + "/health/detailed"}},
		Slack: config.Slack{AppToken: w.slack.AppToken(), BotToken: w.slack.BotToken(), APIURL: w.slack.APIURL()},
		State: config.State{PostgresDSN: stacktest.Database(t, "perfbot_inc")},
		HTTP:  config.HTTP{Listen: freeAddr(t), AlertmanagerToken: "am-token"},
		Incidents: config.Incidents{OnCall: []string{"U0ALICE"}, Levels: []config.EscalationLevel{
			{Name: "Level 1: developer on-call", After: 0, Page: []string{"U0ALICE"}},
			{Name: "Level 2: senior engineer", After: config.Duration(30 * time.Minute), Page: []string{"U0BOB"}},
			{Name: "Level 3: engineering manager", After: config.Duration(60 * time.Minute), Page: []string{"U0CAROL"}},
		}},
	}
	// Alertmanager needs perfbot's address and Prometheus needs Alertmanager's: perfbot's port is chosen first.
	am := stacktest.StartAlertmanager(t, "http://"+w.cfg.HTTP.Listen+"/alertmanager", "am-token")
	prom := stacktest.StartPrometheusWith(t, stacktest.PromOptions{Jobs: map[string]string{"agentic-studio": w.sim.Addr},
		RuleFiles: []string{"../../deploy/prometheus/alerts.yml"}, Alertmanager: am})
	w.cfg.Services[0].Prometheus.URL = prom.URL
	w.cfg.ApplyDefaults()
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
	w.wait(t, 30*time.Second, "the assessment in the incident channel", func() bool { return len(finalReports(w.slack.Messages(inc.ID))) >= 1 })
	if ch, _ := w.slack.Channel(inc.ID); !strings.Contains(ch.Topic, "agentic-studio") {
		t.Errorf("topic %q does not name the service", ch.Topic)
	}
	w.slash(t, inc.ID, "api")
	w.wait(t, 30*time.Second, "/perf api in the channel", func() bool { return len(finalReports(w.slack.Messages(inc.ID))) >= 2 })
	w.slash(t, inc.ID, "incident note rolled back config change 42")
	w.wait(t, 10*time.Second, "the note", func() bool { return countMessages(w.slack.Messages(inc.ID), "rolled back config change 42") == 1 })
	pinned := finalReports(w.slack.Messages(inc.ID))[0]
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := w.slack.SendEvent(ctx, map[string]any{"type": "pin_added", "user": "U0BOB", "channel_id": inc.ID,
		"item":     map[string]any{"type": "message", "channel": inc.ID, "message": map[string]any{"ts": pinned.TS, "text": "report"}},
		"event_ts": fmt.Sprintf("%d.%06d", time.Now().Unix(), time.Now().Nanosecond()/1000)}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)

	clock.Advance(31 * time.Minute)
	w.wait(t, 15*time.Second, "the level 2 escalation", func() bool { return countMessages(w.slack.Messages(inc.ID), "Level 2") >= 1 })
	clock.Advance(30 * time.Minute)
	w.wait(t, 15*time.Second, "the level 3 escalation", func() bool { return countMessages(w.slack.Messages(inc.ID), "Level 3") >= 1 })
	time.Sleep(time.Second)
	for _, lvl := range []string{"Escalation — Level 1", "Escalation — Level 2", "Escalation — Level 3"} {
		if n := countMessages(w.slack.Messages(inc.ID), lvl); n != 1 {
			t.Errorf("%q posted %d times, want once", lvl, n)
		}
	}
	ch, _ := w.slack.Channel(inc.ID)
	for _, u := range []string{"U0ALICE", "U0BOB", "U0CAROL"} {
		if !strings.Contains(strings.Join(ch.Members, " "), u) {
			t.Errorf("%s was not invited", u)
		}
	}

	w.slash(t, inc.ID, "incident resolve slow requests on /api/ideas exhausted the pool")
	// A pin already made the canvas as a draft; resolving fills in the rest.
	w.wait(t, 20*time.Second, "the postmortem canvas and file", func() bool {
		cs := w.slack.Canvases(inc.ID)
		return len(cs) == 1 && strings.Contains(cs[0].Markdown, "| resolved |") && hasFile(w.slack.Files(inc.ID), ".md")
	})
	md := w.slack.Canvases(inc.ID)[0].Markdown
	timeline := md[strings.Index(md, "## Timeline"):strings.Index(md, "## Root cause")]
	order := []string{"| opened |", "| alert_firing |", "| command |", "/perf api", "| note |", "| pin |", "Level 2", "Level 3", "| resolved |"}
	pos := 0
	for _, want := range order[2:] {
		i := strings.Index(timeline[pos:], want)
		if i < 0 {
			t.Fatalf("timeline lacks %q after position %d:\n%s", want, pos, timeline)
		}
		pos += i
	}
	for _, want := range order[:2] {
		if !strings.Contains(timeline, want) {
			t.Errorf("timeline lacks %q", want)
		}
	}
	if !strings.Contains(timeline, "| chart |") {
		t.Errorf("timeline lacks the charts")
	}
	if !strings.Contains(md, "exhausted the pool") {
		t.Errorf("root cause missing from the postmortem")
	}
}

func hasFile(files []slackserver.File, suffix string) bool {
	for _, f := range files {
		if strings.HasSuffix(f.Name, suffix) {
			return true
		}
	}
	return false
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
