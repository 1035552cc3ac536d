package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/perfbot/perfbot/dev/slackserver"
	"github.com/perfbot/perfbot/incidents"
	"github.com/perfbot/perfbot/internal/probetest"
	"github.com/perfbot/perfbot/internal/stacktest"
)

// chaosDuration is how long the chaos test sends traffic: PERFBOT_CHAOS_DURATION (a Go duration),
// default 40 s.
func chaosDuration(t *testing.T) time.Duration {
	d := 40 * time.Second
	if v := os.Getenv("PERFBOT_CHAOS_DURATION"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			t.Fatalf("PERFBOT_CHAOS_DURATION: %v", err)
		}
	}
	return d
}

// chaosRun is what the chaos test sent and what Slack accepted.
type chaosRun struct {
	mu       sync.Mutex
	commands map[string]string // chaos user → the command Slack acked (one command per user)
	notes    map[string]bool   // note texts acked
	scales   map[string]int    // requester → target replicas
	pins     map[string]bool   // pinned report ts
	refused  atomic.Int32      // commands Slack reported not acked (the user saw an error)
	sent     atomic.Int32
}

// TestChaos: two perfbot processes share one Slack app, one state database and one incident. For
// PERFBOT_CHAOS_DURATION a stream of slash commands (probe reports, notes, scale requests), Approve clicks
// (two approvers at once) and pins runs while Slack asks for reconnects and drops sockets at random, one
// replica is SIGKILLed and restarted, and Prometheus is SIGSTOPped for 10 s. Then: every command Slack
// acked got exactly one answer, no placeholder is left, every note, report and pin is in the timeline
// once, each escalation level paged once, and no approval executed twice.
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos test: minutes, not for -short")
	}
	dur := chaosDuration(t)
	bin := stacktest.BuildGo(t, "./cmd/perfbot")
	admin := stacktest.KubeClient(t, "admin")
	// The approvals scale a Deployment of the test's own, in a namespace deleted when the test ends.
	ns, deploy := probetest.KubeNamespace(t, admin), "chaos"
	probetest.KubeDeployment(t, admin, ns, deploy, 1)
	grantScale(t, admin, ns, deploy)

	w := newReplicaWorld(t)
	sim := stacktest.StartSim(t, 10)
	prom := stacktest.StartPrometheus(t, map[string]string{"agentic-studio": sim.Addr})
	const users = 400
	for i := range users {
		w.slack.AddUser(chaosUser(i), fmt.Sprintf("chaos%03d", i))
	}
	cfgPath := chaosConfig(t, w, prom.URL, sim.URL, ns, deploy, dur)
	start := func() *stacktest.Process {
		return stacktest.StartProcess(t, bin, "-config", cfgPath, "-log-level", "info", "run")
	}
	replicas := []*stacktest.Process{start(), start()}
	w.wait(t, 30*time.Second, "two sockets", func() bool { return w.slack.Sockets() == 2 })
	inc := w.openIncident(t, "chaos drill sev2")
	st, pool := stateStore(t, w.cfg.State.PostgresDSN)

	run := &chaosRun{commands: map[string]string{}, notes: map[string]bool{}, scales: map[string]int{}, pins: map[string]bool{}}
	ctx, stop := context.WithTimeout(context.Background(), dur)
	defer stop()
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); chaosTraffic(ctx, w, inc.ID, ns, deploy, run) }()
	go func() { defer wg.Done(); chaosApprovals(ctx, w, inc.ID) }()
	var killed, restarted, paused atomic.Bool
	go func() {
		defer wg.Done()
		chaosFaults(ctx, t, w, dur, func() { // kill replica 0, restart it a little later
			replicas[0].Kill()
			killed.Store(true)
			time.Sleep(3 * time.Second)
			replicas[0] = start()
			restarted.Store(true)
		}, func() { prom.Pause(t); paused.Store(true); time.Sleep(10 * time.Second); prom.Resume() })
	}()
	wg.Wait()
	prom.Resume()
	if !killed.Load() || !restarted.Load() || !paused.Load() {
		t.Fatalf("the faults did not all happen (killed %v, restarted %v, Prometheus paused %v): raise PERFBOT_CHAOS_DURATION",
			killed.Load(), restarted.Load(), paused.Load())
	}
	w.wait(t, 30*time.Second, "both replicas connected", func() bool { return w.slack.Sockets() == 2 })
	// Let every accepted command finish: answers, approvals decided and executed.
	w.wait(t, 3*time.Minute, "an answer to every acked command", func() bool {
		run.mu.Lock()
		defer run.mu.Unlock()
		msgs := w.slack.Messages(inc.ID)
		for u := range run.commands {
			if answersTo(w.slack, msgs, inc.ID, u) == 0 {
				return false
			}
		}
		return true
	})
	chaosApproveRest(t, w, inc.ID)
	checkChaos(t, w, st, inc, run)
	checkApprovalsOnce(t, pool)
}

func chaosUser(i int) string { return fmt.Sprintf("U0CH%04d", i) }

// chaosConfig is the processes' perfbot.yaml: the private Prometheus (it is paused mid-test) and
// simulator, scale allowed on the test's Deployment with two approvers, short journal leases, and an
// escalation ladder that climbs during the run.
func chaosConfig(t *testing.T, w *world, promURL, simURL, ns, deploy string, dur time.Duration) string {
	t.Helper()
	yaml := fmt.Sprintf(`services:
  - name: agentic-studio
    prometheus: {url: %q, node_selector: 'job="none"', window: 1m}
    health_url: %q
    kubernetes: {kubeconfig: %q, namespace: agentic-studio, deployment: agentic-studio}
slack:
  app_token: %q
  bot_token: %q
  api_url: %q
state:
  postgres_dsn: %q
  work_lease: 3s
http:
  listen: 127.0.0.1:0
  alertmanager_token: am-token
actions:
  allowed: [scale]
  approvers: [U0BOB, U0CAROL]
  deployments:
    - {namespace: %s, name: %s, min_replicas: 1, max_replicas: 6}
incidents:
  on_call: [U0ALICE]
  levels:
    - {name: "Level 1: developer on-call", after: 0s, page: [U0ALICE]}
    - {name: "Level 2: senior engineer", after: %s, page: [U0BOB]}
    - {name: "Level 3: engineering manager", after: %s, page: [U0CAROL]}
`, promURL, simURL+"/health/detailed", stacktest.Kubeconfig(t, "perfbot"), w.cfg.Slack.AppToken, w.cfg.Slack.BotToken,
		w.cfg.Slack.APIURL, w.cfg.State.PostgresDSN, ns, deploy, dur/3, 2*dur/3)
	path := filepath.Join(t.TempDir(), "perfbot.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// chaosTraffic sends one thing every 150–450 ms until ctx ends: probe commands, notes and scale requests
// (each from a user of its own, so each answer can be told apart) and pins of finished reports.
func chaosTraffic(ctx context.Context, w *world, channel, ns, deploy string, run *chaosRun) {
	probes := []string{"api", "ai", "crewai", "infra", "api 15m"}
	for i := 0; ctx.Err() == nil; i++ {
		u := chaosUser(i)
		var text string
		switch r := rand.IntN(10); {
		case r < 5:
			text = probes[rand.IntN(len(probes))]
		case r < 8:
			text = fmt.Sprintf("incident note chaos note %d", i)
		case r < 9:
			text = fmt.Sprintf("scale %s/%s %d", ns, deploy, 2+i%5) // 2–6 replicas
		default:
			reports := finalReports(w.slack.Messages(channel))
			if len(reports) > 0 {
				ts := reports[rand.IntN(len(reports))].TS
				if _, err := w.slack.PostEvent(pinEvent(channel, ts)); err == nil {
					run.mu.Lock()
					run.pins[ts] = true
					run.mu.Unlock()
				}
			}
			sleepFor(ctx, 150+rand.IntN(300))
			continue
		}
		run.sent.Add(1)
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := w.slack.SlashCommand(sctx, u, channel, "/perf", text)
		cancel()
		if err != nil {
			run.refused.Add(1)
		} else {
			run.mu.Lock()
			run.commands[u] = text
			if strings.HasPrefix(text, "incident note ") {
				run.notes[strings.TrimPrefix(text, "incident note ")] = true
			}
			if strings.HasPrefix(text, "scale ") {
				run.scales[u] = 2 + i%5
			}
			run.mu.Unlock()
		}
		sleepFor(ctx, 150+rand.IntN(300))
	}
}

func sleepFor(ctx context.Context, ms int) {
	select {
	case <-ctx.Done():
	case <-time.After(time.Duration(ms) * time.Millisecond):
	}
}

// chaosApprovals clicks Approve on pending requests, two approvers at once, until ctx ends. A click
// that Slack could not deliver (no socket, no ack) is clicked again on a later round.
func chaosApprovals(ctx context.Context, w *world, channel string) {
	for ctx.Err() == nil {
		approveAll(w, channel)
		sleepFor(ctx, 700)
	}
}

// approveAll clicks Approve as U0BOB and U0CAROL at the same moment on every request still showing
// the button; it reports how many it clicked.
func approveAll(w *world, channel string) int {
	n := 0
	for _, m := range w.slack.Messages(channel) {
		id := approveButton(m)
		if id == "" {
			continue
		}
		n++
		var wg sync.WaitGroup
		for _, u := range []string{"U0BOB", "U0CAROL"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = w.slack.ClickButton(cctx, u, channel, m.TS, id, "")
			}()
		}
		wg.Wait()
	}
	return n
}

// approveButton is the Approve button's action_id on a message, "" when it has none.
func approveButton(m slackserver.Message) string {
	s := string(m.Blocks)
	i := strings.Index(s, `"action_id":"approve:`)
	if i < 0 {
		return ""
	}
	rest := s[i+len(`"action_id":"`):]
	return rest[:strings.IndexByte(rest, '"')]
}

// chaosApproveRest approves what is still pending after the traffic stopped and waits until no
// request shows its buttons or a running state.
func chaosApproveRest(t *testing.T, w *world, channel string) {
	t.Helper()
	w.wait(t, 3*time.Minute, "every approval request decided and finished", func() bool {
		if approveAll(w, channel) > 0 {
			return false
		}
		for _, m := range w.slack.Messages(channel) {
			if strings.Contains(string(m.Blocks), "Approval needed") && strings.Contains(string(m.Blocks), "executing") {
				return false
			}
		}
		return true
	})
}

// chaosFaults sends a reconnect request or drops a socket every 2–5 s until ctx ends; at a quarter of
// the run it calls kill, at half pause (each in its own goroutine, waited for before returning).
func chaosFaults(ctx context.Context, t *testing.T, w *world, dur time.Duration, kill, pause func()) {
	begin := time.Now()
	var wg sync.WaitGroup
	var killed, paused bool
	for ctx.Err() == nil {
		sleepFor(ctx, 2000+rand.IntN(3000))
		switch {
		case !killed && time.Since(begin) > dur/4:
			killed = true
			wg.Add(1)
			go func() { defer wg.Done(); kill() }()
		case !paused && time.Since(begin) > dur/2:
			paused = true
			wg.Add(1)
			go func() { defer wg.Done(); pause() }()
		case rand.IntN(2) == 0:
			w.slack.Disconnect("refresh_requested")
		default:
			w.slack.DropConnection()
		}
	}
	wg.Wait()
	t.Logf("chaos faults: replica killed %v, Prometheus paused %v", killed, paused)
}

// answersTo counts the answers user u got in channel: top-level messages naming u and messages only u
// sees.
func answersTo(srv *slackserver.Server, msgs []slackserver.Message, channel, u string) int {
	n := 0
	for _, m := range msgs {
		if m.ThreadTS == "" && (strings.Contains(m.Text, u) || strings.Contains(string(m.Blocks), u)) {
			n++
		}
	}
	return n + len(srv.Ephemerals(channel, u))
}

// checkChaos prints the counts and fails on any command answered twice or not at all, a placeholder
// left behind, or a timeline event missing or doubled.
func checkChaos(t *testing.T, w *world, st *incidents.Store, inc slackserver.Channel, run *chaosRun) {
	t.Helper()
	run.mu.Lock()
	defer run.mu.Unlock()
	msgs := w.slack.Messages(inc.ID)
	once, doubled, lost := 0, 0, 0
	for u, text := range run.commands {
		switch n := answersTo(w.slack, msgs, inc.ID, u); {
		case n == 1:
			once++
		case n == 0:
			lost++
			t.Errorf("/perf %s by %s: no answer", text, u)
		default:
			doubled++
			t.Errorf("/perf %s by %s: %d answers", text, u, n)
		}
	}
	left := countBlocks(msgs, ":hourglass_flowing_sand:")
	if left > 0 {
		t.Errorf("%d placeholders left behind", left)
	}
	events, kinds := timelineOf(t, st, inc.ID)
	notes := map[string]int{}
	reports := map[string]int{}
	for _, e := range events {
		switch {
		case e.Kind == incidents.KindNote:
			notes[e.Summary]++
		case e.Kind == incidents.KindCommand && strings.HasPrefix(e.Actor, "U0CH"):
			reports[e.Actor]++
		}
	}
	wantReports := 0
	for u, text := range run.commands {
		if strings.HasPrefix(text, "incident") || strings.HasPrefix(text, "scale") {
			continue
		}
		wantReports++
		if reports[u] != 1 {
			t.Errorf("timeline has %d events for /perf %s by %s, want 1", reports[u], text, u)
		}
	}
	for text := range run.notes {
		if notes[text] != 1 {
			t.Errorf("timeline has note %q %d times, want once", text, notes[text])
		}
	}
	if kinds[incidents.KindPin] != len(run.pins) {
		t.Errorf("timeline has %d pins, want %d (one per pinned report)", kinds[incidents.KindPin], len(run.pins))
	}
	checkPagedOnce(t, msgs)
	if kinds[incidents.KindEscalated] != 3 {
		t.Errorf("timeline has %d escalations, want 3", kinds[incidents.KindEscalated])
	}
	t.Logf("chaos: commands sent %d, acked by Slack %d, refused by Slack %d; answered once %d, doubled %d, lost %d; "+
		"placeholders left %d; timeline: reports %d/%d, notes %d/%d, pins %d/%d, escalations %d/3",
		run.sent.Load(), len(run.commands), run.refused.Load(), once, doubled, lost, left,
		sumValues(reports), wantReports, len(notes), len(run.notes), kinds[incidents.KindPin], len(run.pins), kinds[incidents.KindEscalated])
}

func countBlocks(msgs []slackserver.Message, s string) int {
	n := 0
	for _, m := range msgs {
		if strings.Contains(string(m.Blocks), s) {
			n++
		}
	}
	return n
}

func sumValues(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// checkApprovalsOnce: no request was approved, executed or finished more than once, across replicas,
// kills and double clicks.
func checkApprovalsOnce(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT request_id::text, kind, count(*) FROM action_events
		WHERE kind IN ('approved', 'executed', 'verified', 'failed') GROUP BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	executed := 0
	for rows.Next() {
		var id, kind string
		var n int
		if err := rows.Scan(&id, &kind, &n); err != nil {
			t.Fatal(err)
		}
		if n > 1 {
			t.Errorf("request %s: %s %d times", id, kind, n)
		}
		if kind == "executed" {
			executed++
		}
	}
	var requests int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM action_requests`).Scan(&requests); err != nil {
		t.Fatal(err)
	}
	t.Logf("chaos: approval requests %d, executed %d (each at most once)", requests, executed)
}

// grantScale lets perfbot's account scale the test's own Deployment in ns (its standing Role is in
// agentic-studio's namespace only).
func grantScale(t *testing.T, admin kubernetes.Interface, ns, deploy string) {
	t.Helper()
	ctx := context.Background()
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: deploy}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{"apps"}, Resources: []string{"deployments/scale"}, ResourceNames: []string{deploy}, Verbs: []string{"get", "update", "patch"}}}}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: deploy},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: deploy},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "perfbot", Namespace: "agentic-studio"}}}
	rbac := admin.RbacV1()
	if _, err := rbac.Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := rbac.RoleBindings(ns).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}
