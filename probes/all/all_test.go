package all

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/perfbot/perfbot/internal/probetest"
	"github.com/perfbot/perfbot/probes"
)

// TestRegisterIsSound: every probe has a unique name, a title, a backend and a Run, and none of the
// runbook's probes is missing.
func TestRegisterIsSound(t *testing.T) {
	if err := Check(Probes()); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range Probes() {
		names = append(names, p.Name)
	}
	want := []string{"health", "targets", "api_latency", "api_errors", "slow_endpoints", "scope", "crewai", "ai",
		"node", "process_memory", "pod_resources", "postgres", "db_query_time", "db_sessions", "redis", "redis_health", "kube_pods", "kube_changes", "kube_resources", "logs"}
	if !slices.Equal(names, want) {
		t.Errorf("registered probes = %q, want %q", names, want)
	}
}

func TestCheckFindsUnsoundProbes(t *testing.T) {
	run := func(context.Context, *probes.Env) (probes.Result, error) { return probes.Result{}, nil }
	ok := probes.Probe{Name: "a", Title: "A", Needs: probes.NeedsHTTP, Run: run}
	for _, tt := range []struct {
		name string
		list []probes.Probe
		want string
	}{
		{"no name", []probes.Probe{ok, {Title: "B", Needs: probes.NeedsHTTP, Run: run}}, "no name"},
		{"twice", []probes.Probe{ok, ok}, `"a" is used twice`},
		{"no title", []probes.Probe{{Name: "b", Needs: probes.NeedsHTTP, Run: run}}, "no title"},
		{"no backend", []probes.Probe{{Name: "b", Title: "B", Run: run}}, "no backend"},
		{"no run", []probes.Probe{{Name: "b", Title: "B", Needs: probes.NeedsHTTP}}, "no Run"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := Check(tt.list); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Check = %v, want an error saying %q", err, tt.want)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	if p, err := Lookup("db_query_time"); err != nil || p.Title != "DB query time" {
		t.Errorf("Lookup(db_query_time) = %+v, %v", p, err)
	}
	if _, err := Lookup("db_querytime"); err == nil {
		t.Error("an unknown name was found")
	}
}

// TestKubeProbesAsBot runs every Kubernetes probe with the bot's own credentials: its Role is enough for them.
func TestKubeProbesAsBot(t *testing.T) {
	bot := probetest.KubeClient(t, "perfbot")
	env := probetest.KubeEnv(bot, "agentic-studio", "agentic-studio")
	n := 0
	for _, p := range Probes() {
		if p.Needs != probes.NeedsKube {
			continue
		}
		n++
		t.Run(p.Name, func(t *testing.T) {
			res, err := p.Run(context.Background(), env)
			if err != nil {
				t.Fatalf("%s as perfbot: %v", p.Name, err)
			}
			if len(res.Tables) == 0 {
				t.Errorf("%s returned no tables: %+v", p.Name, res)
			}
		})
	}
	if n < 4 {
		t.Errorf("ran %d Kubernetes probes, want pods, changes, resources and logs", n)
	}
}
