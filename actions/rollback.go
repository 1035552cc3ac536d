package actions

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/perfbot/perfbot/errs"
)

// rollbackAction returns a Deployment to an earlier revision, as `kubectl rollout undo` does: the
// pod template of that revision's ReplicaSet (without its pod-template-hash label) becomes the
// Deployment's template again, and the controller rolls it out as a new revision.
type rollbackAction struct {
	kube    kubernetes.Interface
	spec    Spec
	timeout time.Duration
	// What plan read: the Deployment's resourceVersion and revision, the target revision's template
	// and change-cause, and the rollout before the change.
	rv       string
	from, to int64
	template corev1.PodTemplateSpec
	cause    string
	before   rolloutState
	after    rolloutState
}

func (a *rollbackAction) plan(ctx context.Context) (Plan, error) {
	ns, name := a.spec.Namespace, a.spec.Deployment
	d, err := readDeployment(ctx, a.kube, ns, name)
	if err != nil {
		return Plan{}, err
	}
	if d.Spec.Paused {
		return Plan{}, errs.Conflictf("deployment %s/%s is paused; resume it before rolling it back", ns, name)
	}
	rss, err := ownedReplicaSets(ctx, a.kube, d)
	if err != nil {
		return Plan{}, err
	}
	cur, target, err := a.pick(d, rss)
	if err != nil {
		return Plan{}, err
	}
	a.rv, a.from, a.to, a.before = d.ResourceVersion, revisionOf(d), revisionOf(target), stateOf(d)
	a.template, a.cause = templateOf(target), changeCause(target)
	p := Plan{Summary: fmt.Sprintf("roll back %s/%s from revision %d to revision %d", ns, name, a.from, a.to),
		Changes: []Change{
			{What: "revision", From: strconv.FormatInt(a.from, 10), To: fmt.Sprintf("%d (rolled out as a new revision)", a.to)},
			{What: "images", From: images(d.Spec.Template), To: images(a.template)},
			{What: "change-cause", From: curCause(cur), To: a.cause},
		}}
	if apiequality.Semantic.DeepEqual(a.template, d.Spec.Template) {
		p.Warnings = append(p.Warnings, fmt.Sprintf("the pod template of revision %d is the current one: approving rolls out nothing new", a.to))
	}
	// Status writes bump the resourceVersion: the dry run checks the change, execute sends the version.
	patch, err := a.patch(d, "")
	if err != nil {
		return Plan{}, err
	}
	if _, err := a.kube.AppsV1().Deployments(ns).Patch(ctx, name, types.JSONPatchType, patch,
		metav1.PatchOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		return Plan{}, kubeErr(err, "dry run of rolling back %s/%s", ns, name)
	}
	p.DryRun = fmt.Sprintf("the API server accepted the pod template of revision %d (server-side dry run)", a.to)
	p.Warnings = append(p.Warnings, fmt.Sprintf("rolling back replaces every pod of %s/%s (%d replicas)", ns, name, a.before.desired))
	return p, nil
}

// pick finds the current revision's ReplicaSet (nil when the controller has not made it yet) and the
// target: the requested revision, else the newest one before the current revision.
func (a *rollbackAction) pick(d *appsv1.Deployment, rss []appsv1.ReplicaSet) (cur, target *appsv1.ReplicaSet, err error) {
	ns, name, current := d.Namespace, d.Name, revisionOf(d)
	var revs []string
	for i := range rss {
		r := revisionOf(&rss[i])
		revs = append(revs, strconv.FormatInt(r, 10))
		switch {
		case r == current:
			cur = &rss[i]
		case a.spec.Revision > 0 && r == a.spec.Revision:
			target = &rss[i]
		case a.spec.Revision == 0 && r < current && target == nil:
			target = &rss[i] // rss are newest first
		}
	}
	have := listOrNone(revs, "none")
	switch {
	case a.spec.Revision > 0 && a.spec.Revision == current:
		return nil, nil, errs.Invalidf("%s/%s is at revision %d already; its revisions: %s", ns, name, current, have)
	case a.spec.Revision > 0 && target == nil:
		return nil, nil, errs.NotFoundf("revision %d of %s/%s does not exist; its revisions: %s (current %d)",
			a.spec.Revision, ns, name, have, current)
	case target == nil:
		return nil, nil, errs.NotFoundf("%s/%s has no revision before its current revision %d to roll back to; its revisions: %s",
			ns, name, current, have)
	}
	return cur, target, nil
}

func curCause(cur *appsv1.ReplicaSet) string {
	if cur == nil {
		return "none recorded"
	}
	return changeCause(cur)
}

// templateOf is a ReplicaSet's pod template without the label the controller adds to each ReplicaSet.
func templateOf(rs *appsv1.ReplicaSet) corev1.PodTemplateSpec {
	t := *rs.Spec.Template.DeepCopy()
	delete(t.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	return t
}

// patch is the JSON patch `kubectl rollout undo` sends: the target's template replaces the current
// one, and the Deployment takes the change-cause the target recorded. With rv, the API server applies
// it to that resourceVersion only (409 otherwise); a JSON patch needs only the patch verb.
func (a *rollbackAction) patch(d *appsv1.Deployment, rv string) ([]byte, error) {
	ops := []map[string]any{{"op": "replace", "path": "/spec/template", "value": a.template}}
	if rv != "" {
		ops = append(ops, map[string]any{"op": "replace", "path": "/metadata/resourceVersion", "value": rv})
	}
	const causePath = "/metadata/annotations/kubernetes.io~1change-cause"
	_, had := d.Annotations[changeCauseKey]
	switch {
	case a.cause != "none recorded" && d.Annotations == nil:
		ops = append(ops, map[string]any{"op": "add", "path": "/metadata/annotations", "value": map[string]string{changeCauseKey: a.cause}})
	case a.cause != "none recorded":
		ops = append(ops, map[string]any{"op": "add", "path": causePath, "value": a.cause})
	case had:
		ops = append(ops, map[string]any{"op": "remove", "path": causePath})
	}
	b, err := json.Marshal(ops)
	if err != nil {
		return nil, fmt.Errorf("encode rollback patch: %w", err)
	}
	return b, nil
}

// execute patches the Deployment at the resourceVersion it reads; when that moved since the plan
// (often only a status write) it goes on only if the Deployment is still at the revision the request
// showed, and a conflict between the read and the patch is retried the same way.
func (a *rollbackAction) execute(ctx context.Context) (string, error) {
	ns, name := a.spec.Namespace, a.spec.Deployment
	if a.rv == "" {
		return "", fmt.Errorf("roll back %s/%s: executed without a plan", ns, name)
	}
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		d, err := a.kube.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return kubeErr(err, "read deployment %s/%s", ns, name)
		}
		if revisionOf(d) != a.from {
			return errs.Conflictf("%s/%s moved from revision %d to %d since the request; ask again", ns, name, a.from, revisionOf(d))
		}
		patch, err := a.patch(d, d.ResourceVersion)
		if err != nil {
			return err
		}
		_, err = a.kube.AppsV1().Deployments(ns).Patch(ctx, name, types.JSONPatchType, patch, metav1.PatchOptions{})
		if apierrors.IsConflict(err) {
			return err
		}
		if err != nil {
			return kubeErr(err, "roll back %s/%s", ns, name)
		}
		return nil
	})
	if apierrors.IsConflict(err) {
		return "", kubeErr(err, "roll back %s/%s", ns, name)
	}
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("set the pod template of %s/%s to revision %d's (%s)", ns, name, a.to, images(a.template)), nil
}

// verify reads the template back, then waits (bounded) for the new revision to roll out.
func (a *rollbackAction) verify(ctx context.Context) (string, error) {
	ns, name := a.spec.Namespace, a.spec.Deployment
	d, err := readDeployment(ctx, a.kube, ns, name)
	if err != nil {
		return "", err
	}
	if got, want := images(d.Spec.Template), images(a.template); got != want {
		return "", fmt.Errorf("read back %s/%s: its images are %s, not %s", ns, name, got, want)
	}
	st, done, err := waitRollout(ctx, a.kube, ns, name, a.from, a.timeout)
	a.after = st
	if err != nil {
		return "", err
	}
	if !done {
		return fmt.Sprintf("the rollout is still in progress after %s: %s", a.timeout, st), nil
	}
	return fmt.Sprintf("rolled out as revision %d: %d of %d replicas ready", st.revision, st.ready, st.desired), nil
}

// numbers are the revision and the ready replicas before and after.
func (a *rollbackAction) numbers() []Number {
	return []Number{
		{Name: "revision of " + a.spec.target(), Before: float64(a.before.revision), After: float64(a.after.revision)},
		{Name: "ready replicas of " + a.spec.target(), Before: float64(a.before.ready), After: float64(a.after.ready)},
	}
}
