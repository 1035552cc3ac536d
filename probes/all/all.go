// Package all is the one register of perfbot's probes: every probe value of every backend
// subpackage, listed explicitly (no self-registration), and the check that keeps the list sound.
package all

import (
	"errors"
	"fmt"

	"github.com/perfbot/perfbot/probes"
	"github.com/perfbot/perfbot/probes/health"
	"github.com/perfbot/perfbot/probes/kube"
	"github.com/perfbot/perfbot/probes/logs"
	"github.com/perfbot/perfbot/probes/pg"
	"github.com/perfbot/perfbot/probes/prom"
	"github.com/perfbot/perfbot/probes/redis"
)

// Probes returns every probe perfbot has, in the order the runbook reaches for them.
func Probes() []probes.Probe {
	return []probes.Probe{
		health.Endpoint,
		prom.Targets,
		prom.APILatency,
		prom.APIErrors,
		prom.SlowEndpoints,
		prom.Scope,
		prom.CrewAI,
		prom.AI,
		prom.Node,
		prom.ProcessMemory,
		prom.PodResources,
		pg.Database,
		pg.QueryTime,
		pg.Sessions,
		redis.Server,
		redis.Health,
		kube.Pods,
		kube.Changes,
		kube.Resources,
		logs.Patterns,
	}
}

// Check returns an error naming every probe in list that lacks a name, title, backend or Run,
// or whose name another probe in list has too; nil means the list is sound.
func Check(list []probes.Probe) error {
	var errs []error
	seen := map[string]bool{}
	for i, p := range list {
		switch {
		case p.Name == "":
			errs = append(errs, fmt.Errorf("probe %d (%q) has no name", i, p.Title))
			continue
		case seen[p.Name]:
			errs = append(errs, fmt.Errorf("probe name %q is used twice", p.Name))
		}
		seen[p.Name] = true
		if p.Title == "" {
			errs = append(errs, fmt.Errorf("probe %q has no title", p.Name))
		}
		if p.Needs == "" {
			errs = append(errs, fmt.Errorf("probe %q names no backend", p.Name))
		}
		if p.Run == nil {
			errs = append(errs, fmt.Errorf("probe %q has no Run", p.Name))
		}
	}
	return errors.Join(errs...)
}

// Lookup returns the registered probe with the given name; an unknown name is an error.
func Lookup(name string) (probes.Probe, error) {
	for _, p := range Probes() {
		if p.Name == name {
			return p, nil
		}
	}
	return probes.Probe{}, fmt.Errorf("no probe named %q", name)
}
