package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/perfbot/perfbot/app"
	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/dev/slackserver"
	"github.com/perfbot/perfbot/dev/studiosim"
	"github.com/perfbot/perfbot/internal/stacktest"
)

// world is one perfbot process wired to a local Slack server, a simulator, Prometheus and PostgreSQL.
type world struct {
	slack   *slackserver.Server
	sim     *stacktest.Sim
	prom    *stacktest.Prometheus
	cfg     *config.Config
	app     *app.App
	channel string
	user    string
	logs    *bytes.Buffer
}

func newWorld(t *testing.T, fault *studiosim.Fault, mutate ...func(*config.Config)) *world {
	t.Helper()
	w := &world{slack: slackserver.NewTestServer(t), user: "U0ALICE", logs: &bytes.Buffer{}}
	w.slack.AddUser(w.user, "alice")
	w.slack.AddUser("U0BOB", "bob")
	w.channel = w.slack.AddChannel("perf")
	w.sim = stacktest.StartSim(t, 15)
	w.prom = stacktest.StartPrometheus(t, map[string]string{"agentic-studio": w.sim.Addr})
	if fault != nil {
		if _, err := w.sim.Client.Inject(context.Background(), *fault); err != nil {
			t.Fatal(err)
		}
	}
	w.cfg = &config.Config{
		Services: []config.Service{{Name: "agentic-studio",
			Prometheus: config.Prometheus{URL: w.prom.URL, NodeSelector: `job="none"`, Window: config.Duration(time.Minute)},
			HealthURL:  w.sim.URL + "/health/detailed"}},
		Slack: config.Slack{AppToken: w.slack.AppToken(), BotToken: w.slack.BotToken(), APIURL: w.slack.APIURL()},
		State: config.State{PostgresDSN: stacktest.Database(t, "perfbot_e2e")},
		HTTP:  config.HTTP{Listen: "127.0.0.1:0", AlertmanagerToken: "test-token"},
	}
	for _, m := range mutate {
		m(w.cfg)
	}
	w.cfg.ApplyDefaults()
	w.start(t)
	return w
}

func (w *world) start(t *testing.T) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.MultiWriter(w.logs, testWriter{t}), &slog.HandlerOptions{Level: slog.LevelInfo}))
	a, err := app.Start(context.Background(), w.cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	w.app = a
	t.Cleanup(a.Close)
	w.wait(t, 10*time.Second, "socket connected", func() bool { return w.slack.Sockets() > 0 })
}

func (w *world) wait(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if err := w.slack.WaitFor(ctx, cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

func (w *world) slash(t *testing.T, channel, text string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := w.slack.SlashCommand(ctx, w.user, channel, "/perf", text); err != nil {
		t.Fatalf("/perf %s: %v", text, err)
	}
}

// finalReports returns the channel's top-level messages that carry a finished report (a table block).
func finalReports(msgs []slackserver.Message) []slackserver.Message {
	var out []slackserver.Message
	for _, m := range msgs {
		if m.ThreadTS == "" && bytes.Contains(m.Blocks, []byte(`"type":"table"`)) {
			out = append(out, m)
		}
	}
	return out
}

func blockTypes(raw json.RawMessage) map[string]int {
	var blocks []struct{ Type string }
	_ = json.Unmarshal(raw, &blocks)
	n := map[string]int{}
	for _, b := range blocks {
		n[b.Type]++
	}
	return n
}

// TestSlackAssessEndToEnd: /perf assess over Socket Mode against a simulator with latency injected:
// the placeholder appears, is updated in place, and ends with the table, findings, buttons and charts.
func TestSlackAssessEndToEnd(t *testing.T) {
	w := newWorld(t, &studiosim.Fault{Kind: "latency", Endpoint: "/api/ideas", Delay: 800 * time.Millisecond})
	time.Sleep(15 * time.Second) // let Prometheus see the slow requests
	w.slash(t, w.channel, "assess")
	w.wait(t, 30*time.Second, "final report and two charts", func() bool {
		return len(finalReports(w.slack.Messages(w.channel))) == 1 && len(w.slack.Files(w.channel)) >= 2
	})
	msg := finalReports(w.slack.Messages(w.channel))[0]
	if msg.Edits == 0 || len(msg.History) == 0 {
		t.Fatalf("the report was not posted as a placeholder and updated (edits=%d)", msg.Edits)
	}
	if !strings.Contains(msg.History[0].Text, "agentic-studio") || !strings.Contains(msg.History[0].Text, "/") {
		t.Errorf("placeholder text %q does not show progress for agentic-studio", msg.History[0].Text)
	}
	types := blockTypes(msg.Blocks)
	for _, want := range []string{"header", "table", "actions"} {
		if types[want] == 0 {
			t.Errorf("final report has no %s block: %s", want, msg.Blocks)
		}
	}
	if !strings.Contains(string(msg.Blocks), "/api/ideas") {
		t.Errorf("final report does not name /api/ideas")
	}
	for _, f := range w.slack.Files(w.channel) {
		if !bytes.HasPrefix(f.Bytes, []byte("\x89PNG")) || f.ThreadTS != msg.TS {
			t.Errorf("file %s: png=%v thread=%q, want a PNG in the report's thread %s", f.Name, bytes.HasPrefix(f.Bytes, []byte("\x89PNG")), f.ThreadTS, msg.TS)
		}
	}
	for _, m := range w.slack.Messages(w.channel) {
		if err := slackserver.ValidateBlocks(m.Blocks); len(m.Blocks) > 0 && err != nil {
			t.Errorf("message %s has blocks Slack would reject: %v", m.TS, err)
		}
	}
}

// TestSlackUsageErrorsAreEphemeral: malformed commands get an ephemeral usage message and post nothing.
func TestSlackUsageErrorsAreEphemeral(t *testing.T) {
	w := newWorld(t, nil)
	for _, text := range []string{"assess --bogus", "nosuch", "incident note outside"} {
		w.slash(t, w.channel, text)
	}
	w.wait(t, 10*time.Second, "three ephemeral answers", func() bool { return len(w.slack.Ephemerals(w.channel, w.user)) == 3 })
	for _, e := range w.slack.Ephemerals(w.channel, w.user) {
		if !strings.Contains(e.Text, "/perf") {
			t.Errorf("ephemeral %q has no usage", e.Text)
		}
	}
	if n := len(w.slack.Messages(w.channel)); n != 0 {
		t.Errorf("%d visible messages posted for malformed commands", n)
	}
}

// TestSlackDisconnectLosesNoCommand: Slack drops the socket mid-command; the bot reconnects and the
// report still arrives, once.
func TestSlackDisconnectLosesNoCommand(t *testing.T) {
	w := newWorld(t, nil)
	w.slash(t, w.channel, "assess")
	w.slack.Disconnect("refresh_requested")
	w.wait(t, 30*time.Second, "the report", func() bool { return len(finalReports(w.slack.Messages(w.channel))) >= 1 })
	w.wait(t, 15*time.Second, "reconnect", func() bool { return w.slack.Sockets() > 0 })
	w.slash(t, w.channel, "assess")
	w.wait(t, 30*time.Second, "the second report", func() bool { return len(finalReports(w.slack.Messages(w.channel))) >= 2 })
	time.Sleep(2 * time.Second)
	if n := len(finalReports(w.slack.Messages(w.channel))); n != 2 {
		t.Errorf("%d reports for two commands", n)
	}
}

// TestSlackReferencePayloadsAreRouted: every Socket Mode payload Slack's SDK teams test with is acked,
// routed or ignored without breaking the bot, which then still answers a command.
func TestSlackReferencePayloadsAreRouted(t *testing.T) {
	w := newWorld(t, nil)
	files := []string{"java-slack-sdk-socket-mode-envelopes.jsonl", "official-docs-socket-mode-examples.jsonl", "python-slack-sdk-socket-mode-envelopes.jsonl"}
	sent := 0
	for _, name := range files {
		f, err := os.Open("../../dev/slackserver/testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var line map[string]json.RawMessage
			if json.Unmarshal(sc.Bytes(), &line) != nil {
				continue
			}
			msg := line["message"]
			if msg == nil {
				continue
			}
			var env struct{ Type string }
			if json.Unmarshal(msg, &env) != nil || env.Type == "disconnect" || env.Type == "hello" {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := w.slack.SendRaw(ctx, msg); err != nil {
				t.Errorf("%s: send: %v", name, err)
			}
			cancel()
			sent++
		}
		f.Close()
	}
	if sent == 0 {
		t.Fatal("no payloads found")
	}
	w.slash(t, w.channel, "help")
	w.wait(t, 10*time.Second, "help after the payloads", func() bool { return len(w.slack.Ephemerals(w.channel, w.user)) >= 1 })
	if strings.Contains(w.logs.String(), "panic") {
		t.Errorf("the bot panicked:\n%s", w.logs.String())
	}
}

type testWriter struct{ t *testing.T }

func (tw testWriter) Write(p []byte) (int, error) {
	tw.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
