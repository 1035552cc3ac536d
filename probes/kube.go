package probes

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/perfbot/perfbot/errs"
)

// kubeRecent is how far back restarts and changes are reported (the runbook's "last 24 h").
const kubeRecent = 24 * time.Hour

// kubeFreshChange is how recent a rollout or config change must be to raise a warning.
const kubeFreshChange = time.Hour

// kubeDeployment fetches the service's Deployment.
func kubeDeployment(ctx context.Context, env *Env) (*appsv1.Deployment, error) {
	if env.Kube == nil {
		return nil, ErrNotConfigured
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

// kubePodsOf lists the Deployment's pods by its selector.
func kubePodsOf(ctx context.Context, env *Env, d *appsv1.Deployment) ([]corev1.Pod, error) {
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

// KubePods reports the Deployment's replicas, pods that are not ready, restarting or OOM-killed,
// and the Warning events of the window.
func KubePods(ctx context.Context, env *Env) (Result, error) {
	d, err := kubeDeployment(ctx, env)
	if err != nil {
		return Result{}, err
	}
	pods, err := kubePodsOf(ctx, env, d)
	if err != nil {
		return Result{}, err
	}
	var res Result
	desired := int32(1)
	if d.Spec.Replicas != nil {
		desired = *d.Spec.Replicas
	}
	s := d.Status
	res.Summary = fmt.Sprintf("%s: %d desired, %d ready, %d updated, %d available", d.Name, desired,
		s.ReadyReplicas, s.UpdatedReplicas, s.AvailableReplicas)
	res.Add(Finding{Check: "Ready replicas", Subject: d.Name, Status: kubeReadyStatus(int(s.ReadyReplicas), int(desired)),
		Value: float64(s.ReadyReplicas), Threshold: float64(desired), Unit: "pods",
		Message: fmt.Sprintf("%d of %d desired replicas ready (%d updated, %d available)", s.ReadyReplicas, desired, s.UpdatedReplicas, s.AvailableReplicas)})
	kubePodFindings(&res, env.Now, pods)
	if err := kubeWarningEvents(ctx, env, d, &res); err != nil {
		return Result{}, err
	}
	return res, nil
}

// kubeReadyStatus grades readiness: all ready is OK, at least half is WARN, fewer is CRIT.
func kubeReadyStatus(ready, total int) Status {
	switch {
	case total == 0 || ready >= total:
		return OK
	case ready*2 >= total:
		return Warn
	default:
		return Crit
	}
}

// kubePodFindings adds one row per pod and findings for OOM kills, crash loops, restarts and
// pods that are not ready.
func kubePodFindings(res *Result, now time.Time, pods []corev1.Pod) {
	t := Table{Title: "Pods", Columns: []string{"Pod", "Phase", "Ready", "Restarts", "Last termination", "Age"}}
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
				last = append(last, fmt.Sprintf("%s: %s (exit %d) %s ago", cs.Name, term.Reason, term.ExitCode, kubeAgo(now, term.FinishedAt.Time)))
			}
			kubeContainerFindings(res, now, p.Name, cs)
		}
		t.Rows = append(t.Rows, []string{p.Name, string(p.Status.Phase), strconv.FormatBool(ready),
			strconv.Itoa(int(restarts)), kubeOrDash(strings.Join(last, "; ")), kubeAgo(now, p.CreationTimestamp.Time)})
	}
	res.Tables = append(res.Tables, t)
	total := len(t.Rows)
	if len(notReady) > 0 {
		res.Add(Finding{Check: "Pods not ready", Status: kubeReadyStatus(total-len(notReady), total),
			Value: float64(len(notReady)), Threshold: float64(total), Unit: "pods",
			Message: fmt.Sprintf("%d of %d pods not ready: %s", len(notReady), total, kubeList(notReady, 5))})
	}
}

// kubeContainerFindings judges one container: OOM kills and crash loops are CRIT, other recent
// restarts WARN.
func kubeContainerFindings(res *Result, now time.Time, pod string, cs corev1.ContainerStatus) {
	subject := pod + "/" + cs.Name
	term := kubeLastTermination(cs)
	recent := term != nil && (term.FinishedAt.IsZero() || now.Sub(term.FinishedAt.Time) <= kubeRecent)
	if w := cs.State.Waiting; w != nil && w.Reason == "CrashLoopBackOff" {
		res.Add(Finding{Check: "CrashLoopBackOff", Subject: subject, Status: Crit, Value: float64(cs.RestartCount), Unit: "restarts",
			Message: fmt.Sprintf("%s is in CrashLoopBackOff after %d restarts: %s", subject, cs.RestartCount, w.Message)})
	}
	switch {
	case recent && term.Reason == "OOMKilled":
		res.Add(Finding{Check: "OOMKilled", Subject: subject, Status: Crit, Value: float64(cs.RestartCount), Unit: "restarts",
			Message: fmt.Sprintf("%s was OOMKilled (exit %d) %s ago; %d restarts — memory limit too low or a leak",
				subject, term.ExitCode, kubeAgo(now, term.FinishedAt.Time), cs.RestartCount)})
	case recent && cs.RestartCount > 0:
		res.Add(Finding{Check: "Restarts", Subject: subject, Status: Warn, Value: float64(cs.RestartCount), Unit: "restarts",
			Message: fmt.Sprintf("%s restarted %d times; last exit %s (code %d) %s ago",
				subject, cs.RestartCount, kubeOrDash(term.Reason), term.ExitCode, kubeAgo(now, term.FinishedAt.Time))})
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

// kubeWarningEvents adds the window's Warning events about the Deployment, its ReplicaSets and pods.
func kubeWarningEvents(ctx context.Context, env *Env, d *appsv1.Deployment, res *Result) error {
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
	t := Table{Title: "Warning events", Columns: []string{"Last seen", "Object", "Reason", "Count", "Message"}}
	sort.Slice(evs.Items, func(i, j int) bool { return kubeEventTime(evs.Items[i]).After(kubeEventTime(evs.Items[j])) })
	for _, e := range evs.Items {
		seen := kubeEventTime(e)
		o := e.InvolvedObject.Name
		if env.Now.Sub(seen) > window || (o != d.Name && !strings.HasPrefix(o, d.Name+"-")) {
			continue
		}
		n := max(e.Count, 1)
		t.Rows = append(t.Rows, []string{kubeAgo(env.Now, seen) + " ago", e.InvolvedObject.Kind + "/" + o, e.Reason, strconv.Itoa(int(n)), e.Message})
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
		res.Add(Finding{Check: "Warning events", Subject: r, Status: Warn, Value: float64(g.count), Unit: "events",
			Message: fmt.Sprintf("%d %s Warning events on %d objects in the last %s; latest %s ago: %s",
				g.count, r, len(g.objects), window, kubeAgo(env.Now, g.last), g.message)})
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

// kubeAgo renders how long before now t was, in whole seconds, minutes or hours.
func kubeAgo(now, t time.Time) string {
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

// kubeRevisionKey is the annotation the Deployment controller numbers rollouts with.
const kubeRevisionKey = "deployment.kubernetes.io/revision"

// KubeChanges lists the Deployment's rollouts (ReplicaSet revisions) and changes to the ConfigMaps
// it uses in the last 24 h; a change within the last hour is a WARN, the first suspect when latency rose.
func KubeChanges(ctx context.Context, env *Env) (Result, error) {
	d, err := kubeDeployment(ctx, env)
	if err != nil {
		return Result{}, err
	}
	rss, err := env.Kube.AppsV1().ReplicaSets(d.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return Result{}, fmt.Errorf("list replicasets in %s: %w", d.Namespace, err)
	}
	var res Result
	rollouts := kubeRollouts(&res, env.Now, d, rss.Items)
	configs, err := kubeConfigChanges(ctx, env, d, &res)
	if err != nil {
		return Result{}, err
	}
	res.Summary = fmt.Sprintf("%s at revision %s; %d rollouts and %d config changes in the last 24h",
		d.Name, kubeOrDash(d.Annotations[kubeRevisionKey]), rollouts, configs)
	return res, nil
}

// kubeRollouts adds a row per ReplicaSet revision of the Deployment created in the last 24 h (and the
// current one), and a finding per recent rollout. It returns how many rollouts fell in the 24 h.
func kubeRollouts(res *Result, now time.Time, d *appsv1.Deployment, rss []appsv1.ReplicaSet) int {
	var own []appsv1.ReplicaSet
	for _, rs := range rss {
		if ref := metav1.GetControllerOf(&rs); ref != nil && ref.UID == d.UID {
			own = append(own, rs)
		}
	}
	rev := func(rs appsv1.ReplicaSet) int { n, _ := strconv.Atoi(rs.Annotations[kubeRevisionKey]); return n }
	sort.Slice(own, func(i, j int) bool { return rev(own[i]) > rev(own[j]) })
	current := d.Annotations[kubeRevisionKey]
	t := Table{Title: "Rollouts (last 24h)", Columns: []string{"Revision", "ReplicaSet", "Created", "Images", "Replicas"}}
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
		t.Rows = append(t.Rows, []string{label, rs.Name, kubeAgo(now, created) + " ago", images, strconv.Itoa(int(replicas))})
		if age > kubeRecent {
			continue
		}
		n++
		st := OK
		if age <= kubeFreshChange {
			st = Warn
		}
		res.Add(Finding{Check: "Recent change", Subject: "revision " + r, Status: st, Value: age.Minutes(), Unit: "min ago",
			Message: fmt.Sprintf("rollout of %s revision %s (%s) %s ago", d.Name, r, images, kubeAgo(now, created))})
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
func kubeConfigChanges(ctx context.Context, env *Env, d *appsv1.Deployment, res *Result) (int, error) {
	t := Table{Title: "ConfigMaps", Columns: []string{"ConfigMap", "Last change", "By", "Resource version"}}
	n := 0
	for _, name := range kubeConfigMapNames(d.Spec.Template.Spec) {
		cm, err := env.Kube.CoreV1().ConfigMaps(d.Namespace).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			res.Add(Finding{Check: "ConfigMap missing", Subject: name, Status: Warn,
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
		t.Rows = append(t.Rows, []string{name, kubeAgo(env.Now, when) + " ago", by, cm.ResourceVersion})
		age := env.Now.Sub(when)
		if age > kubeRecent {
			continue
		}
		n++
		st := OK
		if age <= kubeFreshChange {
			st = Warn
		}
		res.Add(Finding{Check: "Recent change", Subject: "ConfigMap " + name, Status: st, Value: age.Minutes(), Unit: "min ago",
			Message: fmt.Sprintf("ConfigMap %s changed %s ago (by %s, resourceVersion %s)", name, kubeAgo(env.Now, when), by, cm.ResourceVersion)})
	}
	if len(t.Rows) > 0 {
		res.Tables = append(res.Tables, t)
	}
	return n, nil
}

// kubeMetricsGroup is the resource metrics API (metrics-server) the usage numbers come from.
const kubeMetricsGroup = "metrics.k8s.io/v1beta1"

// KubeResources lists the containers' requests and limits and, when the cluster serves the
// metrics API, each pod's usage against its limits.
func KubeResources(ctx context.Context, env *Env) (Result, error) {
	d, err := kubeDeployment(ctx, env)
	if err != nil {
		return Result{}, err
	}
	var res Result
	limits := map[string]corev1.ResourceList{}
	t := Table{Title: "Requests and limits", Columns: []string{"Container", "CPU request", "CPU limit", "Memory request", "Memory limit"}}
	for _, c := range d.Spec.Template.Spec.Containers {
		r := c.Resources
		limits[c.Name] = r.Limits
		t.Rows = append(t.Rows, []string{c.Name, kubeQty(r.Requests, corev1.ResourceCPU), kubeQty(r.Limits, corev1.ResourceCPU),
			kubeQty(r.Requests, corev1.ResourceMemory), kubeQty(r.Limits, corev1.ResourceMemory)})
		if _, ok := r.Limits[corev1.ResourceMemory]; !ok {
			res.Add(Finding{Check: "Memory limit", Subject: c.Name, Status: Warn,
				Message: fmt.Sprintf("container %s has no memory limit: one leak can take the node's memory", c.Name)})
		}
	}
	res.Tables = append(res.Tables, t)
	if _, err := env.Kube.Discovery().ServerResourcesForGroupVersion(kubeMetricsGroup); err != nil {
		res.Summary = "metrics API not available"
		res.Add(Finding{Check: "Pod usage", Status: Unknown,
			Message: "metrics API not available (" + kubeMetricsGroup + " is not served; install metrics-server): pod CPU and memory usage unknown"})
		return res, nil
	}
	usage, err := kubePodUsage(ctx, env, d)
	if err != nil {
		return Result{}, err
	}
	kubeUsageFindings(&res, env, usage, limits)
	res.Summary = fmt.Sprintf("%d containers measured by the metrics API", len(usage))
	return res, nil
}

func kubeQty(l corev1.ResourceList, name corev1.ResourceName) string {
	if q, ok := l[name]; ok {
		return q.String()
	}
	return "-"
}

// kubeUsage is one container's usage as the metrics API reports it.
type kubeUsage struct {
	Pod, Container string
	CPU            float64 // cores
	Memory         float64 // bytes
}

// kubePodUsage reads the metrics API's PodMetrics for the Deployment's pods.
func kubePodUsage(ctx context.Context, env *Env, d *appsv1.Deployment) ([]kubeUsage, error) {
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("selector of deployment %s: %w", d.Name, err)
	}
	body, err := env.Kube.Discovery().RESTClient().Get().
		AbsPath("/apis", kubeMetricsGroup, "namespaces", d.Namespace, "pods").
		Param("labelSelector", sel.String()).DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("read pod metrics in %s: %w", d.Namespace, err)
	}
	return kubeParseUsage(body)
}

// kubeParseUsage decodes a PodMetricsList.
func kubeParseUsage(body []byte) ([]kubeUsage, error) {
	var list struct {
		Items []struct {
			Metadata   metav1.ObjectMeta `json:"metadata"`
			Containers []struct {
				Name  string              `json:"name"`
				Usage corev1.ResourceList `json:"usage"`
			} `json:"containers"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("decode pod metrics: %w", err)
	}
	var out []kubeUsage
	for _, it := range list.Items {
		for _, c := range it.Containers {
			cpu, mem := c.Usage[corev1.ResourceCPU], c.Usage[corev1.ResourceMemory]
			out = append(out, kubeUsage{Pod: it.Metadata.Name, Container: c.Name,
				CPU: cpu.AsApproximateFloat64(), Memory: mem.AsApproximateFloat64()})
		}
	}
	return out, nil
}

// kubeUsageFindings compares usage with limits using the runbook's memory and CPU thresholds.
func kubeUsageFindings(res *Result, env *Env, usage []kubeUsage, limits map[string]corev1.ResourceList) {
	th := env.Service.Thresholds
	t := Table{Title: "Pod usage", Columns: []string{"Pod", "Container", "CPU", "CPU of limit", "Memory", "Memory of limit"}}
	for _, u := range usage {
		cpuLim, memLim := limits[u.Container][corev1.ResourceCPU], limits[u.Container][corev1.ResourceMemory]
		cpuFrac, memFrac := kubeFrac(u.CPU, cpuLim.AsApproximateFloat64()), kubeFrac(u.Memory, memLim.AsApproximateFloat64())
		t.Rows = append(t.Rows, []string{u.Pod, u.Container, fmt.Sprintf("%.3f cores", u.CPU), kubePct(cpuFrac),
			fmt.Sprintf("%.0f MiB", u.Memory/(1<<20)), kubePct(memFrac)})
		subject := u.Pod + "/" + u.Container
		if memFrac >= 0 {
			res.Add(Finding{Check: "Pod memory of limit", Subject: subject, Status: thresholdStatus(memFrac, th.MemoryUsage, 0.9),
				Value: memFrac * 100, Threshold: th.MemoryUsage * 100, Unit: "%",
				Message: fmt.Sprintf("%s uses %.0f MiB, %s of its memory limit", subject, u.Memory/(1<<20), kubePct(memFrac))})
		}
		if cpuFrac >= 0 {
			res.Add(Finding{Check: "Pod CPU of limit", Subject: subject, Status: thresholdStatus(cpuFrac, th.CPUUsage, 0.9),
				Value: cpuFrac * 100, Threshold: th.CPUUsage * 100, Unit: "%",
				Message: fmt.Sprintf("%s uses %.3f cores, %s of its CPU limit", subject, u.CPU, kubePct(cpuFrac))})
		}
	}
	res.Tables = append(res.Tables, t)
}

// kubeFrac is used/limit, or -1 when there is no limit.
func kubeFrac(used, limit float64) float64 {
	if limit <= 0 {
		return -1
	}
	return used / limit
}

func kubePct(f float64) string {
	if f < 0 {
		return "no limit"
	}
	return fmt.Sprintf("%.0f %%", f*100)
}
