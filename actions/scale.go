package actions

import (
	"context"
	"fmt"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/perfbot/perfbot/errs"
)

// scaleAction sets a Deployment's replicas through its scale subresource, the runbook's
// `kubectl scale deployment agentic-studio --replicas=5`.
type scaleAction struct {
	kube    kubernetes.Interface
	spec    Spec
	timeout time.Duration
	current *autoscalingv1.Scale
}

func (a *scaleAction) plan(ctx context.Context) (Plan, error) {
	ns, name, target := a.spec.Namespace, a.spec.Deployment, a.spec.Replicas
	sc, err := a.kube.AppsV1().Deployments(ns).GetScale(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return Plan{}, errs.NotFoundf("deployment %s/%s does not exist in the cluster", ns, name)
	}
	if err != nil {
		return Plan{}, kubeErr(err, "read the scale of %s/%s", ns, name)
	}
	a.current = sc
	p := Plan{Summary: a.spec.Summary(),
		Changes: []Change{{What: "replicas", From: fmt.Sprint(sc.Spec.Replicas), To: fmt.Sprint(target)}}}
	if sc.Spec.Replicas == target {
		p.Warnings = append(p.Warnings, fmt.Sprintf("%s/%s already has %d replicas: approving changes nothing", ns, name, target))
	}
	dry := sc.DeepCopy()
	dry.Spec.Replicas = target
	// Controllers bump the resourceVersion with every status write; the dry run checks the change,
	// not the version (execute sends the version it read, and re-checks the replicas on a conflict).
	dry.ResourceVersion = ""
	_, err = a.kube.AppsV1().Deployments(ns).UpdateScale(ctx, name, dry, metav1.UpdateOptions{DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		return Plan{}, kubeErr(err, "dry run of scaling %s/%s", ns, name)
	}
	p.DryRun = "the API server accepted the scale update (server-side dry run)"
	p.Warnings = append(p.Warnings, a.hpaWarnings(ctx)...)
	return p, nil
}

// hpaWarnings names any HorizontalPodAutoscaler that targets the deployment: it would undo a manual scale.
func (a *scaleAction) hpaWarnings(ctx context.Context) []string {
	ns, name := a.spec.Namespace, a.spec.Deployment
	list, err := a.kube.AutoscalingV2().HorizontalPodAutoscalers(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return []string{fmt.Sprintf("could not check for a HorizontalPodAutoscaler in %s: %s", ns, apiMessage(err))}
	}
	var out []string
	for _, h := range list.Items {
		ref := h.Spec.ScaleTargetRef
		if ref.Kind != "Deployment" || ref.Name != name {
			continue
		}
		minR := int32(1)
		if h.Spec.MinReplicas != nil {
			minR = *h.Spec.MinReplicas
		}
		out = append(out, fmt.Sprintf("HorizontalPodAutoscaler %s manages %s (%d–%d replicas) and will override a manual scale",
			h.Name, name, minR, h.Spec.MaxReplicas))
	}
	return out
}

// execute sets the replicas only on the scale plan read: the update carries its resourceVersion, and
// after a conflict (often just a status write) it goes ahead only if the replicas are still as read.
func (a *scaleAction) execute(ctx context.Context) (string, error) {
	ns, name, target := a.spec.Namespace, a.spec.Deployment, a.spec.Replicas
	if a.current == nil {
		return "", fmt.Errorf("scale %s/%s: executed without a plan", ns, name)
	}
	from := a.current.Spec.Replicas
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		if a.current == nil {
			sc, err := a.kube.AppsV1().Deployments(ns).GetScale(ctx, name, metav1.GetOptions{})
			if err != nil {
				return kubeErr(err, "read the scale of %s/%s", ns, name)
			}
			if sc.Spec.Replicas != from {
				return errs.Conflictf("replicas changed from %d to %d since the request; ask again", from, sc.Spec.Replicas)
			}
			a.current = sc
		}
		sc := a.current.DeepCopy()
		sc.Spec.Replicas = target
		_, err := a.kube.AppsV1().Deployments(ns).UpdateScale(ctx, name, sc, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			a.current = nil
			return err
		}
		if err != nil {
			return kubeErr(err, "scale %s/%s", ns, name)
		}
		return nil
	})
	if apierrors.IsConflict(err) {
		return "", kubeErr(err, "scale %s/%s", ns, name)
	}
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("replicas %d → %d set on %s/%s", from, target, ns, name), nil
}

// verify reads spec.replicas back (the API server must show the target), then waits a short while
// for the controllers to report status.replicas; if they do not, that is a note, not a failure.
func (a *scaleAction) verify(ctx context.Context) (string, error) {
	ns, name, target := a.spec.Namespace, a.spec.Deployment, a.spec.Replicas
	sc, err := a.kube.AppsV1().Deployments(ns).GetScale(ctx, name, metav1.GetOptions{})
	if err != nil {
		return "", kubeErr(err, "read back the scale of %s/%s", ns, name)
	}
	if sc.Spec.Replicas != target {
		return "", fmt.Errorf("read back %s/%s: spec.replicas is %d, not %d", ns, name, sc.Spec.Replicas, target)
	}
	var reported, ready int32
	wctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	err = wait.PollUntilContextCancel(wctx, 250*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		d, err := a.kube.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil // transient; keep polling until the deadline
		}
		reported, ready = d.Status.Replicas, d.Status.ReadyReplicas
		return d.Status.ObservedGeneration >= d.Generation && reported == target, nil
	})
	if err != nil {
		return fmt.Sprintf("spec.replicas is %d; status.replicas is still %d after %s: requested, not yet reported",
			target, reported, a.timeout), nil
	}
	return fmt.Sprintf("spec.replicas is %d; status.replicas is %d (%d ready)", target, reported, ready), nil
}
