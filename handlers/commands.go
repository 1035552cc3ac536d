package handlers

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/probes"
	"github.com/perfbot/perfbot/probes/health"
	"github.com/perfbot/perfbot/probes/kube"
	"github.com/perfbot/perfbot/probes/pg"
	"github.com/perfbot/perfbot/probes/prom"
	"github.com/perfbot/perfbot/probes/redis"
)

// probeCommand is a command that runs a fixed set of probes over [service] [window].
type probeCommand struct {
	name, title, summary, section string
	probes                        []probes.Probe
	next                          func(service string) []NextStep
}

// probeCommands is the one table of probe-backed commands, with the runbook section each covers.
var probeCommands = []probeCommand{
	{name: "assess", title: "Assessment of", section: "Initial Assessment",
		summary: "the runbook's 5-minute assessment: every alert trigger (per endpoint, agent and pod), database sessions and locks, Redis, recent changes, and the likely cause",
		probes: []probes.Probe{health.Endpoint, prom.Targets, prom.APILatency, prom.APIErrors, prom.Scope, prom.CrewAI, prom.AI, prom.Node,
			prom.PodResources, pg.QueryTime, pg.Sessions, redis.Health, kube.Pods, kube.Changes},
		next: func(s string) []NextStep {
			return []NextStep{{Label: "DB details", Command: "/perf db " + s}, {Label: "Logs", Command: "/perf logs " + s},
				{Label: "Open incident", Command: "/perf incident open " + s + " degraded",
					Confirm: "Open an incident for " + s + "? This creates a channel and pages on-call."}}
		}},
	{name: "api", title: "API performance of", section: "Step 1", summary: "p95 latency over time, 5xx by status, top 10 slow endpoints",
		probes: []probes.Probe{prom.APILatency, prom.APIErrors, prom.SlowEndpoints, prom.Scope}},
	{name: "crewai", title: "CrewAI performance of", section: "CrewAI check", summary: "task error rate, p95 task duration by agent, AI API calls by provider",
		probes: []probes.Probe{prom.CrewAI, prom.AI}},
	{name: "ai", title: "AI API performance of", section: "Step 4", summary: "OpenAI p95 latency, error rate, rate-limit hits",
		probes: []probes.Probe{prom.AI}},
	{name: "infra", title: "Infrastructure of", section: "Step 3", summary: "node CPU, memory, disk I/O, network; pods and their resources",
		probes: []probes.Probe{prom.Node, prom.ProcessMemory, prom.PodResources, kube.Pods, kube.Resources}},
	{name: "db", title: "Database of", section: "Step 2", summary: "connections, long queries, blocking locks, cache hit ratio, slow statements, missing indexes",
		probes: []probes.Probe{pg.Database}},
	{name: "redis", title: "Redis of", section: "Step 3 Redis", summary: "clients, memory vs maxmemory, evictions, command stats, slow log",
		probes: []probes.Probe{redis.Server}},
}

func (h *Handlers) builtins() []Command {
	cmds := []Command{{Name: "help", Usage: "help [command]", Summary: "usage, examples and what is configured", Example: "/perf help db",
		Run: func(_ context.Context, _ Request, args []string) (Report, error) { return h.help(args), nil }}}
	for _, pc := range probeCommands {
		cmds = append(cmds, Command{
			Name: pc.name, Usage: pc.name + " [service] [window]", Summary: pc.summary + " (runbook: " + pc.section + ")",
			Example: "/perf " + pc.name + " agentic-studio 15m",
			Run: func(ctx context.Context, req Request, args []string) (Report, error) {
				svc, window, err := h.serviceAndWindow(pc.name, args)
				if err != nil {
					return Report{}, err
				}
				rep, err := h.run(ctx, req, pc.name, pc.title, svc, window, pc.probes)
				if err == nil && pc.next != nil {
					rep.Next = h.withoutOpen(ctx, req.Channel, pc.next(rep.Service))
				}
				if err == nil {
					rep.Next = append(rep.Next, h.remedySteps(rep)...)
				}
				if step, ok := h.TeamStep(rep); ok && err == nil {
					rep.Next = append(rep.Next, step)
				}
				return rep, err
			},
		})
	}
	return append(cmds, h.logsCommand(), h.explainCommand())
}

// serviceAndWindow parses "[service] [window]" in either order; anything else is a usage error.
func (h *Handlers) serviceAndWindow(cmd string, args []string) (string, time.Duration, error) {
	var svc string
	var window time.Duration
	usage := fmt.Sprintf("usage: /perf %s [service] [window]  e.g. /perf %s %s 15m (services: %s)",
		cmd, cmd, h.cfg.Services[0].Name, strings.Join(h.cfg.ServiceNames(), ", "))
	for _, a := range args {
		if _, ok := h.cfg.Service(a); ok && svc == "" {
			svc = a
			continue
		}
		if d, err := model.ParseDuration(a); err == nil && window == 0 {
			window = time.Duration(d)
			if window < time.Minute || window > 24*time.Hour {
				return "", 0, errs.Invalidf("window %s is out of range (1m to 24h). %s", a, usage)
			}
			continue
		}
		return "", 0, errs.Invalidf("unexpected argument %q. %s", a, usage)
	}
	return svc, window, nil
}

func (h *Handlers) help(args []string) Report {
	var b strings.Builder
	if len(args) > 0 {
		for _, c := range h.commands {
			if c.Name == args[0] {
				fmt.Fprintf(&b, "/perf %s\n%s\nExample: %s", c.Usage, c.Summary, c.Example)
				return Report{Command: "/perf help", Title: "perfbot help", Text: T(Plain(b.String())), Ephemeral: true}
			}
		}
		fmt.Fprintf(&b, "No command %q.\n\n", args[0])
	}
	b.WriteString("perfbot runs the Performance Degradation Runbook. Commands:\n")
	for _, c := range h.commands {
		fmt.Fprintf(&b, "• /perf %s — %s. Example: %s\n", c.Usage, c.Summary, c.Example)
	}
	fmt.Fprintf(&b, "\nServices: %s. Thresholds: p95 > %s, errors > %.0f%%, DB query > %s, memory > %.0f%%, CPU > %.0f%%.",
		strings.Join(h.cfg.ServiceNames(), ", "), h.cfg.Services[0].Thresholds.P95Latency.D(),
		h.cfg.Services[0].Thresholds.ErrorRate*100, h.cfg.Services[0].Thresholds.DBQueryTime.D(),
		h.cfg.Services[0].Thresholds.MemoryUsage*100, h.cfg.Services[0].Thresholds.CPUUsage*100)
	return Report{Command: "/perf help", Title: "perfbot help", Text: T(Plain(b.String())), Ephemeral: true}
}
