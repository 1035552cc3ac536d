package demo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/perfbot/perfbot/dev/slackserver"
	"github.com/perfbot/perfbot/dev/studiosim"
)

// fault is one entry of the demo's fault panel: a simulator fault with the parameters that make
// the runbook's symptom plain, and what a visitor should see.
type fault struct {
	name, label, does string
	inject            studiosim.Fault
	oom               bool // also marks a pod OOMKilled through the API server
}

// catalog is every fault the panel offers, in the runbook's order.
var catalog = []fault{
	{name: "latency", label: "Slow API", does: "/api/ideas sleeps 800 ms: p95 latency breaches 500 ms",
		inject: studiosim.Fault{Kind: studiosim.KindLatency, Endpoint: studiosim.EndpointIdeas, Delay: 800 * time.Millisecond}},
	{name: "errors", label: "5xx errors", does: "30 % of /api/ideas answer 500: the error rate breaches 1 %",
		inject: studiosim.Fault{Kind: studiosim.KindErrors, Endpoint: studiosim.EndpointIdeas, Rate: 0.3}},
	{name: "slow_sql", label: "Slow SQL", does: "the /api/projects query sleeps 1.5 s in PostgreSQL: a long query",
		inject: studiosim.Fault{Kind: studiosim.KindSlowSQL, Endpoint: studiosim.EndpointProjects, Seconds: 1.5}},
	{name: "lock", label: "Row lock", does: "a transaction holds the rows /api/projects updates: blocked sessions and their blocker",
		inject: studiosim.Fault{Kind: studiosim.KindLock}},
	{name: "idle_in_tx", label: "Idle in transaction", does: "two pool connections sit idle in a transaction",
		inject: studiosim.Fault{Kind: studiosim.KindIdleInTx, Connections: 2}},
	{name: "redis_memory", label: "Redis memory", does: "fills Redis with 64 MB of keys: memory against maxmemory",
		inject: studiosim.Fault{Kind: studiosim.KindRedisMemory, MB: 64}},
	{name: "openai_latency", label: "Slow OpenAI", does: "every OpenAI call takes 3 s longer: AI API p95",
		inject: studiosim.Fault{Kind: studiosim.KindOpenAILatency, Delay: 3 * time.Second}},
	{name: "openai_429", label: "OpenAI rate limit", does: "half the OpenAI calls answer 429: rate limiting",
		inject: studiosim.Fault{Kind: studiosim.KindOpenAI429, Rate: 0.5}},
	{name: "crewai_failures", label: "Agent failures", does: "40 % of CrewAI tasks fail: task error rate",
		inject: studiosim.Fault{Kind: studiosim.KindCrewAIFailures, Rate: 0.4}},
	{name: "pod_cpu", label: "CPU throttling", does: "every pod runs at its CPU limit and is throttled",
		inject: studiosim.Fault{Kind: studiosim.KindPodCPU, Rate: 0.98}},
	{name: "oom", label: "OOM kill", does: "the first pod sits at 99 % of its memory limit and is OOMKilled once",
		inject: studiosim.Fault{Kind: studiosim.KindPodMemory, Pod: "0", Rate: 0.99}, oom: true},
}

// Faults drives the simulator's faults for the web view's panel and /perf demo.
type Faults struct {
	Sim *studiosim.Client
	// Pods marks a pod OOMKilled and back; nil leaves the OOM fault to memory alone.
	Pods podKiller
}

// podKiller records an OOM kill on a pod of the watched Deployment, and forgets it.
type podKiller interface {
	OOMKill(ctx context.Context) error
	Restore(ctx context.Context) error
}

var _ slackserver.FaultPanel = (*Faults)(nil)

// Names lists the fault names, for usage messages.
func Names() []string {
	out := make([]string, len(catalog))
	for i, f := range catalog {
		out[i] = f.name
	}
	return out
}

func find(name string) (fault, error) {
	i := slices.IndexFunc(catalog, func(f fault) bool { return f.name == name })
	if i < 0 {
		return fault{}, fmt.Errorf("no fault %q: want one of %s", name, strings.Join(Names(), ", "))
	}
	return catalog[i], nil
}

// Faults lists the catalog, each marked active when a fault of its kind is in effect.
func (p *Faults) Faults(ctx context.Context) ([]slackserver.Fault, error) {
	active, err := p.Sim.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("the simulator's faults: %w", err)
	}
	out := make([]slackserver.Fault, 0, len(catalog))
	for _, f := range catalog {
		on := slices.ContainsFunc(active, func(a studiosim.Fault) bool { return a.Kind == f.inject.Kind })
		out = append(out, slackserver.Fault{Name: f.name, Label: f.label, Does: f.does, Active: on})
	}
	return out, nil
}

// Inject puts the named fault into effect (again, if it already is).
func (p *Faults) Inject(ctx context.Context, name string) error {
	f, err := find(name)
	if err != nil {
		return err
	}
	if err := p.clearKind(ctx, f.inject.Kind); err != nil {
		return err
	}
	if _, err := p.Sim.Inject(ctx, f.inject); err != nil {
		return err
	}
	if f.oom && p.Pods != nil {
		return p.Pods.OOMKill(ctx)
	}
	return nil
}

// Clear undoes the named fault, or every fault for "".
func (p *Faults) Clear(ctx context.Context, name string) error {
	if name == "" {
		err := p.Sim.ClearAll(ctx)
		if p.Pods != nil {
			err = errors.Join(err, p.Pods.Restore(ctx))
		}
		return err
	}
	f, err := find(name)
	if err != nil {
		return err
	}
	err = p.clearKind(ctx, f.inject.Kind)
	if f.oom && p.Pods != nil {
		err = errors.Join(err, p.Pods.Restore(ctx))
	}
	return err
}

func (p *Faults) clearKind(ctx context.Context, k studiosim.Kind) error {
	active, err := p.Sim.List(ctx)
	if err != nil {
		return fmt.Errorf("the simulator's faults: %w", err)
	}
	for _, a := range active {
		if a.Kind == k {
			if err := p.Sim.Clear(ctx, a.ID); err != nil {
				return err
			}
		}
	}
	return nil
}
