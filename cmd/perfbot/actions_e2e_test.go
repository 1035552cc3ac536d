package main

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/dev/slackserver"
	"github.com/perfbot/perfbot/incidents"
	"github.com/perfbot/perfbot/internal/stacktest"
)

// buttonID finds the action_id starting with prefix in a message's blocks.
func buttonID(t *testing.T, m slackserver.Message, prefix string) string {
	t.Helper()
	var blocks []struct {
		Elements []struct {
			ActionID string `json:"action_id"`
		} `json:"elements"`
	}
	_ = json.Unmarshal(m.Blocks, &blocks)
	for _, b := range blocks {
		for _, e := range b.Elements {
			if strings.HasPrefix(e.ActionID, prefix) {
				return e.ActionID
			}
		}
	}
	t.Fatalf("no %s button in %s", prefix, m.Blocks)
	return ""
}

// TestSlackScaleNeedsASecondPerson: /perf scale posts an approval; the requester's own click is refused;
// a listed approver's click scales the real Deployment; the message and the incident timeline show
// who asked, who approved and the result.
func TestSlackScaleNeedsASecondPerson(t *testing.T) {
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
	w := newWorld(t, nil, func(c *config.Config) {
		c.Services[0].Kubernetes = config.Kubernetes{Kubeconfig: stacktest.Kubeconfig(t, "perfbot"), Namespace: "agentic-studio", Deployment: "agentic-studio"}
		c.Actions = config.Actions{Allowed: []string{"scale"}, Approvers: []string{"U0BOB"},
			Deployments: []config.DeploymentLimit{{Namespace: "agentic-studio", Name: "agentic-studio", MinReplicas: 1, MaxReplicas: 6}}}
	})
	w.slash(t, w.channel, "incident open scaling drill sev3")
	var inc slackserver.Channel
	w.wait(t, 15*time.Second, "incident channel", func() bool { var ok bool; inc, ok = w.channelNamed("inc-"); return ok })
	// The opening summary is posted once the channel is stored with the incident.
	w.wait(t, 15*time.Second, "opening summary", func() bool { return countMessages(w.slack.Messages(inc.ID), "Incident #1") > 0 })

	w.slash(t, inc.ID, "scale agentic-studio "+strconv.Itoa(int(target)))
	req := w.approvalRequest(t, inc.ID)
	if !strings.Contains(string(req.Blocks), "→") || !strings.Contains(string(req.Blocks), "U0BOB") {
		t.Errorf("approval message lacks the change or the approvers: %s", req.Blocks)
	}
	approve := buttonID(t, req, "approve:")
	click := func(user string) {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := w.slack.ClickButton(cctx, user, inc.ID, req.TS, approve, ""); err != nil {
			t.Fatal(err)
		}
	}
	click(w.user)
	w.wait(t, 10*time.Second, "the requester's refusal", func() bool {
		for _, e := range w.slack.Ephemerals(inc.ID, w.user) {
			if strings.Contains(e.Text, "approve") {
				return true
			}
		}
		return false
	})
	if s, _ := admin.AppsV1().Deployments("agentic-studio").GetScale(ctx, "agentic-studio", metav1.GetOptions{}); s.Spec.Replicas != before {
		t.Fatalf("replicas changed to %d after the requester's own click", s.Spec.Replicas)
	}
	click("U0BOB")
	w.wait(t, 40*time.Second, "the approved outcome", func() bool {
		m, _ := w.slack.Message(inc.ID, req.TS)
		return strings.Contains(string(m.Blocks), "succeeded")
	})
	s, err := admin.AppsV1().Deployments("agentic-studio").GetScale(ctx, "agentic-studio", metav1.GetOptions{})
	if err != nil || s.Spec.Replicas != target {
		t.Fatalf("spec.replicas = %d (%v), want %d", s.Spec.Replicas, err, target)
	}
	final, _ := w.slack.Message(inc.ID, req.TS)
	if !strings.Contains(string(final.Blocks), "U0BOB") || strings.Contains(string(final.Blocks), "approve:") {
		t.Errorf("outcome message should name the approver and drop the buttons: %s", final.Blocks)
	}
	incident, err := w.app.Store.ByChannel(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	events, err := w.app.Store.Timeline(ctx, incident.ID)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[incidents.Kind]string{}
	for _, e := range events {
		if _, seen := kinds[e.Kind]; !seen {
			kinds[e.Kind] = e.Actor + " " + e.Summary
		}
	}
	if !strings.HasPrefix(kinds[incidents.KindActionRequested], w.user) || !strings.HasPrefix(kinds[incidents.KindActionApproved], "U0BOB") ||
		!strings.Contains(kinds[incidents.KindActionExecuted], "to "+strconv.Itoa(int(target))) {
		t.Errorf("timeline actions = %v, want requested by %s, approved by U0BOB, executed", kinds, w.user)
	}
}

// approvalRequest waits for the message in channel that carries Approve/Deny buttons.
func (w *world) approvalRequest(t *testing.T, channel string) slackserver.Message {
	t.Helper()
	var req slackserver.Message
	w.wait(t, 15*time.Second, "the approval request", func() bool {
		for _, m := range w.slack.Messages(channel) {
			if strings.Contains(string(m.Blocks), "approve:") {
				req = m
				return true
			}
		}
		return false
	})
	return req
}

// TestSlackExpiredRequestIsUpdatedInPlace: a request nobody approves expires on the clock: its
// approval message loses its buttons and says expired, and the incident timeline records the expiry
// once.
func TestSlackExpiredRequestIsUpdatedInPlace(t *testing.T) {
	ctx := context.Background()
	dbName, dsn := stacktest.NamedDatabase(t, "perfbot_e2e_target")
	target, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close(ctx)
	if _, err := target.Exec(ctx, `CREATE TABLE ideas (id int PRIMARY KEY, title text)`); err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, nil, func(c *config.Config) {
		c.Services[0].Postgres.DSN = dsn
		c.Actions = config.Actions{Allowed: []string{"analyze"}, Approvers: []string{"U0BOB"}, Databases: []string{dbName},
			Expiry: config.Duration(time.Second)}
	})
	w.slash(t, w.channel, "incident open expiry drill sev3")
	var inc slackserver.Channel
	w.wait(t, 15*time.Second, "incident channel", func() bool { var ok bool; inc, ok = w.channelNamed("inc-"); return ok })
	w.wait(t, 15*time.Second, "opening summary", func() bool { return countMessages(w.slack.Messages(inc.ID), "Incident #1") > 0 })
	w.slash(t, inc.ID, "analyze ideas")
	var req slackserver.Message // found whether or not the clock got to it first
	w.wait(t, 15*time.Second, "the approval message", func() bool {
		for _, m := range w.slack.Messages(inc.ID) {
			if strings.HasPrefix(m.Text, "Approval ") && strings.Contains(m.Text, "ANALYZE") {
				req = m
				return true
			}
		}
		return false
	})
	w.wait(t, 30*time.Second, "the request shown expired", func() bool {
		m, _ := w.slack.Message(inc.ID, req.TS)
		return strings.Contains(string(m.Blocks), "expired") && !strings.Contains(string(m.Blocks), "approve:")
	})
	if m, _ := w.slack.Message(inc.ID, req.TS); m.Edits == 0 {
		t.Errorf("the approval message was not updated in place")
	}
	incident, err := w.app.Store.ByChannel(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	events, err := w.app.Store.Timeline(ctx, incident.ID)
	if err != nil {
		t.Fatal(err)
	}
	expired := 0
	for _, e := range events {
		if e.Kind == incidents.KindActionDenied && strings.HasPrefix(e.Summary, "expired without approval: ANALYZE public.ideas") {
			expired++
		}
	}
	if expired != 1 {
		t.Errorf("%d expiry events in the timeline, want 1: %+v", expired, events)
	}
}
