package prom

import (
	"context"
	"fmt"
	"sort"

	"github.com/prometheus/common/model"

	"github.com/perfbot/perfbot/internal/textfmt"
	"github.com/perfbot/perfbot/probes"
)

// throttledWarn is the share of CFS periods throttled from which a pod's CPU is a WARN even below
// the CPU threshold: its requests wait for CPU time.
const throttledWarn = 0.25

// PodResources checks the runbook's memory and CPU triggers per pod against its limits, the way
// the cluster reports them to Prometheus: cAdvisor's container_* series and kube-state-metrics'
// kube_pod_container_resource_limits (or cAdvisor's container_spec_* limits).
var PodResources = probes.Probe{Name: "pod_resources", Title: "Pod memory and CPU", Needs: probes.NeedsPrometheus, Run: podResources}

// podKey names a pod's container in findings and tables.
func podKey(s model.Metric) string { return string(s["pod"]) + "/" + string(s["container"]) }

func podResources(ctx context.Context, env *probes.Env) (probes.Result, error) {
	ps := env.Service.Prometheus.PodSelector
	c := sel(ps, `container!=""`, `container!="POD"`)
	r := promRange(chartRate(env.Window))
	th := env.Service.Thresholds
	memShareQ := fmt.Sprintf(`max by (pod, container) (container_memory_working_set_bytes%[1]s) / (max by (pod, container) (kube_pod_container_resource_limits%[2]s) or max by (pod, container) (container_spec_memory_limit_bytes%[1]s > 0))`,
		c, sel(ps, `resource="memory"`))
	cpuShareQ := fmt.Sprintf(`max by (pod, container) (rate(container_cpu_usage_seconds_total%[1]s[%[3]s])) / (max by (pod, container) (kube_pod_container_resource_limits%[2]s) or max by (pod, container) (container_spec_cpu_quota%[1]s > 0) / max by (pod, container) (container_spec_cpu_period%[1]s))`,
		c, sel(ps, `resource="cpu"`), r)
	throttledQ := fmt.Sprintf(`sum by (pod, container) (rate(container_cpu_cfs_throttled_periods_total%[1]s[%[2]s])) / sum by (pod, container) (rate(container_cpu_cfs_periods_total%[1]s[%[2]s]))`, c, r)
	usageQ := fmt.Sprintf(`max by (pod, container) (container_memory_working_set_bytes%s)`, c)
	chartWait := async(func() (model.Matrix, error) { return series(ctx, env, memShareQ, env.Window) })
	histWait := async(func() ([2]history, error) {
		return [2]history{lookBack(ctx, env, "max("+memShareQ+")", "", 100), lookBack(ctx, env, "max("+cpuShareQ+")", "", 100)}, nil
	})
	vs, err := instants(ctx, env, usageQ, memShareQ, cpuShareQ, throttledQ)
	if err != nil {
		return probes.Result{}, err
	}
	chart, err := chartWait()
	if err != nil {
		return probes.Result{}, err
	}
	hist, _ := histWait()
	res := probes.Result{}
	if len(vs[0]) == 0 {
		res.Summary = "no container metrics"
		res.Add(probes.Finding{Check: "Pod memory and CPU", Status: probes.Unknown,
			Message: "Prometheus has no container_memory_working_set_bytes for " + sel(ps) + " (cAdvisor); /perf infra reads the metrics API"})
		return res, nil
	}
	usage, mem, cpu, thr := byKey(vs[0]), byKey(vs[1]), byKey(vs[2]), byKey(vs[3])
	charts := toChartBy(chart, 100)
	began := onsets(charts, th.MemoryUsage*100)
	t := probes.Table{Title: "Pods against their limits", Columns: []string{"Pod/container", "Memory", "of limit", "CPU of limit", "Throttled"}}
	keys := make([]string, 0, len(usage))
	for k := range usage {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		m, hasMem := mem[k]
		u, hasCPU := cpu[k]
		t.Rows = append(t.Rows, []string{k, textfmt.Value(usage[k]/(1<<20), "MiB"), orNoLimit(m, hasMem), orNoLimit(u, hasCPU), textfmt.Percent(thr[k])})
		if hasMem {
			res.Add(probes.Finding{Check: "Pod memory of limit", Signal: probes.SigPodMemory, Subject: k,
				Status: probes.ThresholdStatus(m, th.MemoryUsage, 0.9), Value: m * 100, Threshold: th.MemoryUsage * 100, Unit: "%",
				Onset: began[k], Baseline: hist[0].of(""), Evidence: memShareQ,
				Message: fmt.Sprintf("pod %s uses %s, %s of its memory limit (threshold %s)", k, textfmt.Value(usage[k]/(1<<20), "MiB"), textfmt.Percent(m), textfmt.Percent(th.MemoryUsage))})
		}
		st := probes.OK
		if hasCPU {
			st = probes.ThresholdStatus(u, th.CPUUsage, 0.9)
		}
		if thr[k] >= throttledWarn {
			st = probes.Worst(st, probes.Warn)
		}
		if hasCPU || thr[k] > 0 {
			res.Add(probes.Finding{Check: "Pod CPU of limit", Signal: probes.SigPodCPU, Subject: k, Status: st,
				Value: u * 100, Threshold: th.CPUUsage * 100, Unit: "%", Baseline: hist[1].of(""), Evidence: cpuShareQ,
				Message: fmt.Sprintf("pod %s uses %s of its CPU limit, throttled in %s of periods (threshold %s)", k, textfmt.Percent(u), textfmt.Percent(thr[k]), textfmt.Percent(th.CPUUsage))})
		}
	}
	res.Summary = fmt.Sprintf("%d containers against their limits", len(keys))
	res.Tables = append(res.Tables, t)
	res.Charts = append(res.Charts, probes.Chart{Title: "Pod memory of limit", Unit: "%", Threshold: th.MemoryUsage * 100, Series: charts})
	return res, nil
}

func byKey(v model.Vector) map[string]float64 {
	out := make(map[string]float64, len(v))
	for _, s := range v {
		out[podKey(s.Metric)] = float64(s.Value)
	}
	return out
}

// toChartBy is toChart with series named pod/container.
func toChartBy(m model.Matrix, mul float64) []probes.Series {
	named := make(model.Matrix, len(m))
	for i, s := range m {
		named[i] = &model.SampleStream{Metric: model.Metric{"name": model.LabelValue(podKey(s.Metric))}, Values: s.Values}
	}
	return toChart(named, "name", mul)
}

func orNoLimit(v float64, ok bool) string {
	if !ok {
		return "no limit"
	}
	return textfmt.Percent(v)
}
