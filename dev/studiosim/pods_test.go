package studiosim

import (
	"context"
	"math"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// fakeClock is a clock the test moves, so that counter rates are exact.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// podEnv is a simulator with a fake clock and its pods.
type podEnv struct {
	*testEnv
	clock *fakeClock
	pods  []string
}

const testNamespace = "perf-test"

func newPodEnv(t *testing.T) *podEnv {
	clock := newFakeClock()
	e := newTestEnv(t, func(o *Options) { o.Namespace, o.Now = testNamespace, clock.Now })
	return &podEnv{testEnv: e, clock: clock, pods: e.srv.Options().Pods}
}

// podSeries gathers one series per pod of the metric name, checking each has exactly the
// labels namespace, pod, container and extra.
func (e *podEnv) podSeries(t *testing.T, name string, extra map[string]string) map[string]float64 {
	t.Helper()
	mfs, err := e.srv.metrics.reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if !labelsMatch(m, extra) {
				continue
			}
			l := labelMap(m)
			if len(l) != 3+len(extra) || l["namespace"] != testNamespace || l["container"] != PodContainer {
				t.Errorf("%s has labels %v, want namespace=%s, pod, container=app and %v", name, l, testNamespace, extra)
			}
			out[l["pod"]] = sampleValue(m, false)
		}
	}
	if len(out) != len(e.pods) {
		t.Fatalf("%s%v: series for pods %v, want one for each of %v", name, extra, keys(out), e.pods)
	}
	return out
}

func labelMap(m *dto.Metric) map[string]string {
	l := map[string]string{}
	for _, lp := range m.GetLabel() {
		l[lp.GetName()] = lp.GetValue()
	}
	return l
}

func keys(m map[string]float64) []string {
	var k []string
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}

// cpuSample is the pods' CPU counters at one instant.
type cpuSample struct{ cpu, periods, throttled map[string]float64 }

func (e *podEnv) cpu(t *testing.T) cpuSample {
	t.Helper()
	return cpuSample{
		cpu:       e.podSeries(t, "container_cpu_usage_seconds_total", nil),
		periods:   e.podSeries(t, "container_cpu_cfs_periods_total", nil),
		throttled: e.podSeries(t, "container_cpu_cfs_throttled_periods_total", nil),
	}
}

// checkCPU checks each pod's CPU use between a and b (sec seconds apart) is within [lo, hi]
// of the limit and its throttled share of CFS periods within [tlo, thi].
func (e *podEnv) checkCPU(t *testing.T, a, b cpuSample, sec, lo, hi, tlo, thi float64) {
	t.Helper()
	limit := e.srv.Options().PodCPULimit
	for _, p := range e.pods {
		share := (b.cpu[p] - a.cpu[p]) / sec / limit
		periods := b.periods[p] - a.periods[p]
		throttled := (b.throttled[p] - a.throttled[p]) / periods
		if share < lo-1e-9 || share > hi+1e-9 {
			t.Errorf("pod %s used %.3f of its CPU limit, want [%g, %g]", p, share, lo, hi)
		}
		if math.Abs(periods-sec*10) > 1 {
			t.Errorf("pod %s: %g CFS periods in %gs, want %g", p, periods, sec, sec*10)
		}
		if throttled < tlo || throttled > thi {
			t.Errorf("pod %s: %.3f of CFS periods throttled, want [%g, %g]", p, throttled, tlo, thi)
		}
	}
}

// checkMemory checks each pod's working set share of its limit: want names the pods with a
// fixed share; the others must be healthy.
func (e *podEnv) checkMemory(t *testing.T, want map[string]float64) {
	t.Helper()
	limit := float64(e.srv.Options().PodMemoryLimit)
	for p, v := range e.podSeries(t, "container_memory_working_set_bytes", nil) {
		share := v / limit
		if w, ok := want[p]; ok {
			if v != math.Round(w*limit) {
				t.Errorf("pod %s working set %.0f bytes (%.3f of limit), want %.3f", p, v, share, w)
			}
		} else if share < 0.30 || share > 0.45 {
			t.Errorf("pod %s working set at %.3f of its limit, want a healthy 0.30-0.45", p, share)
		}
	}
}

func TestPodSeriesHealthy(t *testing.T) {
	e := newPodEnv(t)
	if len(e.pods) != 3 || !strings.HasPrefix(e.pods[0], DefaultDeployment+"-") {
		t.Fatalf("default pods %v, want 3 named %s-<hash>-<suffix>", e.pods, DefaultDeployment)
	}
	for _, p := range e.pods {
		parts := strings.Split(strings.TrimPrefix(p, DefaultDeployment+"-"), "-")
		if len(parts) != 2 || len(parts[0]) != 9 || len(parts[1]) != 5 {
			t.Errorf("pod name %q, want %s-<9 chars>-<5 chars>", p, DefaultDeployment)
		}
	}
	want := []struct {
		name  string
		extra map[string]string
		value float64
	}{
		{"container_spec_memory_limit_bytes", nil, 512 << 20},
		{"container_spec_cpu_quota", nil, 50000},
		{"container_spec_cpu_period", nil, 100000},
		{"kube_pod_container_resource_limits", map[string]string{"resource": "memory", "unit": "byte"}, 512 << 20},
		{"kube_pod_container_resource_limits", map[string]string{"resource": "cpu", "unit": "core"}, 0.5},
	}
	for _, w := range want {
		for p, v := range e.podSeries(t, w.name, w.extra) {
			if v != w.value {
				t.Errorf("%s%v{pod=%s} = %g, want %g", w.name, w.extra, p, v, w.value)
			}
		}
	}
	e.checkMemory(t, nil)
	a := e.cpu(t)
	e.clock.Advance(10 * time.Second)
	e.checkCPU(t, a, e.cpu(t), 10, healthyMinCPU, healthyMaxCPU, 0, 0)

	code, body, _ := e.do(t, http.MethodGet, "/metrics", "")
	line := `container_memory_working_set_bytes{container="app",namespace="perf-test",pod="` + e.pods[2] + `"} `
	if code != http.StatusOK || !strings.Contains(body, line) {
		t.Errorf("/metrics (%d) lacks %s", code, line)
	}
}

func TestPodMemoryFault(t *testing.T) {
	e := newPodEnv(t)
	e.inject(t, Fault{Kind: KindPodMemory, Pod: "1"})
	list, err := e.client.List(context.Background())
	if err != nil || len(list) != 1 || list[0].Pod != e.pods[1] || list[0].Rate != 0.95 {
		t.Fatalf("List = %+v (%v), want pod %s at the default rate 0.95", list, err, e.pods[1])
	}
	e.checkMemory(t, map[string]float64{e.pods[1]: 0.95})
	if g := e.metric(t, "studiosim_faults_active", map[string]string{"kind": "pod_memory"}); g != 1 {
		t.Errorf("studiosim_faults_active{kind=pod_memory} = %g, want 1", g)
	}
	if !strings.Contains(e.logs.String(), "kind=pod_memory rate=0.95 pod="+e.pods[1]) {
		t.Errorf("no `fault injected ... kind=pod_memory rate=0.95 pod=...` line in the log:\n%s", e.logs)
	}

	// By name, and by index as a JSON number.
	e.inject(t, Fault{Kind: KindPodMemory, Pod: e.pods[2], Rate: 0.88})
	if code, body, _ := e.do(t, http.MethodPost, "/admin/faults", `{"kind":"pod_memory","pod":0,"rate":0.9}`); code != http.StatusCreated ||
		!strings.Contains(body, `"pod":"`+e.pods[0]+`"`) {
		t.Fatalf("inject with a numeric pod = %d %s", code, body)
	}
	e.checkMemory(t, map[string]float64{e.pods[0]: 0.9, e.pods[1]: 0.95, e.pods[2]: 0.88})

	if code, _, _ := e.do(t, http.MethodDelete, "/admin/faults", ""); code != http.StatusNoContent {
		t.Fatalf("DELETE /admin/faults = %d", code)
	}
	e.checkMemory(t, nil)
	if g := e.metric(t, "studiosim_faults_active", map[string]string{"kind": "pod_memory"}); g != 0 {
		t.Errorf("studiosim_faults_active{kind=pod_memory} = %g after clear", g)
	}
}

func TestPodCPUFault(t *testing.T) {
	e := newPodEnv(t)
	a := e.cpu(t)
	e.clock.Advance(10 * time.Second)
	e.inject(t, Fault{Kind: KindPodCPU})
	b := e.cpu(t)
	e.checkCPU(t, a, b, 10, healthyMinCPU, healthyMaxCPU, 0, 0) // the healthy use up to the injection
	e.clock.Advance(20 * time.Second)
	c := e.cpu(t)
	e.checkCPU(t, b, c, 20, 0.98, 0.98, 0.8, 0.9)
	e.checkMemory(t, nil)

	if err := e.client.ClearAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	d := e.cpu(t)
	e.clock.Advance(10 * time.Second)
	e.checkCPU(t, d, e.cpu(t), 10, healthyMinCPU, healthyMaxCPU, 0, 0)
}

func TestPodCPUFollowsTraffic(t *testing.T) {
	clock := newFakeClock()
	o := Options{Namespace: "ns", Now: clock.Now}
	o.applyPodDefaults()
	p := newPodSim(o, func() *effects { return noEffects })
	use := func() float64 {
		before := p.pods[0].cpuSeconds
		clock.Advance(10 * time.Second)
		p.advance()
		return (p.pods[0].cpuSeconds - before) / 10 / o.PodCPULimit
	}
	if u := use(); math.Abs(u-cpuBases[0]) > jitter+1e-9 {
		t.Errorf("idle pod uses %.3f of its limit, want %.2f±%.2f", u, cpuBases[0], jitter)
	}
	p.requests.Add(3000) // 300 requests per second for 10 s
	if u, want := use(), cpuBases[0]+maxLoadCPUShare; math.Abs(u-want) > jitter+1e-9 {
		t.Errorf("busy pod uses %.3f of its limit, want %.2f±%.2f", u, want, jitter)
	}
}

func TestCrewAIFailuresOneAgent(t *testing.T) {
	e := newTestEnv(t, nil)
	tasks := func() map[string]float64 {
		m := map[string]float64{}
		for _, a := range agents {
			for _, s := range []string{"success", "error"} {
				m[a+"/"+s] = e.metric(t, "crewai_tasks_total", map[string]string{"agent": a, "status": s})
			}
		}
		return m
	}
	for i, agent := range agents {
		t.Run(agent, func(t *testing.T) {
			id := e.inject(t, Fault{Kind: KindCrewAIFailures, Rate: 1, Agent: agent})
			before := tasks()
			if r := e.runCrew(t); r.Status != "error" || r.Tasks != i {
				t.Fatalf("crew with %s failing = %+v, want an error after %d tasks", agent, r, i)
			}
			after := tasks()
			for j, a := range agents {
				wantOK, wantErr := 0.0, 0.0
				switch {
				case j < i:
					wantOK = 1
				case j == i:
					wantErr = 1
				}
				if d := after[a+"/success"] - before[a+"/success"]; d != wantOK {
					t.Errorf("crewai_tasks_total{agent=%s,status=success} grew by %g, want %g", a, d, wantOK)
				}
				if d := after[a+"/error"] - before[a+"/error"]; d != wantErr {
					t.Errorf("crewai_tasks_total{agent=%s,status=error} grew by %g, want %g", a, d, wantErr)
				}
			}
			if !strings.Contains(e.logs.String(), "kind=crewai_failures rate=1 agent="+agent) ||
				!strings.Contains(e.logs.String(), "ERROR crewai task failed agent="+agent) {
				t.Errorf("no `fault injected ... agent=%s` or `crewai task failed agent=%s` line in the log", agent, agent)
			}
			if err := e.client.Clear(context.Background(), id); err != nil {
				t.Fatal(err)
			}
			if r := e.runCrew(t); r.Status != "success" || r.Tasks != 3 {
				t.Errorf("crew after clear = %+v", r)
			}
		})
	}
}

func TestCrewAIFailuresCombine(t *testing.T) {
	e := newTestEnv(t, nil)
	e.inject(t, Fault{Kind: KindCrewAIFailures, Rate: 0.5})
	e.inject(t, Fault{Kind: KindCrewAIFailures, Rate: 0.5, Agent: "writer"})
	eff := e.srv.faults.effects()
	if w, r := eff.crewFailure("writer"), eff.crewFailure("reviewer"); w != 0.75 || r != 0.5 {
		t.Errorf("failure rates writer %g, reviewer %g; want 0.75 and 0.5", w, r)
	}
}
