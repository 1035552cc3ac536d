package handlers

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/perfbot/perfbot/probes"
	"github.com/perfbot/perfbot/probes/all"
	"github.com/perfbot/perfbot/probes/logs"
)

// registered returns why p is not the registered probe of its name: unknown, another title or
// backend, or another function (unless p is a Variant, which runs the probe with arguments).
func registered(p probes.Probe, register []probes.Probe) string {
	for _, r := range register {
		if r.Name != p.Name {
			continue
		}
		switch {
		case p.Title != r.Title || p.Needs != r.Needs:
			return "differs from the registered probe " + r.Name
		case p.Run == nil:
			return "has no Run"
		case p.Variant == "" && reflect.ValueOf(p.Run).Pointer() != reflect.ValueOf(r.Run).Pointer():
			return "runs another function than the registered probe " + r.Name
		}
		return ""
	}
	return "is not registered"
}

// commandProbes is every probe each command runs; the logs command runs logs.Search.
func commandProbes() map[string][]probes.Probe {
	m := map[string][]probes.Probe{}
	for _, pc := range probeCommands {
		m[pc.name] = pc.probes
	}
	m["logs"] = []probes.Probe{logs.Search("", time.Hour), logs.Search("timeout|connection", 30*time.Minute)}
	return m
}

// TestCommandProbesAreRegistered: every probe a command runs is the registered probe of its name, the
// register is sound (unique non-empty names, titles, backends and Runs), and every registered probe is
// run by some command.
func TestCommandProbesAreRegistered(t *testing.T) {
	register := all.Probes()
	if err := all.Check(register); err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for cmd, list := range commandProbes() {
		if len(list) == 0 {
			t.Errorf("/perf %s runs no probe", cmd)
		}
		for _, p := range list {
			if why := registered(p, register); why != "" {
				t.Errorf("/perf %s: probe %q %s", cmd, p.Name, why)
			}
			used[p.Name] = true
		}
	}
	for _, p := range register {
		if !used[p.Name] {
			t.Errorf("registered probe %q is run by no command", p.Name)
		}
	}

	// The check itself catches a misspelt name and a probe that only borrows a registered name.
	other := func(context.Context, *probes.Env) (probes.Result, error) { return probes.Result{}, nil }
	latency, err := all.Lookup("api_latency")
	if err != nil {
		t.Fatal(err)
	}
	misspelt := latency
	misspelt.Name = "api_latnecy"
	borrowed := latency
	borrowed.Run = other
	for _, c := range []struct {
		p    probes.Probe
		want string
	}{{misspelt, "is not registered"}, {borrowed, "runs another function"}} {
		if why := registered(c.p, register); !strings.Contains(why, c.want) {
			t.Errorf("probe %q: %q, want %q", c.p.Name, why, c.want)
		}
	}
}
