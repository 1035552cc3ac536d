package studiosim

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Histogram buckets: HTTP latency resolves 5 ms to 10 s; agent tasks and LLM calls run for seconds.
var (
	httpBuckets   = []float64{.005, .01, .025, .05, .1, .2, .3, .5, .75, 1, 1.5, 2, 3, 5, 10}
	taskBuckets   = []float64{.1, .25, .5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 60, 120}
	openaiBuckets = []float64{.05, .1, .25, .5, .75, 1, 1.5, 2, 3, 5, 7.5, 10, 15, 20, 30, 60}
)

// The AI providers and agents the simulated crew uses.
const (
	providerOpenAI    = "openai"
	providerAnthropic = "anthropic"
)

var agents = []string{"researcher", "writer", "reviewer"}

// metrics are the runbook's series plus a few that show the simulator's own state.
type metrics struct {
	reg *prometheus.Registry

	reqDuration   *prometheus.HistogramVec // endpoint, method, status
	reqTotal      *prometheus.CounterVec   // endpoint, method, status
	crewTasks     *prometheus.CounterVec   // agent, status
	crewDuration  *prometheus.HistogramVec // agent
	aiCalls       *prometheus.CounterVec   // provider
	openaiDur     *prometheus.HistogramVec // model
	openaiErrors  *prometheus.CounterVec   // type
	faultsActive  *prometheus.GaugeVec     // kind
	retainedBytes prometheus.Gauge
	loadSkipped   prometheus.Counter
}

func newMetrics(pool *pgxpool.Pool) *metrics {
	reg := prometheus.NewRegistry()
	f := func(c prometheus.Collector) { reg.MustRegister(c) }
	m := &metrics{reg: reg}
	m.reqDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "http_request_duration_seconds", Help: "HTTP request latency by endpoint, method and status.",
		Buckets: httpBuckets}, []string{"endpoint", "method", "status"})
	m.reqTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "http_requests_total", Help: "HTTP requests by endpoint, method and status."},
		[]string{"endpoint", "method", "status"})
	m.crewTasks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "crewai_tasks_total", Help: "CrewAI agent tasks by agent and outcome (success or error)."},
		[]string{"agent", "status"})
	m.crewDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "crewai_task_duration_seconds", Help: "CrewAI agent task duration by agent.",
		Buckets: taskBuckets}, []string{"agent"})
	m.aiCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ai_api_calls_total", Help: "Calls to AI provider APIs, including failed attempts."},
		[]string{"provider"})
	m.openaiDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "openai_api_duration_seconds", Help: "OpenAI API call latency by model.",
		Buckets: openaiBuckets}, []string{"model"})
	m.openaiErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "openai_api_errors_total", Help: "Failed OpenAI API calls by error type."},
		[]string{"type"})
	m.faultsActive = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "studiosim_faults_active", Help: "Injected faults currently in effect, by kind."},
		[]string{"kind"})
	m.retainedBytes = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "studiosim_retained_memory_bytes", Help: "Memory held by memory_growth faults."})
	m.loadSkipped = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "studiosim_load_skipped_total", Help: "Built-in load requests skipped because too many were in flight."})
	for _, c := range []prometheus.Collector{m.reqDuration, m.reqTotal, m.crewTasks, m.crewDuration,
		m.aiCalls, m.openaiDur, m.openaiErrors, m.faultsActive, m.retainedBytes, m.loadSkipped} {
		f(c)
	}
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f(collectors.NewGoCollector())
	m.registerPool(pool)
	m.initSeries()
	return m
}

// initSeries creates the labelled series at zero so that rate() works from the first scrape.
func (m *metrics) initSeries() {
	for _, a := range agents {
		m.crewTasks.WithLabelValues(a, "success")
		m.crewTasks.WithLabelValues(a, "error")
	}
	m.aiCalls.WithLabelValues(providerOpenAI)
	m.aiCalls.WithLabelValues(providerAnthropic)
	for _, t := range []string{errRateLimit, errServer, errTimeout} {
		m.openaiErrors.WithLabelValues(t)
	}
	for _, k := range Kinds {
		m.faultsActive.WithLabelValues(string(k))
	}
}

// registerPool exports the app's connection pool usage.
func (m *metrics) registerPool(pool *pgxpool.Pool) {
	gauge := func(name, help string, v func(*pgxpool.Stat) float64) {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help},
			func() float64 { return v(pool.Stat()) }))
	}
	gauge("db_pool_max_connections", "Size of the app's PostgreSQL connection pool.",
		func(s *pgxpool.Stat) float64 { return float64(s.MaxConns()) })
	gauge("db_pool_acquired_connections", "Pool connections in use.",
		func(s *pgxpool.Stat) float64 { return float64(s.AcquiredConns()) })
	gauge("db_pool_idle_connections", "Pool connections idle in the pool.",
		func(s *pgxpool.Stat) float64 { return float64(s.IdleConns()) })
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "db_pool_acquire_wait_seconds_total", Help: "Time spent waiting for a pool connection."},
		func() float64 { return pool.Stat().AcquireDuration().Seconds() }))
}
