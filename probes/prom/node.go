package probes

import (
	"context"
	"fmt"
	"strconv"

	"github.com/prometheus/common/model"
)

// Node checks the runbook's resource triggers on the nodes: CPU > 80 % and memory > 85 %, plus disk I/O and network.
func Node(ctx context.Context, env *Env) (Result, error) {
	ns, w := env.Service.Prometheus.NodeSelector, promRange(env.Window)
	t := env.Service.Thresholds
	res := Result{Summary: "node CPU, memory, disk and network"}
	// The busiest node, not the average: one node at 96 % memory among idle ones is the problem.
	cpuQ := fmt.Sprintf(`max(1 - avg by (instance) (rate(node_cpu_seconds_total%s[%s])))`, sel(ns, `mode="idle"`), w)
	memQ := fmt.Sprintf(`max(1 - node_memory_MemAvailable_bytes%[1]s / node_memory_MemTotal_bytes%[1]s)`, sel(ns))
	cpu, err := env.instant(ctx, cpuQ)
	if err != nil {
		return res, err
	}
	mem, err := env.instant(ctx, memQ)
	if err != nil {
		return res, err
	}
	add := func(check string, v sample, limit float64) {
		if !v.ok {
			res.Add(Finding{Check: check, Status: Unknown, Unit: "%", Threshold: limit * 100, Message: "no node metrics"})
			return
		}
		res.Add(Finding{Check: check, Status: thresholdStatus(v.v, limit, 0.9), Value: v.v * 100, Threshold: limit * 100,
			Unit: "%", Message: fmt.Sprintf("%s %s (threshold %s)", check, pct(v.v), pct(limit))})
	}
	add("CPU usage", one(cpu), t.CPUUsage)
	add("Memory usage", one(mem), t.MemoryUsage)
	disk, err := env.instant(ctx, fmt.Sprintf(`max(rate(node_disk_io_time_seconds_total%s[%s]))`, sel(ns), w))
	if err != nil {
		return res, err
	}
	rx, err := env.instant(ctx, fmt.Sprintf(`sum(rate(node_network_receive_bytes_total%s[%s]))`, sel(ns, `device!="lo"`), w))
	if err != nil {
		return res, err
	}
	row := func(name string, v sample, f func(float64) string) []string {
		if !v.ok {
			return []string{name, "no data"}
		}
		return []string{name, f(v.v)}
	}
	res.Tables = append(res.Tables, Table{Title: "Node resources", Columns: []string{"Resource", "Value"}, Rows: [][]string{
		row("CPU busy (busiest node)", one(cpu), pct), row("Memory used (fullest node)", one(mem), pct),
		row("Busiest disk I/O time", one(disk), pct),
		row("Network receive", one(rx), func(f float64) string { return strconv.FormatFloat(f/1024, 'f', 1, 64) + " KiB/s" }),
	}})
	cpuS, err := env.series(ctx, fmt.Sprintf(`max(1 - avg by (instance) (rate(node_cpu_seconds_total%s[%s])))`, sel(ns, `mode="idle"`), promRange(chartRate(env.Window))), env.Window)
	if err != nil {
		return res, err
	}
	memS, err := env.series(ctx, memQ, env.Window)
	if err != nil {
		return res, err
	}
	c := Chart{Title: "Node CPU and memory", Unit: "%", Threshold: t.CPUUsage * 100}
	c.Series = append(c.Series, named(toChart(cpuS, "", 100), "CPU")...)
	c.Series = append(c.Series, named(toChart(memS, "", 100), "memory")...)
	res.Charts = append(res.Charts, c)
	return res, nil
}

// ProcessMemory reports the service's own resident memory from its process metrics.
func ProcessMemory(ctx context.Context, env *Env) (Result, error) {
	v, err := env.instant(ctx, fmt.Sprintf(`sum(process_resident_memory_bytes%s)`, sel(env.Service.Prometheus.Selector)))
	if err != nil {
		return Result{}, err
	}
	res := Result{}
	if x, ok := scalar(v); ok {
		res.Summary = fmt.Sprintf("service resident memory %.0f MiB", x/(1<<20))
		res.Tables = append(res.Tables, Table{Title: "Service memory", Columns: []string{"Resident", "MiB"},
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

func named(s []Series, name string) []Series {
	for i := range s {
		s[i].Name = name
	}
	return s
}
