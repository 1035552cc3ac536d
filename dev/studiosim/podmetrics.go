package studiosim

import (
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The simulated pods' resource model: shares of the limits a healthy pod uses, and how the
// built-in traffic and the pod faults move them.
const (
	cfsPeriod       = 100 * time.Millisecond // the kernel's default CFS period
	cpuPerRequest   = 0.005                  // core-seconds one API request costs
	maxLoadCPUShare = 0.10                   // traffic adds at most this share of the CPU limit
	healthyMaxCPU   = 0.30                   // a healthy pod's CPU stays within [0.10, 0.30] of its limit
	healthyMinCPU   = 0.10
	jitter          = 0.01      // ± share of the limit
	throttleFrom    = 0.85      // CPU share of the limit above which periods get throttled
	rpsWindow       = 10.0      // seconds over which the request rate is smoothed
	cfsPeriodMicros = 100_000.0 // container_spec_cpu_period
)

var (
	cpuBases = []float64{0.12, 0.15, 0.18} // healthy CPU share of the limit, by pod index mod 3
	memBases = []float64{0.34, 0.38, 0.42} // healthy working-set share of the limit, likewise
)

// podState is one simulated pod's counters.
type podState struct {
	name                          string
	cpuBase, memBase              float64
	cpuSeconds, periods, throttle float64
}

// podSim serves the simulated pods' cAdvisor and kube-state-metrics series. Counters advance at
// each scrape and whenever a fault changes, at the CPU use in effect since the last advance.
type podSim struct {
	namespace string
	memLimit  float64 // bytes
	cpuLimit  float64 // cores
	now       func() time.Time
	effects   func() *effects
	requests  atomic.Int64 // API requests served, for the traffic's share of CPU

	mu       sync.Mutex
	pods     []podState
	last     time.Time
	lastReqs int64
	rps      float64

	memUsage, cpuUsage, memLimitD, quotaD, periodD, periodsD, throttledD, kubeLimitD *prometheus.Desc
}

func newPodSim(o Options, eff func() *effects) *podSim {
	p := &podSim{namespace: o.Namespace, memLimit: float64(o.PodMemoryLimit), cpuLimit: o.PodCPULimit,
		now: o.Now, effects: eff, last: o.Now()}
	for i, name := range o.Pods {
		p.pods = append(p.pods, podState{name: name, cpuBase: cpuBases[i%3], memBase: memBases[i%3]})
	}
	l := []string{"namespace", "pod", "container"}
	d := func(name, help string, labels []string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	p.memUsage = d("container_memory_working_set_bytes", "Current working set of the container in bytes.", l)
	p.cpuUsage = d("container_cpu_usage_seconds_total", "Cumulative cpu time consumed in seconds.", l)
	p.memLimitD = d("container_spec_memory_limit_bytes", "Memory limit for the container.", l)
	p.quotaD = d("container_spec_cpu_quota", "CPU quota of the container.", l)
	p.periodD = d("container_spec_cpu_period", "CPU period of the container.", l)
	p.periodsD = d("container_cpu_cfs_periods_total", "Number of elapsed enforcement period intervals.", l)
	p.throttledD = d("container_cpu_cfs_throttled_periods_total", "Number of throttled period intervals.", l)
	p.kubeLimitD = d("kube_pod_container_resource_limits", "The number of requested limit resource by a container.",
		append(l, "resource", "unit"))
	return p
}

// cpuShare is the pod's CPU use as a share of its limit under e.
func (p *podSim) cpuShare(ps *podState, e *effects) float64 {
	if e.podCPU > 0 {
		return e.podCPU
	}
	load := min(maxLoadCPUShare, p.rps/float64(len(p.pods))*cpuPerRequest/p.cpuLimit)
	return clamp(ps.cpuBase+load+(rand.Float64()*2-1)*jitter, healthyMinCPU, healthyMaxCPU)
}

// memShare is the pod's working set as a share of its limit under e.
func (p *podSim) memShare(ps *podState, e *effects) float64 {
	if r, ok := e.podMemory[ps.name]; ok {
		return r
	}
	return ps.memBase + (rand.Float64()*2-1)*jitter
}

// throttleShare is the share of CFS periods throttled at a CPU share u of the limit.
func throttleShare(u float64) float64 { return clamp((u-throttleFrom)/(1-throttleFrom), 0, 1) }

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

// advance brings the counters up to now at the CPU use of the effects in force until now.
func (p *podSim) advance() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.advanceLocked()
}

func (p *podSim) advanceLocked() {
	now := p.now()
	dt := now.Sub(p.last).Seconds()
	if dt <= 0 {
		return
	}
	reqs := p.requests.Load()
	p.rps += (1 - math.Exp(-dt/rpsWindow)) * (float64(reqs-p.lastReqs)/dt - p.rps)
	e := p.effects()
	periods := dt / cfsPeriod.Seconds()
	for i := range p.pods {
		ps := &p.pods[i]
		u := p.cpuShare(ps, e)
		ps.cpuSeconds += u * p.cpuLimit * dt
		ps.periods += periods
		ps.throttle += periods * throttleShare(u)
	}
	p.last, p.lastReqs = now, reqs
}

// Describe sends the descriptors of every series.
func (p *podSim) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{p.memUsage, p.cpuUsage, p.memLimitD, p.quotaD, p.periodD,
		p.periodsD, p.throttledD, p.kubeLimitD} {
		ch <- d
	}
}

// Collect advances the counters and sends every pod's series.
func (p *podSim) Collect(ch chan<- prometheus.Metric) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.advanceLocked()
	e := p.effects()
	gauge, counter := prometheus.GaugeValue, prometheus.CounterValue
	for i := range p.pods {
		ps := &p.pods[i]
		l := []string{p.namespace, ps.name, PodContainer}
		m := func(d *prometheus.Desc, t prometheus.ValueType, v float64, extra ...string) {
			ch <- prometheus.MustNewConstMetric(d, t, v, append(l, extra...)...)
		}
		m(p.memUsage, gauge, math.Round(p.memShare(ps, e)*p.memLimit))
		m(p.cpuUsage, counter, ps.cpuSeconds)
		m(p.memLimitD, gauge, p.memLimit)
		m(p.quotaD, gauge, math.Round(p.cpuLimit*cfsPeriodMicros))
		m(p.periodD, gauge, cfsPeriodMicros)
		m(p.periodsD, counter, math.Floor(ps.periods))
		m(p.throttledD, counter, math.Floor(ps.throttle))
		m(p.kubeLimitD, gauge, p.memLimit, "memory", "byte")
		m(p.kubeLimitD, gauge, p.cpuLimit, "cpu", "core")
	}
}
