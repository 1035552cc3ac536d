package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsv1client "k8s.io/client-go/kubernetes/typed/apps/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/retry"

	"github.com/perfbot/perfbot/app"
	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/incidents"
	"github.com/perfbot/perfbot/internal/stacktest"
)

// countingKubeProxy stands between perfbot and the real kube-apiserver, passing every request on with the
// perfbot service account's credentials, and counts the requests that change the agentic-studio
// Deployment (server-side dry runs excluded). It returns a kubeconfig that points at it.
func countingKubeProxy(t *testing.T) (kubeconfig string, writes *atomic.Int32) {
	t.Helper()
	rc, err := clientcmd.BuildConfigFromFlags("", stacktest.Kubeconfig(t, "perfbot"))
	if err != nil {
		t.Fatal(err)
	}
	rt, err := rest.TransportFor(rc)
	if err != nil {
		t.Fatal(err)
	}
	target, err := url.Parse(rc.Host)
	if err != nil {
		t.Fatal(err)
	}
	writes = &atomic.Int32{}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target) }, Transport: rt}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && strings.Contains(r.URL.Path, "/namespaces/agentic-studio/deployments/agentic-studio") &&
			!r.URL.Query().Has("dryRun") {
			writes.Add(1)
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	kubeconfig = filepath.Join(t.TempDir(), "proxy.kubeconfig")
	doc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: proxy, cluster: {server: %q}}]
users: [{name: perfbot, user: {}}]
contexts: [{name: proxy, context: {cluster: proxy, user: perfbot}}]
current-context: proxy
`, srv.URL)
	if err := os.WriteFile(kubeconfig, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return kubeconfig, writes
}

// scaleTarget reads the Deployment's replicas, restores them when the test ends, and picks a new count in 1..6.
func scaleTarget(t *testing.T) int32 {
	t.Helper()
	deps := stacktest.KubeClient(t, "admin").AppsV1().Deployments("agentic-studio")
	sc, err := deps.GetScale(context.Background(), "agentic-studio", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the stack's agentic-studio Deployment (scripts/stack up creates it): %v", err)
	}
	before := sc.Spec.Replicas
	t.Cleanup(func() { restoreReplicas(t, deps, before) })
	if before >= 6 {
		return before - 1
	}
	return before + 1
}

func generation(t *testing.T) int64 {
	t.Helper()
	d, err := stacktest.KubeClient(t, "admin").AppsV1().Deployments("agentic-studio").Get(context.Background(), "agentic-studio", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d.Generation
}

// clickConcurrently has n clicks on the button arrive at once, from users in turn; it returns the errors.
func (w *world) clickConcurrently(channel, ts, actionID string, users []string, n int) []error {
	var wg sync.WaitGroup
	errc, gate := make(chan error, n), make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			if err := w.slack.ClickButton(ctx, users[i%len(users)], channel, ts, actionID, ""); err != nil {
				errc <- err
			}
		}()
	}
	close(gate)
	wg.Wait()
	close(errc)
	var out []error
	for err := range errc {
		out = append(out, err)
	}
	return out
}

// TestFiftyApproveClicksScaleOnce: two replicas, one approval request, fifty Approve clicks by two approvers
// at once, spread over both replicas' sockets. The real Deployment is scaled once: one write reaches the
// API server, its generation moves by one, one request row succeeds with one approval and one execution,
// one result is posted, and the other 49 clicks are told it was already approved.
func TestFiftyApproveClicksScaleOnce(t *testing.T) {
	target := scaleTarget(t)
	kubeconfig, writes := countingKubeProxy(t)
	approvers := []string{"U0BOB", "U0CAROL"}
	w := newReplicaWorld(t, func(c *config.Config) {
		c.Services = []config.Service{{Name: "agentic-studio",
			Kubernetes: config.Kubernetes{Kubeconfig: kubeconfig, Namespace: "agentic-studio", Deployment: "agentic-studio"}}}
		c.Actions = config.Actions{Allowed: []string{"scale"}, Approvers: approvers,
			Deployments: []config.DeploymentLimit{{Namespace: "agentic-studio", Name: "agentic-studio", MinReplicas: 1, MaxReplicas: 6}}}
	})
	apps := w.replicas(t, 2)
	inc := w.openIncident(t, "approval storm sev3")
	w.slash(t, inc.ID, fmt.Sprintf("scale agentic-studio %d", target))
	req := w.approvalRequest(t, inc.ID)
	gen, wrote := generation(t), writes.Load()

	for _, err := range w.clickConcurrently(inc.ID, req.TS, buttonID(t, req, "approve:"), approvers, 50) {
		t.Errorf("click: %v", err)
	}
	w.wait(t, 40*time.Second, "the outcome", func() bool {
		m, _ := w.slack.Message(inc.ID, req.TS)
		return strings.Contains(string(m.Blocks), "succeeded")
	})
	refusals := func() int {
		return len(w.slack.Ephemerals(inc.ID, "U0BOB")) + len(w.slack.Ephemerals(inc.ID, "U0CAROL"))
	}
	// Every click is answered: a result in the request's thread for the one that ran, an ephemeral refusal
	// for each other. Waiting for fifty answers, whatever they are, lets a second execution show as such.
	w.wait(t, 20*time.Second, "an answer to every click", func() bool { return refusals()+threadReplies(w, inc.ID, req.TS) >= 50 })
	stacktest.Eventually(t, 10*time.Second, 50*time.Millisecond, func() bool {
		_, kinds := timelineOf(t, apps[0].Store, inc.ID)
		return kinds[incidents.KindActionExecuted] >= 1
	}, "the execution in the timeline")

	if n := writes.Load() - wrote; n != 1 {
		t.Errorf("%d writes to the Deployment reached the API server, want 1", n)
	}
	if g := generation(t); g != gen+1 {
		t.Errorf("generation %d → %d, want one step", gen, g)
	}
	if n := refusals(); n != 49 {
		t.Errorf("%d clicks were refused, want 49", n)
	}
	for _, e := range append(w.slack.Ephemerals(inc.ID, "U0BOB"), w.slack.Ephemerals(inc.ID, "U0CAROL")...) {
		if !strings.Contains(e.Text, "already approved") {
			t.Errorf("refusal %q does not say the request was already approved", e.Text)
		}
	}
	checkScaledOnce(t, w, apps[1], inc.ID, req.TS)
}

// checkScaledOnce counts the request's rows and audit events in the state database, its timeline events
// and the result posts in its thread.
func checkScaledOnce(t *testing.T, w *world, a *app.App, channel, requestTS string) {
	t.Helper()
	_, pool := stateStore(t, w.cfg.State.PostgresDSN)
	counts := func(sql string) string {
		rows, err := pool.Query(context.Background(), sql)
		if err != nil {
			t.Fatal(err)
		}
		got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct {
			K string
			N int
		}])
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(got)
	}
	if got := counts(`SELECT status, count(*)::int FROM action_requests GROUP BY 1 ORDER BY 1`); got != "[{succeeded 1}]" {
		t.Errorf("action requests by status: %s, want one succeeded", got)
	}
	if got := counts(`SELECT kind, count(*)::int FROM action_events GROUP BY 1 ORDER BY 1`); got != "[{approved 1} {executed 1} {requested 1} {verified 1}]" {
		t.Errorf("action events: %s, want one each of requested, approved, executed, verified", got)
	}
	// The timeline keys action events by request and step; executed and verified are both action_executed.
	events, _ := timelineOf(t, a.Store, channel)
	steps := map[string]int{}
	for _, e := range events {
		if strings.HasPrefix(string(e.Kind), "action_") {
			_, step, _ := strings.Cut(e.DedupeKey, ":")
			steps[string(e.Kind)+"/"+step]++
		}
	}
	want := map[string]int{"action_requested/requested": 1, "action_approved/approved": 1,
		"action_executed/executed": 1, "action_executed/verified": 1}
	if fmt.Sprint(steps) != fmt.Sprint(want) {
		t.Errorf("timeline action events %v, want %v", steps, want)
	}
	if results := threadReplies(w, channel, requestTS); results != 1 {
		t.Errorf("%d results posted in the request's thread, want 1", results)
	}
}

// threadReplies counts the replies in a message's thread.
func threadReplies(w *world, channel, ts string) int {
	n := 0
	for _, m := range w.slack.Messages(channel) {
		if m.ThreadTS == ts && m.TS != ts {
			n++
		}
	}
	return n
}

// restoreReplicas sets agentic-studio back to n replicas, reading the scale again whenever the
// controller manager wrote the Deployment in between.
func restoreReplicas(t *testing.T, deps appsv1client.DeploymentInterface, n int32) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		s, err := deps.GetScale(context.Background(), "agentic-studio", metav1.GetOptions{})
		if err != nil || s.Spec.Replicas == n {
			return err
		}
		s.Spec.Replicas = n
		_, err = deps.UpdateScale(context.Background(), "agentic-studio", s, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Errorf("restore agentic-studio to %d replicas: %v", n, err)
	}
}
