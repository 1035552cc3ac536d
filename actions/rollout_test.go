package actions

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/internal/stacktest"
)

// readyPods stands in for the kubelet the stack lacks: until the test ends it reports every pod of
// the namespace Running and Ready, so rollouts can complete.
func readyPods(t *testing.T, k kubeTarget) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			pods, err := k.cs.CoreV1().Pods(k.ns).List(ctx, metav1.ListOptions{})
			if err == nil {
				for _, p := range pods.Items {
					if p.DeletionTimestamp != nil || isReady(p) {
						continue
					}
					p.Status.Phase = corev1.PodRunning
					p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}}
					_, _ = k.cs.CoreV1().Pods(k.ns).UpdateStatus(ctx, &p, metav1.UpdateOptions{})
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
}

func isReady(p corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// rollOut changes the app container's image (recording a change-cause) and waits for the new revision.
func rollOut(t *testing.T, k kubeTarget, image string, revision int64) {
	t.Helper()
	ctx := context.Background()
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		d := k.deployment(t)
		d.Spec.Template.Spec.Containers[0].Image = image
		if d.Annotations == nil {
			d.Annotations = map[string]string{}
		}
		d.Annotations[changeCauseKey] = "deploy " + image
		_, err := k.cs.AppsV1().Deployments(k.ns).Update(ctx, d, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("roll out %s: %v", image, err)
	}
	waitRevision(t, k, revision)
}

func waitRevision(t *testing.T, k kubeTarget, revision int64) *appsv1.Deployment {
	t.Helper()
	var d *appsv1.Deployment
	stacktest.Eventually(t, 60*time.Second, 50*time.Millisecond, func() bool {
		d = k.deployment(t)
		return revisionOf(d) == revision && stateOf(d).complete
	}, "deployment never completed revision %d", revision)
	return d
}

func rolloutFixture(t *testing.T) (*fixture, kubeTarget) {
	t.Helper()
	kcfg := kubeConfig(t)
	k := newKubeTarget(t, kcfg, 2)
	readyPods(t, k)
	waitRevision(t, k, 1)
	f := newFixture(t, func(o *Options) {
		o.Kube = countingClient(t, kcfg, new(atomic.Int64))
		o.Config.Actions.Allowed = append(o.Config.Actions.Allowed, string(Rollback), string(Restart))
		o.Config.Actions.Deployments = append(o.Config.Actions.Deployments, k.limit(1, 6))
		o.Config.Actions.RolloutWait = config.Duration(60 * time.Second)
		o.PodMemory = podMemoryBySuffix{}
	})
	return f, k
}

// TestRollbackToPreviousRevision: a rollback shows both revisions with their images and
// change-causes, runs after approval, restores the old image and waits for the rollout.
func TestRollbackToPreviousRevision(t *testing.T) {
	ctx := context.Background()
	f, k := rolloutFixture(t)
	rollOut(t, k, "agentic-studio:v2", 2)

	r, err := f.svc.Request(ctx, "carol", "C1", mustParse(t, "rollback agentic-studio"))
	if err != nil {
		t.Fatalf("Request: %v", err)
	}
	plan := r.Plan.Text()
	for _, want := range []string{"revision: 2 → 1", "app=agentic-studio:v2", "app=agentic-studio:test", "change-cause: deploy agentic-studio:v2 → none recorded", "server-side dry run"} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan)
		}
	}
	if r.Spec.Revision != 1 || r.Spec.FromRevision != 2 {
		t.Errorf("pinned spec = %+v", r.Spec)
	}
	if img := k.deployment(t).Spec.Template.Spec.Containers[0].Image; img != "agentic-studio:v2" {
		t.Fatalf("the request changed the image to %s", img)
	}
	done, err := f.svc.Approve(ctx, r.ID, "alice")
	if err != nil || done.Status != StatusSucceeded {
		t.Fatalf("Approve = %+v, %v", done, err)
	}
	d := k.deployment(t)
	if img := d.Spec.Template.Spec.Containers[0].Image; img != "agentic-studio:test" || revisionOf(d) != 3 {
		t.Errorf("after the rollback: image %s, revision %d; want agentic-studio:test at revision 3", img, revisionOf(d))
	}
	if !strings.Contains(done.Result, "rolled out as revision 3: 2 of 2 replicas ready") {
		t.Errorf("result = %q", done.Result)
	}
	v := lastEvent(t, f.rec, r.ID, EventVerified)
	want := []Number{{Name: "revision of " + k.ns + "/" + k.name, Before: 2, After: 3}, {Name: "ready replicas of " + k.ns + "/" + k.name, Before: 2, After: 2}}
	if v.Action != Rollback || v.Target != k.ns+"/"+k.name || fmt.Sprint(v.Numbers) != fmt.Sprint(want) {
		t.Errorf("verified event = %+v, want numbers %+v", v, want)
	}
}

// TestRollbackRefusals: a revision that does not exist, a Deployment not on the allow-list and one
// with no earlier revision are refused with a message that says why.
func TestRollbackRefusals(t *testing.T) {
	ctx := context.Background()
	f, _ := rolloutFixture(t)
	_, err := f.svc.Request(ctx, "carol", "C1", mustParse(t, "rollback agentic-studio"))
	wantKind(t, err, errs.NotFound)
	if !strings.Contains(err.Error(), "no revision before its current revision 1") {
		t.Errorf("no earlier revision: %v", err)
	}
	_, err = f.svc.Request(ctx, "carol", "C1", mustParse(t, "rollback agentic-studio 9"))
	wantKind(t, err, errs.NotFound)
	if !strings.Contains(err.Error(), "revision 9") || !strings.Contains(err.Error(), "its revisions: 1") {
		t.Errorf("missing revision: %v", err)
	}
	_, err = f.svc.Request(ctx, "carol", "C1", mustParse(t, "rollback payments"))
	wantKind(t, err, errs.Forbidden)
	if !strings.Contains(err.Error(), "not on the allow-list") {
		t.Errorf("not allowed: %v", err)
	}
	_, err = ParseRequest("rollback agentic-studio two")
	wantKind(t, err, errs.Invalid)
}

// TestRestartMakesNewReplicaSet: an approved restart stamps restartedAt, the controller makes a new
// ReplicaSet whose pods become ready, and the pods' memory before and after is in the numbers.
func TestRestartMakesNewReplicaSet(t *testing.T) {
	ctx := context.Background()
	f, k := rolloutFixture(t)
	before := k.deployment(t)
	oldRS, err := ownedReplicaSets(ctx, k.cs, before)
	if err != nil || len(oldRS) != 1 {
		t.Fatalf("replica sets before: %d, %v", len(oldRS), err)
	}
	r, err := f.svc.Request(ctx, "carol", "C1", mustParse(t, "restart agentic-studio"))
	if err != nil {
		t.Fatalf("Request: %v", err)
	}
	if !strings.Contains(r.Plan.Text(), "last restart: never → now") || !strings.Contains(r.Plan.DryRun, "pod memory now") {
		t.Errorf("plan:\n%s", r.Plan.Text())
	}
	done, err := f.svc.Approve(ctx, r.ID, "bob")
	if err != nil || done.Status != StatusSucceeded {
		t.Fatalf("Approve = %+v, %v", done, err)
	}
	after := k.deployment(t)
	rss, err := ownedReplicaSets(ctx, k.cs, after)
	if err != nil || len(rss) != 2 || rss[0].UID == oldRS[0].UID || revisionOf(&rss[0]) != 2 {
		t.Fatalf("replica sets after: %d (%v), want a new one at revision 2", len(rss), err)
	}
	if after.Spec.Template.Annotations[restartedAtKey] == "" || !strings.Contains(done.Result, "a new ReplicaSet") {
		t.Errorf("annotations %v, result %q", after.Spec.Template.Annotations, done.Result)
	}
	v := lastEvent(t, f.rec, r.ID, EventVerified)
	names := map[string]Number{}
	for _, n := range v.Numbers {
		names[n.Name] = n
	}
	mem, ok := names["pod memory of "+k.ns+"/"+k.name+" (max)"]
	if !ok || mem.Before <= 0 || mem.After <= 0 || mem.Unit != "MiB" {
		t.Errorf("numbers = %+v, want pod memory before and after", v.Numbers)
	}
}

// podMemoryBySuffix stands in for the metrics API, which the stack does not serve: each pod's
// memory follows from its name, so pods of the new ReplicaSet read differently from the old ones.
type podMemoryBySuffix struct{}

func (podMemoryBySuffix) PodMemory(_ context.Context, _ string, pods []string) (map[string]float64, error) {
	out := map[string]float64{}
	for _, p := range pods {
		out[p] = float64(100+len(p)+int(p[len(p)-1])) * (1 << 20)
	}
	return out, nil
}
