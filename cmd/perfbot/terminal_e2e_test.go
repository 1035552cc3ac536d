package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"log/slog"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/perfbot/perfbot/app"
	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/dev/slackserver"
	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/internal/stacktest"
)

// TestTerminalRunsIncidentsWithoutSlack: with no Slack server at all, perfbot exec opens an
// incident as alice, notes it and requests a scale; alice's own approval is refused; bob approves
// from another exec and the real Deployment scales; the postmortem printed in the terminal lists
// those events. Malformed incident commands get their usage, and an unmapped user may not act.
func TestTerminalRunsIncidentsWithoutSlack(t *testing.T) {
	admin := stacktest.KubeClient(t, "admin")
	ctx := context.Background()
	scale, err := admin.AppsV1().Deployments("agentic-studio").GetScale(ctx, "agentic-studio", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	before := scale.Spec.Replicas
	t.Cleanup(func() { restoreReplicas(t, admin.AppsV1().Deployments("agentic-studio"), before) })
	target := int32(5)
	if before == target {
		target = 4
	}
	cfgPath := filepath.Join(t.TempDir(), "perfbot.yaml")
	yaml := fmt.Sprintf(`services:
  - name: agentic-studio
    prometheus: {url: 'http://127.0.0.1:9'}
    kubernetes: {kubeconfig: %q, namespace: agentic-studio, deployment: agentic-studio}
state: {postgres_dsn: %q}
actions:
  allowed: [scale]
  approvers: [U0ALICE, U0BOB]
  deployments: [{namespace: agentic-studio, name: agentic-studio, min_replicas: 1, max_replicas: 6}]
incidents: {on_call: [U0ALICE]}
teams: [{name: database, users: [U0DAN]}]
terminal:
  users: {alice: U0ALICE, bob: U0BOB}
`, stacktest.Kubeconfig(t, "perfbot"), stacktest.Database(t, "perfbot_terminal"))
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	as := func(user, line string) (string, error) {
		out, stderr, err := runMain(t, map[string]string{"USER": user}, "-config", cfgPath, "exec", line)
		t.Logf("%s$ perfbot exec %q\n%s%s", user, line, out, stderr)
		return out, err
	}
	must := func(user, line, want string) string {
		t.Helper()
		out, err := as(user, line)
		if err != nil || !strings.Contains(out, want) {
			t.Fatalf("%s: %s: err=%v, want %q in:\n%s", user, line, err, want, out)
		}
		return out
	}
	must("alice", "/perf incident open checkout errors while Slack is down sev1", "Incident #1")
	must("alice", "/perf incident note restarted the ingress by hand", "added to the timeline")
	must("alice", "/perf incident update mitigation in progress", "Status update by @U0ALICE")
	must("alice", "/perf incident page database", "Paged the database team")
	must("alice", "/perf incident escalate", "Escalated incident #1 to")

	for _, c := range []struct{ line, want string }{
		{"/perf incident page nosuchteam", "usage: /perf incident page <team>"},
		{"/perf incident update", "usage: /perf incident update <text>"},
		{"/perf incident lead nobody", "is not a user"},
	} {
		out, err := as("alice", c.line)
		if errs.KindOf(err) != errs.Invalid || exitCode(err) != 2 || !strings.Contains(out, c.want) {
			t.Errorf("%s: err=%v exit=%d, want a usage error with %q:\n%s", c.line, err, exitCode(err), c.want, out)
		}
	}
	if out, err := as("mallory", "/perf incident note hello"); errs.KindOf(err) != errs.Forbidden || !strings.Contains(out, "terminal.users") {
		t.Errorf("an unmapped user acted: err=%v\n%s", err, out)
	}

	out := must("alice", fmt.Sprintf("/perf scale agentic-studio %d", target), "Change request")
	id := regexp.MustCompile(`Change request ([0-9a-f-]{36})`).FindStringSubmatch(out)
	if id == nil {
		t.Fatalf("no request ID in:\n%s", out)
	}
	if out, err := as("alice", "/perf approve "+id[1][:8]); errs.KindOf(err) != errs.Forbidden || !strings.Contains(out, "someone else must approve") {
		t.Fatalf("the requester approved their own change: err=%v\n%s", err, out)
	}
	must("bob", "/perf approve "+id[1][:8], "SUCCEEDED")
	got, err := admin.AppsV1().Deployments("agentic-studio").GetScale(ctx, "agentic-studio", metav1.GetOptions{})
	if err != nil || got.Spec.Replicas != target {
		t.Fatalf("replicas = %v (err %v), want %d", got.Spec.Replicas, err, target)
	}
	must("alice", "/perf actions", "SUCCEEDED")

	md := must("alice", "/perf postmortem", "# ")
	for _, want := range []string{"restarted the ingress by hand", "mitigation in progress", "| action_requested |",
		"| action_approved |", fmt.Sprintf("to %d", target), "| opened |"} {
		if !strings.Contains(md, want) {
			t.Errorf("the terminal's postmortem lacks %q:\n%s", want, md)
		}
	}

	// Slack is back: perfbot run creates the incident's channel and tells it what happened meanwhile.
	cfg, err := config.Parse([]byte(yaml), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	w := &world{slack: slackserver.NewTestServer(t), user: "U0ALICE"}
	for id, name := range map[string]string{"U0ALICE": "alice", "U0BOB": "bob", "U0DAN": "dan"} {
		w.slack.AddUser(id, name)
	}
	cfg.Slack = config.Slack{AppToken: w.slack.AppToken(), BotToken: w.slack.BotToken(), APIURL: w.slack.APIURL()}
	cfg.HTTP.Listen = "127.0.0.1:0"
	a, err := app.Start(ctx, cfg, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})), app.WithEscalationEvery(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	var inc slackserver.Channel
	w.wait(t, 30*time.Second, "the caught-up incident channel", func() bool {
		var ok bool
		inc, ok = w.channelNamed("inc-")
		m, found := messageWith(w.slack.Messages(inc.ID), "While Slack was unreachable")
		return ok && found && strings.Contains(m.Text, "restarted the ingress by hand") && strings.Contains(m.Text, "action_approved")
	})
	if n := countMessages(w.slack.Messages(inc.ID), "While Slack was unreachable"); n != 1 {
		t.Errorf("the catch-up was posted %d times, want once", n)
	}
	// The team page asked for from the terminal goes out now: dan is invited and mentioned.
	w.wait(t, 10*time.Second, "the database team paged", func() bool {
		m, ok := messageWith(w.slack.Messages(inc.ID), "Paging the database team")
		ch, _ := w.slack.Channel(inc.ID)
		return ok && strings.Contains(m.Text+string(m.Blocks), "U0DAN") && strings.Contains(strings.Join(ch.Members, " "), "U0DAN")
	})
	// So does the escalation (level 1, fired from the terminal, so the clock leaves it alone): paged once.
	w.wait(t, 10*time.Second, "the escalation paged", func() bool { return countMessages(w.slack.Messages(inc.ID), "Escalation — Level 1") > 0 })
	if n := countMessages(w.slack.Messages(inc.ID), "Escalation — Level 1"); n != 1 {
		t.Errorf("level 1 paged %d times, want once", n)
	}
}
