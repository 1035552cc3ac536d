package actions

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/perfbot/perfbot/errs"
)

// limitsAction patches one container's resources, the runbook's
// `kubectl patch deployment agentic-studio -p '{"spec":{"template":{"spec":{"containers":[...]}}}}'`.
type limitsAction struct {
	kube      kubernetes.Interface
	spec      Spec
	container string
	// rv and planned are the deployment's resourceVersion and the changes as plan read them; execute
	// patches that version only, and after a conflict goes on only if the changes still start there.
	rv      string
	planned []Change
}

func (a *limitsAction) plan(ctx context.Context) (Plan, error) {
	ns, name := a.spec.Namespace, a.spec.Deployment
	d, err := a.kube.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return Plan{}, errs.NotFoundf("deployment %s/%s does not exist in the cluster", ns, name)
	}
	if err != nil {
		return Plan{}, kubeErr(err, "read deployment %s/%s", ns, name)
	}
	c, err := a.findContainer(d)
	if err != nil {
		return Plan{}, err
	}
	p := Plan{Summary: fmt.Sprintf("set resources of container %s in %s/%s", a.container, ns, name),
		Changes: a.changes(c)}
	a.rv, a.planned = d.ResourceVersion, p.Changes
	patch, err := a.patch("")
	if err != nil {
		return Plan{}, err
	}
	dry, err := a.kube.AppsV1().Deployments(ns).Patch(ctx, name, types.StrategicMergePatchType, patch,
		metav1.PatchOptions{DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		return Plan{}, kubeErr(err, "dry run of patching %s/%s", ns, name)
	}
	if err := a.check(dry); err != nil {
		return Plan{}, fmt.Errorf("dry run of patching %s/%s: %w", ns, name, err)
	}
	p.DryRun = "the API server accepted the resource patch (server-side dry run)"
	p.Warnings = append(p.Warnings, fmt.Sprintf("changing resources rolls out new pods of %s/%s", ns, name))
	return p, nil
}

func (a *limitsAction) findContainer(d *appsv1.Deployment) (corev1.Container, error) {
	var names []string
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name == a.container {
			return c, nil
		}
		names = append(names, c.Name)
	}
	return corev1.Container{}, errs.NotFoundf("deployment %s/%s has no container %q (it has: %s); set services[].kubernetes.container",
		d.Namespace, d.Name, a.container, strings.Join(names, ", "))
}

// wantedQuantity is one quantity the request sets, e.g. limits.cpu = 1.
type wantedQuantity struct {
	group   string
	name    corev1.ResourceName
	q       resource.Quantity
	current func(corev1.ResourceRequirements) corev1.ResourceList
}

func (a *limitsAction) wanted() []wantedQuantity {
	var out []wantedQuantity
	add := func(group string, m map[string]string, cur func(corev1.ResourceRequirements) corev1.ResourceList) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			// Spec.check has parsed every quantity already.
			out = append(out, wantedQuantity{group: group, name: corev1.ResourceName(k), q: resource.MustParse(m[k]), current: cur})
		}
	}
	add("limits", a.spec.Limits, func(r corev1.ResourceRequirements) corev1.ResourceList { return r.Limits })
	add("requests", a.spec.Requests, func(r corev1.ResourceRequirements) corev1.ResourceList { return r.Requests })
	return out
}

// changes lists each requested quantity with the container's current value.
func (a *limitsAction) changes(c corev1.Container) []Change {
	var out []Change
	for _, w := range a.wanted() {
		from := "unset"
		if q, ok := w.current(c.Resources)[w.name]; ok {
			from = q.String()
		}
		out = append(out, Change{What: w.group + "." + string(w.name), From: from, To: w.q.String()})
	}
	return out
}

// patch is the strategic merge patch that names the container, so other containers are untouched;
// with a resourceVersion the API server applies it only to that version (409 otherwise).
func (a *limitsAction) patch(rv string) ([]byte, error) {
	res := map[string]map[string]string{}
	for _, w := range a.wanted() {
		if res[w.group] == nil {
			res[w.group] = map[string]string{}
		}
		res[w.group][string(w.name)] = w.q.String()
	}
	body := map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
		"containers": []any{map[string]any{"name": a.container, "resources": res}}}}}}
	if rv != "" {
		body["metadata"] = map[string]any{"resourceVersion": rv}
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode resource patch: %w", err)
	}
	return b, nil
}

// check compares a deployment's container resources with the requested quantities.
func (a *limitsAction) check(d *appsv1.Deployment) error {
	c, err := a.findContainer(d)
	if err != nil {
		return err
	}
	for _, w := range a.wanted() {
		got, ok := w.current(c.Resources)[w.name]
		if !ok || got.Cmp(w.q) != 0 {
			return fmt.Errorf("%s.%s is %s, not %s", w.group, w.name, got.String(), w.q.String())
		}
	}
	return nil
}

func (a *limitsAction) execute(ctx context.Context) (string, error) {
	ns, name := a.spec.Namespace, a.spec.Deployment
	if a.rv == "" {
		return "", fmt.Errorf("patch %s/%s: executed without a plan", ns, name)
	}
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		if a.rv == "" {
			if err := a.reread(ctx); err != nil {
				return err
			}
		}
		patch, err := a.patch(a.rv)
		if err != nil {
			return err
		}
		_, err = a.kube.AppsV1().Deployments(ns).Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
		if apierrors.IsConflict(err) {
			a.rv = ""
			return err
		}
		if err != nil {
			return kubeErr(err, "patch %s/%s", ns, name)
		}
		return nil
	})
	if apierrors.IsConflict(err) {
		return "", kubeErr(err, "patch %s/%s", ns, name)
	}
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("patched container %s of %s/%s: %s", a.container, ns, name, quantities(a.spec)), nil
}

// reread reads the deployment again after another write got in first (often just a status update),
// and lets the patch go on only if the container's resources are still what the plan showed.
func (a *limitsAction) reread(ctx context.Context) error {
	ns, name := a.spec.Namespace, a.spec.Deployment
	d, err := a.kube.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return kubeErr(err, "read deployment %s/%s", ns, name)
	}
	c, err := a.findContainer(d)
	if err != nil {
		return err
	}
	if err := changedSince(Limits, Plan{Changes: a.planned}, Plan{Changes: a.changes(c)}); err != nil {
		return err
	}
	a.rv = d.ResourceVersion
	return nil
}

func (a *limitsAction) verify(ctx context.Context) (string, error) {
	ns, name := a.spec.Namespace, a.spec.Deployment
	d, err := a.kube.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return "", kubeErr(err, "read back deployment %s/%s", ns, name)
	}
	if err := a.check(d); err != nil {
		return "", fmt.Errorf("read back %s/%s: %w", ns, name, err)
	}
	return fmt.Sprintf("read back container %s of %s/%s: %s (generation %d)", a.container, ns, name,
		quantities(a.spec), d.Generation), nil
}
