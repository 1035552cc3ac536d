// Package probes is the engine of perfbot's read-only checks: a Probe is a named function value that
// looks at one backend through an Env and returns a typed Result; the Runner runs probes concurrently
// under deadlines and the Coalescer shares identical runs. The probes themselves live in one
// subpackage per backend (prom, health, pg, redis, kube, logs), and probes/all lists them.
// Probes know nothing about Slack or how results are shown.
package probes

import (
	"context"
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
}

// Severity ranks a finding: status first, then how far past the threshold it is.
func (f Finding) Severity() float64 {
	ratio := 0.0
	if f.Threshold > 0 {
		ratio = f.Value / f.Threshold
		if ratio > 1000 {
			ratio = 1000
		}
	}
	return float64(f.Status)*10000 + ratio
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
