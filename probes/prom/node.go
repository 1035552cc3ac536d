package prom

import (
	"context"
	"fmt"
	"strconv"

	"github.com/prometheus/common/model"

	"github.com/perfbot/perfbot/internal/textfmt"
	"github.com/perfbot/perfbot/probes"
)

// Node checks the runbook's resource triggers on the nodes: CPU > 80 % and memory > 85 %, plus disk I/O and network.
var Node = probes.Probe{Name: "node", Title: "Node resources", Needs: probes.NeedsPrometheus, Run: node}

func node(ctx context.Context, env *probes.Env) (probes.Result, error) {
	ns, w := env.Service.Prometheus.NodeSelector, promRange(env.Window)
	t := env.Service.Thresholds
	res := probes.Result{Summary: "node CPU, memory, disk and network"}
	// The busiest node, not the average: one node at 96 % memory among idle ones is the problem.
	cpuQ := fmt.Sprintf(`max(1 - avg by (instance) (rate(node_cpu_seconds_total%s[%s])))`, sel(ns, `mode="idle"`), w)
	memQ := fmt.Sprintf(`max(1 - node_memory_MemAvailable_bytes%[1]s / node_memory_MemTotal_bytes%[1]s)`, sel(ns))
	cpu, err := instant(ctx, env, cpuQ)
	if err != nil {
		return res, err
	}
	mem, err := instant(ctx, env, memQ)
	if err != nil {
		return res, err
	}
	add := func(check string, sig probes.Signal, v sample, limit float64) {
		if !v.ok {
			res.Add(probes.Finding{Check: check, Status: probes.Unknown, Unit: "%", Threshold: limit * 100, Message: "no node metrics"})
			return
		}
		res.Add(probes.Finding{Check: check, Signal: sig, Status: probes.ThresholdStatus(v.v, limit, 0.9), Value: v.v * 100, Threshold: limit * 100,
			Unit: "%", Message: fmt.Sprintf("%s %s (threshold %s)", check, textfmt.Percent(v.v), textfmt.Percent(limit))})
	}
	add("CPU usage", probes.SigNodeCPU, one(cpu), t.CPUUsage)
	add("Memory usage", probes.SigNodeMemory, one(mem), t.MemoryUsage)
	disk, err := instant(ctx, env, fmt.Sprintf(`max(rate(node_disk_io_time_seconds_total%s[%s]))`, sel(ns), w))
	if err != nil {
		return res, err
	}
	rx, err := instant(ctx, env, fmt.Sprintf(`sum(rate(node_network_receive_bytes_total%s[%s]))`, sel(ns, `device!="lo"`), w))
	if err != nil {
		return res, err
	}
	row := func(name string, v sample, f func(float64) string) []string {
		if !v.ok {
			return []string{name, "no data"}
		}
		return []string{name, f(v.v)}
	}
	res.Tables = append(res.Tables, probes.Table{Title: "Node resources", Columns: []string{"Resource", "Value"}, Rows: [][]string{
		row("CPU busy (busiest node)", one(cpu), textfmt.Percent), row("Memory used (fullest node)", one(mem), textfmt.Percent),
		row("Busiest disk I/O time", one(disk), textfmt.Percent),
		row("Network receive", one(rx), func(f float64) string { return strconv.FormatFloat(f/1024, 'f', 1, 64) + " KiB/s" }),
	}})
	cpuS, err := series(ctx, env, fmt.Sprintf(`max(1 - avg by (instance) (rate(node_cpu_seconds_total%s[%s])))`, sel(ns, `mode="idle"`), promRange(chartRate(env.Window))), env.Window)
	if err != nil {
		return res, err
	}
	memS, err := series(ctx, env, memQ, env.Window)
	if err != nil {
		return res, err
	}
	c := probes.Chart{Title: "Node CPU and memory", Unit: "%", Threshold: t.CPUUsage * 100}
	c.Series = append(c.Series, named(toChart(cpuS, "", 100), "CPU")...)
	c.Series = append(c.Series, named(toChart(memS, "", 100), "memory")...)
	res.Charts = append(res.Charts, c)
	return res, nil
}

// ProcessMemory reports the service's own resident memory from its process metrics.
var ProcessMemory = probes.Probe{Name: "process_memory", Title: "Service memory", Needs: probes.NeedsPrometheus, Run: processMemory}

func processMemory(ctx context.Context, env *probes.Env) (probes.Result, error) {
	v, err := instant(ctx, env, fmt.Sprintf(`sum(process_resident_memory_bytes%s)`, sel(env.Service.Prometheus.Selector)))
	if err != nil {
		return probes.Result{}, err
	}
	res := probes.Result{}
	if x, ok := scalar(v); ok {
		res.Summary = fmt.Sprintf("service resident memory %.0f MiB", x/(1<<20))
		res.Tables = append(res.Tables, probes.Table{Title: "Service memory", Columns: []string{"Resident", "MiB"},
			Rows: [][]string{{"all instances", strconv.FormatFloat(x/(1<<20), 'f', 0, 64)}}})
	}
	return res, nil
}

type sample struct {
	v  float64
	ok bool
}

func one(v model.Vector) sample {
	x, ok := scalar(v)
	return sample{x, ok}
}

func named(s []probes.Series, name string) []probes.Series {
	for i := range s {
		s[i].Name = name
	}
	return s
}
