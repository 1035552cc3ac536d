package actions

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/perfbot/perfbot/errs"
)

// restartAction is a rolling restart, `kubectl rollout restart`: a new value of the pod template's
// kubectl.kubernetes.io/restartedAt annotation makes the controller replace every pod through a new
// ReplicaSet, as the runbook's Issue 4 does for pods that leak memory.
type restartAction struct {
	kube    kubernetes.Interface
	spec    Spec
	timeout time.Duration
	memory  PodMemory
	now     func() time.Time

	rv, last      string
	before, after rolloutState
	memBefore     *memorySample
	memAfter      *memorySample
	stamp         string
}

func (a *restartAction) plan(ctx context.Context) (Plan, error) {
	ns, name := a.spec.Namespace, a.spec.Deployment
	d, err := readDeployment(ctx, a.kube, ns, name)
	if err != nil {
		return Plan{}, err
	}
	if d.Spec.Paused {
		return Plan{}, errs.Conflictf("deployment %s/%s is paused; a restart would not roll out until it is resumed", ns, name)
	}
	a.rv, a.before = d.ResourceVersion, stateOf(d)
	a.last = d.Spec.Template.Annotations[restartedAtKey]
	if a.last == "" {
		a.last = "never"
	}
	p := Plan{Summary: fmt.Sprintf("rolling restart of %s/%s (%d replicas, revision %d)", ns, name, a.before.desired, a.before.revision),
		Changes: []Change{
			{What: "revision", From: strconv.FormatInt(a.before.revision, 10), To: "a new revision with the same pod template"},
			{What: "last restart", From: a.last, To: "now"},
		}}
	patch, err := a.patch("")
	if err != nil {
		return Plan{}, err
	}
	if _, err := a.kube.AppsV1().Deployments(ns).Patch(ctx, name, types.StrategicMergePatchType, patch,
		metav1.PatchOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		return Plan{}, kubeErr(err, "dry run of restarting %s/%s", ns, name)
	}
	p.DryRun = "the API server accepted the restartedAt annotation on the pod template (server-side dry run)"
	if m, err := a.sample(ctx, d); err != nil {
		p.Warnings = append(p.Warnings, "pod memory before the restart is unknown: "+err.Error())
	} else {
		a.memBefore = &m
		p.DryRun += "; pod memory now: " + m.String()
	}
	p.Warnings = append(p.Warnings, fmt.Sprintf("every pod of %s/%s is replaced, one batch at a time (its rolling update strategy)", ns, name))
	return p, nil
}

// patch sets the restartedAt annotation; with a resourceVersion the API server applies it to that
// version only (409 otherwise).
func (a *restartAction) patch(rv string) ([]byte, error) {
	if a.stamp == "" {
		a.stamp = a.now().UTC().Format(time.RFC3339)
	}
	body := map[string]any{"spec": map[string]any{"template": map[string]any{"metadata": map[string]any{
		"annotations": map[string]string{restartedAtKey: a.stamp}}}}}
	if rv != "" {
		body["metadata"] = map[string]any{"resourceVersion": rv}
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode restart patch: %w", err)
	}
	return b, nil
}

// execute patches the Deployment plan read; after a conflict (a status write, usually) it re-reads
// and goes on only while the Deployment is at the revision the request showed.
func (a *restartAction) execute(ctx context.Context) (string, error) {
	ns, name := a.spec.Namespace, a.spec.Deployment
	if a.rv == "" {
		return "", fmt.Errorf("restart %s/%s: executed without a plan", ns, name)
	}
	rv := a.rv
	for attempt := 0; ; attempt++ {
		patch, err := a.patch(rv)
		if err != nil {
			return "", err
		}
		_, err = a.kube.AppsV1().Deployments(ns).Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
		if err == nil {
			break
		}
		if !apierrors.IsConflict(err) || attempt == 4 {
			return "", kubeErr(err, "restart %s/%s", ns, name)
		}
		d, rerr := readDeployment(ctx, a.kube, ns, name)
		if rerr != nil {
			return "", rerr
		}
		if revisionOf(d) != a.before.revision {
			return "", errs.Conflictf("%s/%s moved from revision %d to %d since the request; ask again", ns, name, a.before.revision, revisionOf(d))
		}
		rv = d.ResourceVersion
	}
	return fmt.Sprintf("set restartedAt=%s on the pod template of %s/%s", a.stamp, ns, name), nil
}

// verify waits (bounded) until a new ReplicaSet's pods are all ready, then reads their memory.
func (a *restartAction) verify(ctx context.Context) (string, error) {
	ns, name := a.spec.Namespace, a.spec.Deployment
	st, done, err := waitRollout(ctx, a.kube, ns, name, a.before.revision, a.timeout)
	a.after = st
	if err != nil {
		return "", err
	}
	if !done {
		return fmt.Sprintf("the restart is still rolling out after %s: %s", a.timeout, st), nil
	}
	msg := fmt.Sprintf("restarted: revision %d (a new ReplicaSet), %d of %d pods ready", st.revision, st.ready, st.desired)
	d, err := readDeployment(ctx, a.kube, ns, name)
	if err != nil {
		return msg, nil
	}
	if m, err := a.sample(ctx, d); err == nil {
		a.memAfter = &m
		msg += "; pod memory " + m.String()
		if a.memBefore != nil {
			msg += " (before: " + a.memBefore.String() + ")"
		}
	}
	return msg, nil
}

// sample reads the memory of d's pods; a Deployment with no pods measured is an error.
func (a *restartAction) sample(ctx context.Context, d *appsv1.Deployment) (memorySample, error) {
	if a.memory == nil {
		return memorySample{}, fmt.Errorf("no pod memory source is configured")
	}
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return memorySample{}, fmt.Errorf("selector of deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	pods, err := a.kube.CoreV1().Pods(d.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return memorySample{}, kubeErr(err, "list the pods of %s/%s", d.Namespace, d.Name)
	}
	var names []string
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			names = append(names, p.Name)
		}
	}
	byPod, err := a.memory.PodMemory(ctx, d.Namespace, names)
	if err != nil {
		return memorySample{}, err
	}
	return newMemorySample(byPod)
}

// numbers are the revision, the ready pods and the pods' memory before and after.
func (a *restartAction) numbers() []Number {
	t := a.spec.target()
	out := []Number{
		{Name: "revision of " + t, Before: float64(a.before.revision), After: float64(a.after.revision)},
		{Name: "ready pods of " + t, Before: float64(a.before.ready), After: float64(a.after.ready)},
	}
	if a.memBefore != nil && a.memAfter != nil {
		out = append(out,
			Number{Name: "pod memory of " + t + " (max)", Unit: "MiB", Before: a.memBefore.max, After: a.memAfter.max},
			Number{Name: "pod memory of " + t + " (total)", Unit: "MiB", Before: a.memBefore.total, After: a.memAfter.total})
	}
	return out
}
