// Package probes is the engine of perfbot's read-only checks: a Probe is a named function value that
// looks at one backend through an Env and returns a typed Result; the Runner runs probes concurrently
// under deadlines and the Coalescer shares identical runs. The probes themselves live in one
// subpackage per backend (prom, health, pg, redis, kube, logs), and probes/all lists them.
// Probes know nothing about Slack or how results are shown.
package probes

import (
	"context"
	"math"
	"time"
)

// Status is a probe's or a finding's verdict. Larger is worse, except Unknown, which ranks between OK and Warn.
type Status int

// The statuses, in rising order of concern.
const (
	OK Status = iota
	Unknown
	Warn
	Crit
)

// String returns the status as users read it.
func (s Status) String() string {
	switch s {
	case OK:
		return "OK"
	case Warn:
		return "WARN"
	case Crit:
		return "CRIT"
	default:
		return "UNKNOWN"
	}
}

// Worst returns the more concerning of two statuses.
func Worst(a, b Status) Status {
	if b > a {
		return b
	}
	return a
}

// Finding is one measured fact compared with its threshold.
type Finding struct {
	// Check names the trigger or diagnostic, e.g. "API p95 latency".
	Check   string
	Status  Status
	Subject string // what it is about, e.g. "/api/ideas"; empty for the whole service
	// Value and Threshold are in Unit. Threshold is zero when there is none.
	Value     float64
	Threshold float64
	Unit      string
	// Message is one line a person reads, with the numbers in it.
	Message string

	// Signal says what the finding measures, for diagnosis (empty: not reasoned about).
	Signal Signal
	// LowerIsWorse is set where a value below the threshold is the breach (pods ready, hit ratio).
	LowerIsWorse bool
	// Onset is when the breach began, where a range query or an object says (zero: unknown).
	Onset time.Time
	// Baseline is the same measure a day and a week ago; nil when it was not looked up.
	Baseline *Baseline
	// Evidence names where the numbers came from: a query, a pid and its statement, an object.
	Evidence string
}

// Severity ranks a finding: status first, then its Magnitude. Findings of different checks compare
// soundly: a magnitude is a log-scale distance from the threshold, not a raw ratio of two units.
func (f Finding) Severity() float64 {
	return float64(f.Status)*100 + f.Magnitude()
}

// Magnitude says how far past its threshold a finding is, on one scale for every metric: log2 of
// the breach ratio (value/threshold, or threshold/value where lower is worse), from 0 to 10. A CRIT
// with no threshold (OOMKilled, a target down, health failing) is a definite breach and counts as
// 4× its threshold; a WARN without one as 1.5×. A breach no larger than the service's own normal
// for this hour (its Baseline) counts for less than one that has just departed from normal.
func (f Finding) Magnitude() float64 {
	if f.Status < Warn {
		return 0
	}
	ratio := 0.0
	switch {
	case f.Threshold > 0 && f.LowerIsWorse && f.Value <= 0:
		ratio = 1024
	case f.Threshold > 0 && f.LowerIsWorse:
		ratio = f.Threshold / f.Value
	case f.Threshold > 0:
		ratio = f.Value / f.Threshold
	case f.Status == Crit:
		ratio = 4
	default:
		ratio = 1.5
	}
	m := 0.0
	if ratio > 1 {
		m = math.Log2(ratio)
	}
	if m > 10 {
		m = 10
	}
	if f.Baseline != nil && f.Baseline.Known() && !f.LowerIsWorse {
		switch factor := f.Baseline.Factor(f.Value); {
		case factor > 0 && factor < 1.5:
			m /= 4 // normal for this hour: a standing condition, not what changed
		case factor >= 3 || f.Baseline.Normal() == 0:
			m += 1 // departed from normal
		}
	}
	return m
}

// Table is rows of cells with a header row.
type Table struct {
	Title   string
	Columns []string
	Rows    [][]string
}

// Point is one sample of a time series.
type Point struct {
	T time.Time
	V float64
}

// Series is one line of a chart.
type Series struct {
	Name   string
	Points []Point
}

// Chart is a set of series over time, with an optional threshold line.
type Chart struct {
	Title     string
	Unit      string
	Threshold float64 // drawn when non-zero
	Series    []Series
}

// Result is what one probe saw.
type Result struct {
	Probe    string
	Title    string
	Status   Status
	Summary  string
	Findings []Finding
	Tables   []Table
	Charts   []Chart
	Duration time.Duration
	// Err is why the probe could not look (unreachable, timed out, not configured); Status is Unknown then.
	Err error
	// TimedOut is true when the probe's own deadline or the command's deadline fired first.
	TimedOut bool
}

// Add appends a finding and raises the result's status to match.
func (r *Result) Add(f Finding) {
	r.Findings = append(r.Findings, f)
	r.Status = Worst(r.Status, f.Status)
}

// Func is a probe: a read-only look at one backend under ctx's deadline.
// It returns what it saw; an error means it could not look.
type Func func(ctx context.Context, env *Env) (Result, error)

// Probe is a named probe.
type Probe struct {
	Name  string
	Title string
	// Needs is the backend the probe reads; a service without it skips the probe.
	Needs Backend
	// Variant tells apart runs of one probe with different arguments (e.g. a log pattern), so that
	// shared runs (Coalescer) never mix them up.
	Variant string
	Run     Func
}

// Backend names what a probe reads.
type Backend string

// The backends probes read.
const (
	NeedsPrometheus Backend = "prometheus"
	NeedsHTTP       Backend = "http"
	NeedsPostgres   Backend = "postgres"
	NeedsRedis      Backend = "redis"
	NeedsKube       Backend = "kubernetes"
)
