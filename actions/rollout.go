package actions

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/perfbot/perfbot/errs"
)

// The annotations the Deployment controller and kubectl use for rollouts.
const (
	revisionKey    = "deployment.kubernetes.io/revision"
	changeCauseKey = "kubernetes.io/change-cause"
	restartedAtKey = "kubectl.kubernetes.io/restartedAt"
)

// revisionOf is the revision number an object is annotated with, 0 when it has none.
func revisionOf(o metav1.Object) int64 {
	n, _ := strconv.ParseInt(o.GetAnnotations()[revisionKey], 10, 64)
	return n
}

// readDeployment reads a Deployment, saying so plainly when it does not exist.
func readDeployment(ctx context.Context, kube kubernetes.Interface, ns, name string) (*appsv1.Deployment, error) {
	d, err := kube.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, errs.NotFoundf("deployment %s/%s does not exist in the cluster", ns, name)
	}
	if err != nil {
		return nil, kubeErr(err, "read deployment %s/%s", ns, name)
	}
	return d, nil
}

// ownedReplicaSets lists the ReplicaSets d controls, newest revision first.
func ownedReplicaSets(ctx context.Context, kube kubernetes.Interface, d *appsv1.Deployment) ([]appsv1.ReplicaSet, error) {
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("selector of deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	list, err := kube.AppsV1().ReplicaSets(d.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, kubeErr(err, "list the ReplicaSets of %s/%s", d.Namespace, d.Name)
	}
	var out []appsv1.ReplicaSet
	for _, rs := range list.Items {
		if ref := metav1.GetControllerOf(&rs); ref != nil && ref.UID == d.UID {
			out = append(out, rs)
		}
	}
	sort.Slice(out, func(i, j int) bool { return revisionOf(&out[i]) > revisionOf(&out[j]) })
	return out, nil
}

// images lists a pod template's container images, e.g. "app=studio:1.4, sidecar=proxy:2".
func images(t corev1.PodTemplateSpec) string {
	var out []string
	for _, c := range t.Spec.Containers {
		out = append(out, c.Name+"="+c.Image)
	}
	return strings.Join(out, ", ")
}

// changeCause is an object's kubernetes.io/change-cause annotation, or "none recorded".
func changeCause(o metav1.Object) string {
	if c := strings.TrimSpace(o.GetAnnotations()[changeCauseKey]); c != "" {
		return c
	}
	return "none recorded"
}

// rolloutState is where a Deployment's rollout stands, as `kubectl rollout status` judges it.
type rolloutState struct {
	revision                           int64
	desired, updated, total, available int32
	ready                              int32
	observed, complete                 bool
}

func stateOf(d *appsv1.Deployment) rolloutState {
	desired := int32(1)
	if d.Spec.Replicas != nil {
		desired = *d.Spec.Replicas
	}
	s := rolloutState{revision: revisionOf(d), desired: desired, updated: d.Status.UpdatedReplicas,
		total: d.Status.Replicas, available: d.Status.AvailableReplicas, ready: d.Status.ReadyReplicas,
		observed: d.Status.ObservedGeneration >= d.Generation}
	s.complete = s.observed && s.updated == desired && s.total == s.updated && s.available == s.updated
	return s
}

func (s rolloutState) String() string {
	return fmt.Sprintf("revision %d, %d of %d replicas updated, %d ready, %d available", s.revision, s.updated,
		s.desired, s.ready, s.available)
}

// waitRollout polls the Deployment until a new revision (after fromRevision) has rolled out
// completely, or until wait passes. done is false when wait passed first: the rollout is then still
// in progress, which is reported, not failed.
func waitRollout(ctx context.Context, kube kubernetes.Interface, ns, name string, fromRevision int64,
	limit time.Duration) (st rolloutState, done bool, err error) {
	wctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	perr := wait.PollUntilContextCancel(wctx, 250*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		d, err := kube.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil // transient; keep polling until the limit
		}
		st = stateOf(d)
		return st.revision > fromRevision && st.complete, nil
	})
	if perr != nil && ctx.Err() != nil {
		return st, false, ctx.Err()
	}
	return st, perr == nil, nil
}
