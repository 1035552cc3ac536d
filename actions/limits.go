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

	"github.com/perfbot/perfbot/errs"
)

// limitsAction patches one container's resources, the runbook's
// `kubectl patch deployment agentic-studio -p '{"spec":{"template":{"spec":{"containers":[...]}}}}'`.
type limitsAction struct {
	kube      kubernetes.Interface
	spec      Spec
	container string
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
	p := Plan{Summary: fmt.Sprintf("set resources of container %s in %s/%s", a.container, ns, name)}
	for _, w := range a.wanted() {
		from := "unset"
		if q, ok := w.current(c.Resources)[w.name]; ok {
			from = q.String()
		}
		p.Changes = append(p.Changes, Change{What: w.group + "." + string(w.name), From: from, To: w.q.String()})
	}
	patch, err := a.patch()
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

// patch is the strategic merge patch that names the container, so other containers are untouched.
func (a *limitsAction) patch() ([]byte, error) {
	res := map[string]map[string]string{}
	for _, w := range a.wanted() {
		if res[w.group] == nil {
			res[w.group] = map[string]string{}
		}
		res[w.group][string(w.name)] = w.q.String()
	}
	body := map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
		"containers": []any{map[string]any{"name": a.container, "resources": res}}}}}}
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
	patch, err := a.patch()
	if err != nil {
		return "", err
	}
	if _, err := a.kube.AppsV1().Deployments(ns).Patch(ctx, name, types.StrategicMergePatchType, patch,
		metav1.PatchOptions{}); err != nil {
		return "", kubeErr(err, "patch %s/%s", ns, name)
	}
	return fmt.Sprintf("patched container %s of %s/%s: %s", a.container, ns, name, quantities(a.spec)), nil
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
