package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/perfbot/perfbot/app"
	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/dev/slackserver"
	"github.com/perfbot/perfbot/incidents"
	"github.com/perfbot/perfbot/internal/stacktest"
)

const (
	replicaTeam = "T0REPLICA1"
	replicaApp  = "A0REPLICA1"
)

// newReplicaWorld is one local Slack workspace and one state database for several perfbot replicas. The
// services are the local stack's (its Prometheus and simulator), read only. Rate limits are off: these
// tests count messages, and a post the bot gives up on after a 429 would read as a replica losing it.
func newReplicaWorld(t *testing.T, mutate ...func(*config.Config)) *world {
	t.Helper()
	w := &world{user: "U0ALICE", slack: slackserver.NewTestServer(t, slackserver.Options{TeamID: replicaTeam, AppID: replicaApp,
		RateLimits: slackserver.RateLimits{Disabled: true}})}
	for id, name := range map[string]string{"U0ALICE": "alice", "U0BOB": "bob", "U0CAROL": "carol"} {
		w.slack.AddUser(id, name)
	}
	w.channel = w.slack.AddChannel("perf")
	w.cfg = &config.Config{
		Services: config.Default().Services,
		Slack:    config.Slack{AppToken: w.slack.AppToken(), BotToken: w.slack.BotToken(), APIURL: w.slack.APIURL()},
		State:    config.State{PostgresDSN: stacktest.Database(t, "perfbot_replicas")},
		HTTP:     config.HTTP{Listen: "127.0.0.1:0", AlertmanagerToken: "am-token"},
		Incidents: config.Incidents{OnCall: []string{"U0ALICE"}, Levels: []config.EscalationLevel{
			{Name: "Level 1: developer on-call", After: 0, Page: []string{"U0ALICE"}},
			{Name: "Level 2: senior engineer", After: config.Duration(30 * time.Minute), Page: []string{"U0BOB"}},
			{Name: "Level 3: engineering manager", After: config.Duration(60 * time.Minute), Page: []string{"U0CAROL"}},
		}},
	}
	for _, m := range mutate {
		m(w.cfg)
	}
	w.cfg.ApplyDefaults()
	return w
}

// replicas starts n perfbot Apps at once against w's Slack server and state database: each has its own
// connection pool, Socket Mode connection, HTTP listener, worker pool and escalation loop, as n processes
// would. Starting them together also runs the migrations concurrently. It waits until Slack sees n sockets.
func (w *world) replicas(t *testing.T, n int, opts ...app.Option) []*app.App {
	t.Helper()
	apps, errc := make([]*app.App, n), make(chan error, n)
	for i := range n {
		go func() {
			log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo})).With("replica", i)
			a, err := app.Start(context.Background(), w.cfg, log, opts...)
			apps[i] = a
			errc <- err
		}()
	}
	for range n {
		if err := <-errc; err != nil {
			t.Fatalf("start replica: %v", err)
		}
	}
	for _, a := range apps {
		t.Cleanup(a.Close)
	}
	w.app = apps[0]
	w.wait(t, 15*time.Second, fmt.Sprintf("%d sockets", n), func() bool { return w.slack.Sockets() == n })
	return apps
}

// openIncident opens an incident from #perf and waits for its channel, opening summary and assessment.
func (w *world) openIncident(t *testing.T, title string) slackserver.Channel {
	t.Helper()
	w.slash(t, w.channel, "incident open "+title)
	var inc slackserver.Channel
	w.wait(t, 15*time.Second, "the incident channel", func() bool { var ok bool; inc, ok = w.channelNamed("inc-"); return ok })
	w.wait(t, 15*time.Second, "the opening summary", func() bool { return countMessages(w.slack.Messages(inc.ID), "Incident #1") > 0 })
	w.wait(t, 30*time.Second, "the assessment", func() bool { return len(finalReports(w.slack.Messages(inc.ID))) >= 1 })
	return inc
}

// sendEventTimes delivers one events_api envelope carrying event under eventID, times times, as Slack
// redelivers it: the same event_id on every attempt. Each attempt goes to the next socket round-robin, so
// with two replicas both see it (and one sees it twice). Every attempt must be acked.
func (w *world) sendEventTimes(t *testing.T, eventID string, event map[string]any, times int) {
	t.Helper()
	payload := map[string]any{"token": "local-verification-token", "team_id": replicaTeam, "api_app_id": replicaApp,
		"type": "event_callback", "event_id": eventID, "event_time": time.Now().Unix(), "event": event}
	for attempt := range times {
		envelope := map[string]any{"envelope_id": uuid.NewString(), "type": "events_api", "accepts_response_payload": false,
			"retry_attempt": attempt, "retry_reason": map[bool]string{true: "timeout"}[attempt > 0], "payload": payload}
		raw, err := json.Marshal(envelope)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := w.slack.SendRaw(ctx, raw); err != nil {
			t.Fatalf("deliver %s attempt %d: %v", eventID, attempt, err)
		}
		if _, err := w.slack.WaitAck(ctx, envelope["envelope_id"].(string)); err != nil {
			t.Fatalf("ack of %s attempt %d: %v", eventID, attempt, err)
		}
		cancel()
	}
}

func pinEvent(channel, ts string) map[string]any {
	return map[string]any{"type": "pin_added", "user": "U0BOB", "channel_id": channel,
		"item":     map[string]any{"type": "message", "channel": channel, "message": map[string]any{"ts": ts, "text": "report"}},
		"event_ts": fmt.Sprintf("%d.%06d", time.Now().Unix(), time.Now().Nanosecond()/1000)}
}

// timelineOf reads the incident of channel and its timeline, counted by kind.
func timelineOf(t *testing.T, st *incidents.Store, channel string) ([]incidents.Event, map[incidents.Kind]int) {
	t.Helper()
	ctx := context.Background()
	inc, err := st.ByChannel(ctx, channel)
	if err != nil {
		t.Fatal(err)
	}
	events, err := st.Timeline(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[incidents.Kind]int{}
	for _, e := range events {
		kinds[e.Kind]++
	}
	return events, kinds
}

// commandCounts counts command events by command ("/perf api") and fails on two events for one report.
func commandCounts(t *testing.T, events []incidents.Event) map[string]int {
	t.Helper()
	n, links := map[string]int{}, map[string]bool{}
	for _, e := range events {
		if e.Kind != incidents.KindCommand {
			continue
		}
		cmd, _, _ := strings.Cut(e.Summary, ":")
		n[cmd]++
		if links[e.Link] {
			t.Errorf("two command events link to the same report %s", e.Link)
		}
		links[e.Link] = true
	}
	return n
}

// TestTwoReplicasRecordEverythingOnce: two perfbot replicas share one Slack app (Slack spreads envelopes
// round-robin over their sockets), one state database and one clock. Commands, notes, a pin delivered three
// times and the 30 and 60 minute escalations each reach Slack and the timeline exactly once.
func TestTwoReplicasRecordEverythingOnce(t *testing.T) {
	clock := &fakeClock{}
	w := newReplicaWorld(t)
	const tick = 100 * time.Millisecond
	apps := w.replicas(t, 2, app.WithClock(clock.Now), app.WithEscalationEvery(tick))
	inc := w.openIncident(t, "replica drill sev2")
	w.wait(t, 10*time.Second, "the level 1 page", func() bool { return countMessages(w.slack.Messages(inc.ID), "Escalation — Level 1") >= 1 })

	commands := []string{"api", "crewai", "ai", "api 15m"} // spread round-robin over both replicas
	for _, c := range commands {
		w.slash(t, inc.ID, c)
	}
	w.slash(t, inc.ID, "incident note first replica note")
	w.slash(t, inc.ID, "incident note second replica note")
	reports := 1 + len(commands)
	w.wait(t, 40*time.Second, "every report and both notes", func() bool {
		msgs := w.slack.Messages(inc.ID)
		return len(finalReports(msgs)) >= reports && countMessages(msgs, "replica note") >= 2
	})
	pinned := finalReports(w.slack.Messages(inc.ID))[0]
	w.sendEventTimes(t, "Ev0PINREPLICA", pinEvent(inc.ID, pinned.TS), 3)

	clock.Advance(31 * time.Minute)
	w.wait(t, 15*time.Second, "the level 2 page", func() bool { return countMessages(w.slack.Messages(inc.ID), "Escalation — Level 2") >= 1 })
	clock.Advance(30 * time.Minute)
	w.wait(t, 15*time.Second, "the level 3 page", func() bool { return countMessages(w.slack.Messages(inc.ID), "Escalation — Level 3") >= 1 })
	// One more command, after both escalations fired.
	w.slash(t, inc.ID, "ai")
	reports++
	w.wait(t, 30*time.Second, "the last report", func() bool { return len(finalReports(w.slack.Messages(inc.ID))) >= reports })
	// The bot records a command after posting its report and charts, and an escalation after its page:
	// wait for the store, then count.
	stacktest.Eventually(t, 10*time.Second, 50*time.Millisecond, func() bool {
		_, kinds := timelineOf(t, apps[0].Store, inc.ID)
		return kinds[incidents.KindCommand] >= reports && kinds[incidents.KindEscalated] >= 3 && kinds[incidents.KindPin] >= 1
	}, "%d command events, three escalations and the pin in the timeline", reports)
	// A second firing can only be seen by letting time pass: five more ticks of both escalation loops.
	time.Sleep(5 * tick)

	checkRecordedOnce(t, w, apps[1].Store, inc.ID, reports)
}

// checkRecordedOnce: each level paged once and marked fired, each command one report and one command
// event, two notes, one pin.
func checkRecordedOnce(t *testing.T, w *world, st *incidents.Store, channel string, reports int) {
	t.Helper()
	msgs := w.slack.Messages(channel)
	checkPagedOnce(t, msgs)
	if n := len(finalReports(msgs)); n != reports {
		t.Errorf("%d reports posted for %d commands", n, reports)
	}
	events, kinds := timelineOf(t, st, channel)
	want := map[incidents.Kind]int{incidents.KindOpened: 1, incidents.KindEscalated: 3, incidents.KindCommand: reports,
		incidents.KindNote: 2, incidents.KindPin: 1, incidents.KindResolved: 0}
	for k, n := range want {
		if kinds[k] != n {
			t.Errorf("timeline has %d %s events, want %d", kinds[k], k, n)
		}
	}
	wantCmds := map[string]int{"/perf assess": 1, "/perf api": 2, "/perf crewai": 1, "/perf ai": 2}
	if got := commandCounts(t, events); fmt.Sprint(got) != fmt.Sprint(wantCmds) {
		t.Errorf("command events %v, want %v", got, wantCmds)
	}
	escs, err := st.Escalations(context.Background(), events[0].IncidentID)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range escs {
		if e.FiredAt.IsZero() {
			t.Errorf("level %d is not marked fired", e.Level.Number)
		}
	}
}

// checkPagedOnce: each escalation level was posted exactly once.
func checkPagedOnce(t *testing.T, msgs []slackserver.Message) {
	t.Helper()
	for _, lvl := range []string{"Escalation — Level 1", "Escalation — Level 2", "Escalation — Level 3"} {
		if n := countMessages(msgs, lvl); n != 1 {
			t.Errorf("%q posted %d times, want once", lvl, n)
		}
	}
}

// processConfig writes the perfbot.yaml a perfbot process reads to run against w, with a short escalation
// ladder (level 2 after level2, level 3 after level3) since the process keeps real time.
func processConfig(t *testing.T, w *world, level2, level3 time.Duration) string {
	t.Helper()
	svc := w.cfg.Services[0]
	yaml := fmt.Sprintf(`services:
  - name: agentic-studio
    prometheus: {url: %q}
    health_url: %q
slack:
  app_token: %q
  bot_token: %q
  api_url: %q
state:
  postgres_dsn: %q
http:
  listen: %q
  alertmanager_token: am-token
incidents:
  on_call: [U0ALICE]
  levels:
    - {name: "Level 1: developer on-call", after: 0s, page: [U0ALICE]}
    - {name: "Level 2: senior engineer", after: %s, page: [U0BOB]}
    - {name: "Level 3: engineering manager", after: %s, page: [U0CAROL]}
`, svc.Prometheus.URL, svc.HealthURL, w.cfg.Slack.AppToken, w.cfg.Slack.BotToken, w.cfg.Slack.APIURL, w.cfg.State.PostgresDSN, freeAddr(t), level2, level3)
	path := filepath.Join(t.TempDir(), "perfbot.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// stateStore opens the incident store over the test's state database, as a reader next to the processes.
func stateStore(t *testing.T, dsn string) (*incidents.Store, *pgxpool.Pool) {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return incidents.New(pool, incidents.Options{}), pool
}

func escalationLevel(t *testing.T, st *incidents.Store, id uuid.UUID, level int) incidents.Escalation {
	t.Helper()
	escs, err := st.Escalations(context.Background(), id)
	if err != nil || len(escs) < level {
		t.Fatalf("escalations: %v (%d levels)", err, len(escs))
	}
	return escs[level-1]
}

// TestKilledReplicaLosesNothing: perfbot runs as a real process; mid-incident it is killed with SIGKILL
// after a command, a note and a pin, and stays down while level 2 falls due and another pin arrives. The
// next process finds the timeline whole, fires level 2 once, then level 3 once, and records the pin sent
// while no replica was up.
func TestKilledReplicaLosesNothing(t *testing.T) {
	bin := stacktest.BuildGo(t, "./cmd/perfbot")
	w := newReplicaWorld(t)
	cfgPath := processConfig(t, w, 15*time.Second, 20*time.Second)
	st, _ := stateStore(t, w.cfg.State.PostgresDSN)
	start := func() *stacktest.Process {
		p := stacktest.StartProcess(t, bin, "-config", cfgPath, "-log-level", "info", "run")
		w.wait(t, 15*time.Second, "the process's socket", func() bool { return w.slack.Sockets() == 1 })
		return p
	}
	first := start()
	inc := w.openIncident(t, "killed replica drill sev2")
	w.wait(t, 10*time.Second, "the level 1 page", func() bool { return countMessages(w.slack.Messages(inc.ID), "Escalation — Level 1") == 1 })
	w.slash(t, inc.ID, "incident note written before the kill")
	w.wait(t, 10*time.Second, "the note", func() bool { return countMessages(w.slack.Messages(inc.ID), "written before the kill") == 1 })
	report := finalReports(w.slack.Messages(inc.ID))[0]
	w.sendEventTimes(t, "Ev0PINBEFOREKILL", pinEvent(inc.ID, report.TS), 1)
	stacktest.Eventually(t, 10*time.Second, 50*time.Millisecond, func() bool {
		_, kinds := timelineOf(t, st, inc.ID)
		return kinds[incidents.KindPin] == 1 && kinds[incidents.KindCommand] == 1
	}, "the pin and the assessment in the timeline")
	before, _ := timelineOf(t, st, inc.ID)
	id := before[0].IncidentID
	// A page is posted before the escalation is recorded fired (paging is at least once): kill the
	// process only once level 1 is recorded, or the next one rightly pages it again.
	stacktest.Eventually(t, 20*time.Second, 50*time.Millisecond, func() bool { return !escalationLevel(t, st, id, 1).FiredAt.IsZero() },
		"level 1 recorded fired")
	if l2 := escalationLevel(t, st, id, 2); !l2.FiredAt.IsZero() || time.Now().After(l2.DueAt) {
		t.Fatalf("level 2 (due %s) is already due before the kill: the machine is too slow for this schedule", l2.DueAt)
	}

	first.Kill()
	w.wait(t, 10*time.Second, "the killed process's socket to close", func() bool { return w.slack.Sockets() == 0 })
	// Slack queues an event while no socket is open and delivers it when one connects.
	if _, err := w.slack.PostEvent(pinEvent(inc.ID, report.TS+"1")); err != nil {
		t.Fatal(err)
	}
	l2 := escalationLevel(t, st, id, 2)
	stacktest.Eventually(t, time.Until(l2.DueAt)+5*time.Second, 100*time.Millisecond, func() bool { return time.Now().After(l2.DueAt) },
		"level 2 to fall due")
	if countMessages(w.slack.Messages(inc.ID), "Escalation — Level 2") != 0 || !escalationLevel(t, st, id, 2).FiredAt.IsZero() {
		t.Fatal("level 2 fired while no perfbot was running")
	}

	second := start()
	w.wait(t, 15*time.Second, "the overdue level 2 page", func() bool { return countMessages(w.slack.Messages(inc.ID), "Escalation — Level 2") >= 1 })
	w.wait(t, 20*time.Second, "the level 3 page", func() bool { return countMessages(w.slack.Messages(inc.ID), "Escalation — Level 3") >= 1 })
	stacktest.Eventually(t, 10*time.Second, 50*time.Millisecond, func() bool {
		_, kinds := timelineOf(t, st, inc.ID)
		return kinds[incidents.KindPin] >= 2 && kinds[incidents.KindEscalated] >= 3
	}, "the pin sent while down and three escalations in the timeline")
	checkKilledReplicaOutcome(t, w, st, inc.ID, before, first.Pid(), second.Pid())
}

// checkKilledReplicaOutcome: every event from before the kill is still there, nothing is doubled, each
// level paged once, level 1 by the first process, levels 2 and 3 by the second.
func checkKilledReplicaOutcome(t *testing.T, w *world, st *incidents.Store, channel string, before []incidents.Event, firstPid, secondPid int) {
	t.Helper()
	checkPagedOnce(t, w.slack.Messages(channel))
	after, kinds := timelineOf(t, st, channel)
	have := map[uuid.UUID]incidents.Event{}
	for _, e := range after {
		have[e.ID] = e
	}
	for _, e := range before {
		if got, ok := have[e.ID]; !ok || got.Kind != e.Kind || got.Summary != e.Summary {
			t.Errorf("event from before the kill lost or changed: %s %q", e.Kind, e.Summary)
		}
	}
	want := map[incidents.Kind]int{incidents.KindOpened: 1, incidents.KindEscalated: 3, incidents.KindCommand: 1,
		incidents.KindNote: 1, incidents.KindPin: 2}
	for k, n := range want {
		if kinds[k] != n {
			t.Errorf("timeline has %d %s events, want %d", kinds[k], k, n)
		}
	}
	for level, pid := range map[int]int{1: firstPid, 2: secondPid, 3: secondPid} {
		if e := escalationLevel(t, st, before[0].IncidentID, level); !strings.HasSuffix(e.ClaimedBy, fmt.Sprintf(":%d", pid)) {
			t.Errorf("level %d claimed by %q, want the process with pid %d", level, e.ClaimedBy, pid)
		}
	}
}
