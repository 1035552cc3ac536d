package actions

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/perfbot/perfbot/errs"
)

// TestKubeChangedSinceRequest: a scale or resource patch whose starting point moved between request
// and approval is refused when approved, and the deployment keeps what the other change set.
func TestKubeChangedSinceRequest(t *testing.T) {
	ctx := context.Background()
	kcfg := kubeConfig(t)
	k := newKubeTarget(t, kcfg, 1)
	k.waitObserved(t)
	var updates atomic.Int64
	f := newFixture(t, func(o *Options) {
		o.Kube = countingClient(t, kcfg, &updates)
		o.Config.Actions.Deployments = append(o.Config.Actions.Deployments, k.limit(1, 6))
	})

	t.Run("scale", func(t *testing.T) {
		r, err := f.svc.Request(ctx, "carol", "C1", mustParse(t, "scale agentic-studio 3"))
		if err != nil {
			t.Fatalf("Request: %v", err)
		}
		k.setReplicas(t, 2) // as an admin would, retried if the controller manager wrote in between
		done, err := f.svc.Approve(ctx, r.ID, "alice")
		if err != nil {
			t.Fatalf("Approve: %v", err)
		}
		if done.Status != StatusFailed || !strings.Contains(done.Result, "replicas changed from 1 to 2 since the request; ask again") {
			t.Errorf("status %s, result %q; want failed with the replicas conflict", done.Status, done.Result)
		}
		if got := *k.deployment(t).Spec.Replicas; got != 2 || updates.Load() != 0 {
			t.Errorf("replicas %d after %d scale updates by perfbot, want 2 and none", got, updates.Load())
		}
	})

	t.Run("limits", func(t *testing.T) {
		r, err := f.svc.Request(ctx, "carol", "C1", mustParse(t, "limits agentic-studio cpu=1 memory=1Gi"))
		if err != nil {
			t.Fatalf("Request: %v", err)
		}
		patch := `{"spec":{"template":{"spec":{"containers":[{"name":"app","resources":{"limits":{"cpu":"750m"}}}]}}}}`
		if _, err := k.cs.AppsV1().Deployments(k.ns).Patch(ctx, k.name, types.StrategicMergePatchType, []byte(patch),
			metav1.PatchOptions{}); err != nil {
			t.Fatalf("patch cpu to 750m as admin: %v", err)
		}
		done, err := f.svc.Approve(ctx, r.ID, "alice")
		if err != nil {
			t.Fatalf("Approve: %v", err)
		}
		if done.Status != StatusFailed || !strings.Contains(done.Result, "limits.cpu changed from 500m to 750m since the request; ask again") {
			t.Errorf("status %s, result %q; want failed with the limits conflict", done.Status, done.Result)
		}
		lim := k.deployment(t).Spec.Template.Spec.Containers[0].Resources.Limits
		if lim.Cpu().String() != "750m" || lim.Memory().String() != "512Mi" {
			t.Errorf("limits cpu=%s memory=%s, want what the admin left: 750m, 512Mi", lim.Cpu(), lim.Memory())
		}
	})
}

// TestScaleUpdateIsConditional: the scale update carries the version the plan read, so a change of
// replicas between the approval's re-check and the update is refused, while any other write in between
// (a label, a status update) only makes it re-read and go ahead.
func TestScaleUpdateIsConditional(t *testing.T) {
	ctx := context.Background()
	kcfg := kubeConfig(t)
	k := newKubeTarget(t, kcfg, 1)
	k.waitObserved(t)
	planned := func(t *testing.T) *scaleAction {
		a := &scaleAction{kube: k.cs, spec: Spec{Kind: Scale, Namespace: k.ns, Deployment: k.name, Replicas: 3}}
		if _, err := a.plan(ctx); err != nil {
			t.Fatalf("plan: %v", err)
		}
		return a
	}
	t.Run("replicas changed", func(t *testing.T) {
		a := planned(t)
		// The test's own write retries on a conflict (the controller manager writes the deployment's
		// status at any time); perfbot's update still carries the version its plan read.
		k.setReplicas(t, 2)
		_, err := a.execute(ctx)
		wantKind(t, err, errs.Conflict)
		if !strings.Contains(err.Error(), "replicas changed from 1 to 2 since the request; ask again") {
			t.Errorf("message %q", err)
		}
		if got := *k.deployment(t).Spec.Replicas; got != 2 {
			t.Errorf("replicas %d, want 2", got)
		}
	})
	t.Run("other write", func(t *testing.T) {
		k.setReplicas(t, 2) // whatever the subtest before left
		a := planned(t)
		patch := `{"metadata":{"labels":{"touched":"yes"}}}`
		if _, err := k.cs.AppsV1().Deployments(k.ns).Patch(ctx, k.name, types.MergePatchType, []byte(patch),
			metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		if out, err := a.execute(ctx); err != nil || !strings.Contains(out, "replicas 2 → 3") {
			t.Fatalf("execute = %q, %v", out, err)
		}
		if got := *k.deployment(t).Spec.Replicas; got != 3 {
			t.Errorf("replicas %d, want 3", got)
		}
	})
}

// TestLimitsPatchIsConditional: the resource patch carries the version the plan read, like the scale update.
func TestLimitsPatchIsConditional(t *testing.T) {
	ctx := context.Background()
	kcfg := kubeConfig(t)
	k := newKubeTarget(t, kcfg, 1)
	planned := func(t *testing.T) *limitsAction {
		a := &limitsAction{kube: k.cs, container: "app",
			spec: Spec{Kind: Limits, Namespace: k.ns, Deployment: k.name, Limits: map[string]string{"cpu": "1"}}}
		if _, err := a.plan(ctx); err != nil {
			t.Fatalf("plan: %v", err)
		}
		return a
	}
	adminPatch := func(t *testing.T, patch string) {
		if _, err := k.cs.AppsV1().Deployments(k.ns).Patch(ctx, k.name, types.StrategicMergePatchType, []byte(patch),
			metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("limits changed", func(t *testing.T) {
		a := planned(t)
		adminPatch(t, `{"spec":{"template":{"spec":{"containers":[{"name":"app","resources":{"limits":{"cpu":"750m"}}}]}}}}`)
		_, err := a.execute(ctx)
		wantKind(t, err, errs.Conflict)
		if !strings.Contains(err.Error(), "limits.cpu changed from 500m to 750m since the request; ask again") {
			t.Errorf("message %q", err)
		}
		if got := k.deployment(t).Spec.Template.Spec.Containers[0].Resources.Limits.Cpu().String(); got != "750m" {
			t.Errorf("limits.cpu %s, want 750m", got)
		}
	})
	t.Run("other write", func(t *testing.T) {
		a := planned(t)
		adminPatch(t, `{"metadata":{"labels":{"touched":"yes"}}}`)
		if _, err := a.execute(ctx); err != nil {
			t.Fatalf("execute: %v", err)
		}
		if got := k.deployment(t).Spec.Template.Spec.Containers[0].Resources.Limits.Cpu().String(); got != "1" {
			t.Errorf("limits.cpu %s, want 1", got)
		}
	})
}
