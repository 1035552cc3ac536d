package kube

import (
	"context"
	"encoding/json"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/perfbot/perfbot/probes"
)

// kubeMetricsGroup is the resource metrics API (metrics-server) the usage numbers come from.
const kubeMetricsGroup = "metrics.k8s.io/v1beta1"

// Resources lists the containers' requests and limits and, when the cluster serves the
// metrics API, each pod's usage against its limits.
var Resources = probes.Probe{Name: "kube_resources", Title: "Requests and limits", Needs: probes.NeedsKube, Run: readResources}

func readResources(ctx context.Context, env *probes.Env) (probes.Result, error) {
	d, err := Deployment(ctx, env)
	if err != nil {
		return probes.Result{}, err
	}
	var res probes.Result
	limits := map[string]corev1.ResourceList{}
	t := probes.Table{Title: "Requests and limits", Columns: []string{"Container", "CPU request", "CPU limit", "Memory request", "Memory limit"}}
	for _, c := range d.Spec.Template.Spec.Containers {
		r := c.Resources
		limits[c.Name] = r.Limits
		t.Rows = append(t.Rows, []string{c.Name, kubeQty(r.Requests, corev1.ResourceCPU), kubeQty(r.Limits, corev1.ResourceCPU),
			kubeQty(r.Requests, corev1.ResourceMemory), kubeQty(r.Limits, corev1.ResourceMemory)})
		if _, ok := r.Limits[corev1.ResourceMemory]; !ok {
			res.Add(probes.Finding{Check: "Memory limit", Subject: c.Name, Status: probes.Warn,
				Message: fmt.Sprintf("container %s has no memory limit: one leak can take the node's memory", c.Name)})
		}
	}
	res.Tables = append(res.Tables, t)
	if _, err := env.Kube.Discovery().ServerResourcesForGroupVersion(kubeMetricsGroup); err != nil {
		res.Summary = "metrics API not available"
		res.Add(probes.Finding{Check: "Pod usage", Status: probes.Unknown,
			Message: "metrics API not available (" + kubeMetricsGroup + " is not served; install metrics-server): pod CPU and memory usage unknown"})
		return res, nil
	}
	usage, err := kubePodUsage(ctx, env, d)
	if err != nil {
		return probes.Result{}, err
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
func kubePodUsage(ctx context.Context, env *probes.Env, d *appsv1.Deployment) ([]kubeUsage, error) {
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
func kubeUsageFindings(res *probes.Result, env *probes.Env, usage []kubeUsage, limits map[string]corev1.ResourceList) {
	th := env.Service.Thresholds
	t := probes.Table{Title: "Pod usage", Columns: []string{"Pod", "Container", "CPU", "CPU of limit", "Memory", "Memory of limit"}}
	for _, u := range usage {
		cpuLim, memLim := limits[u.Container][corev1.ResourceCPU], limits[u.Container][corev1.ResourceMemory]
		cpuFrac, memFrac := kubeFrac(u.CPU, cpuLim.AsApproximateFloat64()), kubeFrac(u.Memory, memLim.AsApproximateFloat64())
		t.Rows = append(t.Rows, []string{u.Pod, u.Container, fmt.Sprintf("%.3f cores", u.CPU), kubePct(cpuFrac),
			fmt.Sprintf("%.0f MiB", u.Memory/(1<<20)), kubePct(memFrac)})
		subject := u.Pod + "/" + u.Container
		if memFrac >= 0 {
			res.Add(probes.Finding{Check: "Pod memory of limit", Signal: probes.SigPodMemory, Subject: subject, Status: probes.ThresholdStatus(memFrac, th.MemoryUsage, 0.9),
				Value: memFrac * 100, Threshold: th.MemoryUsage * 100, Unit: "%",
				Message: fmt.Sprintf("%s uses %.0f MiB, %s of its memory limit", subject, u.Memory/(1<<20), kubePct(memFrac))})
		}
		if cpuFrac >= 0 {
			res.Add(probes.Finding{Check: "Pod CPU of limit", Signal: probes.SigPodCPU, Subject: subject, Status: probes.ThresholdStatus(cpuFrac, th.CPUUsage, 0.9),
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
