// Package kube holds the probes that read the service's Deployment through the Kubernetes API:
// pods and their restarts, recent rollouts and ConfigMap changes, requests, limits and usage.
package kube

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/probes"
)

// kubeRecent is how far back restarts and changes are reported (the runbook's "last 24 h").
const kubeRecent = 24 * time.Hour

// Deployment fetches the service's Deployment; a missing one is errs.NotFound.
func Deployment(ctx context.Context, env *probes.Env) (*appsv1.Deployment, error) {
	if env.Kube == nil {
		return nil, probes.ErrNotConfigured
	}
	k := env.Service.Kubernetes
	d, err := env.Kube.AppsV1().Deployments(k.Namespace).Get(ctx, k.Deployment, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, errs.NotFoundf("deployment %s/%s", k.Namespace, k.Deployment)
	}
	if err != nil {
		return nil, fmt.Errorf("get deployment %s/%s: %w", k.Namespace, k.Deployment, err)
	}
	return d, nil
}

// PodsOf lists the Deployment's pods by its selector, sorted by name.
func PodsOf(ctx context.Context, env *probes.Env, d *appsv1.Deployment) ([]corev1.Pod, error) {
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("selector of deployment %s: %w", d.Name, err)
	}
	pods, err := env.Kube.CoreV1().Pods(d.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, fmt.Errorf("list pods of %s: %w", d.Name, err)
	}
	sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].Name < pods.Items[j].Name })
	return pods.Items, nil
}

// Pods reports the Deployment's replicas, pods that are not ready, restarting or OOM-killed,
// and the Warning events of the window.
var Pods = probes.Probe{Name: "kube_pods", Title: "Pods", Needs: probes.NeedsKube, Run: readPods}

func readPods(ctx context.Context, env *probes.Env) (probes.Result, error) {
	d, err := Deployment(ctx, env)
	if err != nil {
		return probes.Result{}, err
	}
	pods, err := PodsOf(ctx, env, d)
	if err != nil {
		return probes.Result{}, err
	}
	var res probes.Result
	desired := int32(1)
	if d.Spec.Replicas != nil {
		desired = *d.Spec.Replicas
	}
	s := d.Status
	res.Summary = fmt.Sprintf("%s: %d desired, %d ready, %d updated, %d available", d.Name, desired,
		s.ReadyReplicas, s.UpdatedReplicas, s.AvailableReplicas)
	res.Add(probes.Finding{Check: "Ready replicas", Signal: probes.SigReplicas, LowerIsWorse: true, Subject: d.Name,
		Status: kubeReadyStatus(int(s.ReadyReplicas), int(desired)), Value: float64(s.ReadyReplicas), Threshold: float64(desired), Unit: "pods",
		Message: fmt.Sprintf("%d of %d desired replicas ready (%d updated, %d available)", s.ReadyReplicas, desired, s.UpdatedReplicas, s.AvailableReplicas)})
	kubePodFindings(&res, env.Now, pods)
	if err := kubeWarningEvents(ctx, env, d, &res); err != nil {
		return probes.Result{}, err
	}
	return res, nil
}

// kubeReadyStatus grades readiness: all ready is OK, at least half is WARN, fewer is CRIT.
func kubeReadyStatus(ready, total int) probes.Status {
	switch {
	case total == 0 || ready >= total:
		return probes.OK
	case ready*2 >= total:
		return probes.Warn
	default:
		return probes.Crit
	}
}

// kubePodFindings adds one row per pod and findings for OOM kills, crash loops, restarts and
// pods that are not ready.
func kubePodFindings(res *probes.Result, now time.Time, pods []corev1.Pod) {
	t := probes.Table{Title: "Pods", Columns: []string{"Pod", "Phase", "Ready", "Restarts", "Last termination", "Age"}}
	var notReady []string
	for _, p := range pods {
		if p.DeletionTimestamp != nil {
			continue
		}
		ready := kubePodReady(p)
		if !ready {
			notReady = append(notReady, p.Name)
		}
		var restarts int32
		var last []string
		for _, cs := range p.Status.ContainerStatuses {
			restarts += cs.RestartCount
			if term := kubeLastTermination(cs); term != nil {
				last = append(last, fmt.Sprintf("%s: %s (exit %d) %s ago", cs.Name, term.Reason, term.ExitCode, Ago(now, term.FinishedAt.Time)))
			}
			kubeContainerFindings(res, now, p.Name, cs)
		}
		t.Rows = append(t.Rows, []string{p.Name, string(p.Status.Phase), strconv.FormatBool(ready),
			strconv.Itoa(int(restarts)), kubeOrDash(strings.Join(last, "; ")), Ago(now, p.CreationTimestamp.Time)})
	}
	res.Tables = append(res.Tables, t)
	total := len(t.Rows)
	if len(notReady) > 0 {
		res.Add(probes.Finding{Check: "Pods not ready", Signal: probes.SigReplicas, Status: kubeReadyStatus(total-len(notReady), total),
			Value: float64(len(notReady)), Threshold: float64(total), Unit: "pods",
			Message: fmt.Sprintf("%d of %d pods not ready: %s", len(notReady), total, kubeList(notReady, 5))})
	}
}

// kubeContainerFindings judges one container: OOM kills and crash loops are CRIT, other recent
// restarts WARN.
func kubeContainerFindings(res *probes.Result, now time.Time, pod string, cs corev1.ContainerStatus) {
	subject := pod + "/" + cs.Name
	term := kubeLastTermination(cs)
	recent := term != nil && (term.FinishedAt.IsZero() || now.Sub(term.FinishedAt.Time) <= kubeRecent)
	if w := cs.State.Waiting; w != nil && w.Reason == "CrashLoopBackOff" {
		res.Add(probes.Finding{Check: "CrashLoopBackOff", Signal: probes.SigPodRestarts, Subject: subject, Status: probes.Crit, Value: float64(cs.RestartCount), Unit: "restarts",
			Message: fmt.Sprintf("%s is in CrashLoopBackOff after %d restarts: %s", subject, cs.RestartCount, w.Message)})
	}
	switch {
	case recent && term.Reason == "OOMKilled":
		res.Add(probes.Finding{Check: "OOMKilled", Signal: probes.SigPodRestarts, Onset: term.FinishedAt.Time, Subject: subject, Status: probes.Crit, Value: float64(cs.RestartCount), Unit: "restarts",
			Message: fmt.Sprintf("%s was OOMKilled (exit %d) %s ago; %d restarts — memory limit too low or a leak",
				subject, term.ExitCode, Ago(now, term.FinishedAt.Time), cs.RestartCount)})
	case recent && cs.RestartCount > 0:
		res.Add(probes.Finding{Check: "Restarts", Signal: probes.SigPodRestarts, Onset: term.FinishedAt.Time, Subject: subject, Status: probes.Warn, Value: float64(cs.RestartCount), Unit: "restarts",
			Message: fmt.Sprintf("%s restarted %d times; last exit %s (code %d) %s ago",
				subject, cs.RestartCount, kubeOrDash(term.Reason), term.ExitCode, Ago(now, term.FinishedAt.Time))})
	}
}

// kubeLastTermination is the container's current termination, else its previous one.
func kubeLastTermination(cs corev1.ContainerStatus) *corev1.ContainerStateTerminated {
	if cs.State.Terminated != nil {
		return cs.State.Terminated
	}
	return cs.LastTerminationState.Terminated
}

func kubePodReady(p corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// kubeGeneratedSuffix matches what the Deployment and ReplicaSet controllers append to names: a
// pod-template hash, then (for pods) five random characters, both from Kubernetes' safe alphabet.
// It keeps a sibling Deployment such as "<name>-worker" from being counted as this one.
var kubeGeneratedSuffix = regexp.MustCompile(`^[bcdfghjklmnpqrstvwxz2456789]{6,10}(-[bcdfghjklmnpqrstvwxz2456789]{5})?$`)

// kubeOwnedName reports whether an object name is the Deployment or one of its ReplicaSets or pods.
func kubeOwnedName(deployment, name string) bool {
	rest, ok := strings.CutPrefix(name, deployment+"-")
	return name == deployment || (ok && kubeGeneratedSuffix.MatchString(rest))
}

// kubeWarningEvents adds the window's Warning events about the Deployment, its ReplicaSets and pods.
func kubeWarningEvents(ctx context.Context, env *probes.Env, d *appsv1.Deployment, res *probes.Result) error {
	evs, err := env.Kube.CoreV1().Events(d.Namespace).List(ctx, metav1.ListOptions{FieldSelector: "type=Warning"})
	if err != nil {
		return fmt.Errorf("list events in %s: %w", d.Namespace, err)
	}
	window := env.Window
	if window <= 0 {
		window = time.Hour
	}
	type group struct {
		count   int32
		last    time.Time
		message string
		objects map[string]bool
	}
	groups := map[string]*group{}
	t := probes.Table{Title: "Warning events", Columns: []string{"Last seen", "Object", "Reason", "Count", "Message"}}
	sort.Slice(evs.Items, func(i, j int) bool { return kubeEventTime(evs.Items[i]).After(kubeEventTime(evs.Items[j])) })
	for _, e := range evs.Items {
		seen := kubeEventTime(e)
		o := e.InvolvedObject.Name
		if env.Now.Sub(seen) > window || !kubeOwnedName(d.Name, o) {
			continue
		}
		n := max(e.Count, 1)
		t.Rows = append(t.Rows, []string{Ago(env.Now, seen) + " ago", e.InvolvedObject.Kind + "/" + o, e.Reason, strconv.Itoa(int(n)), e.Message})
		g := groups[e.Reason]
		if g == nil {
			g = &group{objects: map[string]bool{}}
			groups[e.Reason] = g
		}
		g.count += n
		g.objects[o] = true
		if seen.After(g.last) || g.message == "" {
			g.last, g.message = seen, e.Message
		}
	}
	reasons := make([]string, 0, len(groups))
	for r := range groups {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		g := groups[r]
		res.Add(probes.Finding{Check: "Warning events", Subject: r, Status: probes.Warn, Value: float64(g.count), Unit: "events",
			Message: fmt.Sprintf("%d %s Warning events on %d objects in the last %s; latest %s ago: %s",
				g.count, r, len(g.objects), window, Ago(env.Now, g.last), g.message)})
	}
	if len(t.Rows) > 0 {
		res.Tables = append(res.Tables, t)
	}
	return nil
}

// kubeEventTime is when an event was last seen, whichever API version wrote it.
func kubeEventTime(e corev1.Event) time.Time {
	switch {
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return e.Series.LastObservedTime.Time
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	default:
		return e.CreationTimestamp.Time
	}
}

// Ago renders how long before now t was, in whole seconds, minutes or hours.
func Ago(now, t time.Time) string {
	if t.IsZero() {
		return "?"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
}

func kubeOrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// kubeList joins up to n names and says how many more there are.
func kubeList(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:n], ", ") + fmt.Sprintf(" and %d more", len(names)-n)
}
