package kube

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

	"github.com/perfbot/perfbot/probes"
)

// kubeRevisionKey is the annotation the Deployment controller numbers rollouts with.
const kubeRevisionKey = "deployment.kubernetes.io/revision"

// Changes lists the Deployment's rollouts (ReplicaSet revisions) and changes to the ConfigMaps
// it uses in the last 24 h; a change within the last hour is a WARN, the first suspect when latency rose.
var Changes = probes.Probe{Name: "kube_changes", Title: "Recent changes", Needs: probes.NeedsKube, Run: readChanges}

func readChanges(ctx context.Context, env *probes.Env) (probes.Result, error) {
	d, err := Deployment(ctx, env)
	if err != nil {
		return probes.Result{}, err
	}
	rss, err := env.Kube.AppsV1().ReplicaSets(d.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return probes.Result{}, fmt.Errorf("list replicasets in %s: %w", d.Namespace, err)
	}
	var res probes.Result
	rollouts := kubeRollouts(&res, env.Now, d, rss.Items)
	configs, err := kubeConfigChanges(ctx, env, d, &res)
	if err != nil {
		return probes.Result{}, err
	}
	res.Summary = fmt.Sprintf("%s at revision %s; %d rollouts and %d config changes in the last 24h",
		d.Name, kubeOrDash(d.Annotations[kubeRevisionKey]), rollouts, configs)
	return res, nil
}

// kubeRollouts adds a row per ReplicaSet revision of the Deployment created in the last 24 h (and the
// current one), and a finding per recent rollout. It returns how many rollouts fell in the 24 h.
func kubeRollouts(res *probes.Result, now time.Time, d *appsv1.Deployment, rss []appsv1.ReplicaSet) int {
	var own []appsv1.ReplicaSet
	for _, rs := range rss {
		if ref := metav1.GetControllerOf(&rs); ref != nil && ref.UID == d.UID {
			own = append(own, rs)
		}
	}
	rev := func(rs appsv1.ReplicaSet) int { n, _ := strconv.Atoi(rs.Annotations[kubeRevisionKey]); return n }
	sort.Slice(own, func(i, j int) bool { return rev(own[i]) > rev(own[j]) })
	current := d.Annotations[kubeRevisionKey]
	t := probes.Table{Title: "Rollouts (last 24h)", Columns: []string{"Revision", "ReplicaSet", "Created", "Images", "Replicas"}}
	n := 0
	for _, rs := range own {
		created := rs.CreationTimestamp.Time
		age := now.Sub(created)
		isCurrent := rs.Annotations[kubeRevisionKey] == current
		if age > kubeRecent && !isCurrent {
			continue
		}
		r := rs.Annotations[kubeRevisionKey]
		label := r
		if isCurrent {
			label += " (current)"
		}
		images := kubeImages(rs.Spec.Template.Spec)
		replicas := int32(0)
		if rs.Spec.Replicas != nil {
			replicas = *rs.Spec.Replicas
		}
		t.Rows = append(t.Rows, []string{label, rs.Name, Ago(now, created) + " ago", images, strconv.Itoa(int(replicas))})
		if age > kubeRecent {
			continue
		}
		n++
		// A change is context, not a breach: diagnosis names it as the cause of a breach that began
		// after it (its Onset), and nothing else makes it a warning.
		st := probes.OK
		res.Add(probes.Finding{Check: "Recent change", Signal: probes.SigRollout, Onset: created, Evidence: "ReplicaSet " + rs.Name,
			Subject: "revision " + r, Status: st, Value: age.Minutes(), Unit: "min ago",
			Message: fmt.Sprintf("rollout of %s revision %s (%s) %s ago", d.Name, r, images, Ago(now, created))})
	}
	res.Tables = append(res.Tables, t)
	return n
}

func kubeImages(spec corev1.PodSpec) string {
	var out []string
	for _, c := range spec.Containers {
		out = append(out, c.Image)
	}
	return strings.Join(out, ", ")
}

// kubeConfigMapNames lists the ConfigMaps a pod template reads (env, envFrom, volumes).
func kubeConfigMapNames(spec corev1.PodSpec) []string {
	seen := map[string]bool{}
	for _, c := range append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...) {
		for _, ef := range c.EnvFrom {
			if ef.ConfigMapRef != nil {
				seen[ef.ConfigMapRef.Name] = true
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil {
				seen[e.ValueFrom.ConfigMapKeyRef.Name] = true
			}
		}
	}
	for _, v := range spec.Volumes {
		if v.ConfigMap != nil {
			seen[v.ConfigMap.Name] = true
		}
		if v.Projected != nil {
			for _, src := range v.Projected.Sources {
				if src.ConfigMap != nil {
					seen[src.ConfigMap.Name] = true
				}
			}
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// kubeConfigChanges reports when each ConfigMap the Deployment reads last changed, from its
// managed fields (who wrote which field when). It returns how many changed in the last 24 h.
func kubeConfigChanges(ctx context.Context, env *probes.Env, d *appsv1.Deployment, res *probes.Result) (int, error) {
	t := probes.Table{Title: "ConfigMaps", Columns: []string{"ConfigMap", "Last change", "By", "Resource version"}}
	n := 0
	for _, name := range kubeConfigMapNames(d.Spec.Template.Spec) {
		cm, err := env.Kube.CoreV1().ConfigMaps(d.Namespace).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			res.Add(probes.Finding{Check: "ConfigMap missing", Subject: name, Status: probes.Warn,
				Message: fmt.Sprintf("ConfigMap %s used by %s does not exist", name, d.Name)})
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("get configmap %s/%s: %w", d.Namespace, name, err)
		}
		when, by := cm.CreationTimestamp.Time, "created"
		for _, mf := range cm.ManagedFields {
			if mf.Time != nil && !mf.Time.Time.Before(when) {
				when, by = mf.Time.Time, mf.Manager
			}
		}
		t.Rows = append(t.Rows, []string{name, Ago(env.Now, when) + " ago", by, cm.ResourceVersion})
		age := env.Now.Sub(when)
		if age > kubeRecent {
			continue
		}
		n++
		st := probes.OK // context, like a rollout
		res.Add(probes.Finding{Check: "Recent change", Signal: probes.SigConfigChange, Onset: when, Evidence: "ConfigMap " + name,
			Subject: "ConfigMap " + name, Status: st, Value: age.Minutes(), Unit: "min ago",
			Message: fmt.Sprintf("ConfigMap %s changed %s ago (by %s, resourceVersion %s)", name, Ago(env.Now, when), by, cm.ResourceVersion)})
	}
	if len(t.Rows) > 0 {
		res.Tables = append(res.Tables, t)
	}
	return n, nil
}
