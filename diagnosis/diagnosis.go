// Package diagnosis turns an assessment's findings into an explanation: which finding is the most
// likely cause, which symptoms it explains, and everything else ranked below them. It sits between
// the probes and the report and knows nothing of where the report is shown.
package diagnosis

import (
	"fmt"
	"sort"
	"time"

	"github.com/perfbot/perfbot/probes"
)

// Diagnosis is what the findings say together.
type Diagnosis struct {
	// Cause is the most likely cause, nil when no finding explains a breach.
	Cause *probes.Finding
	// Why says how the cause produces its symptoms, e.g. "sessions wait for its lock".
	Why string
	// Explains are the breaches the cause explains, directly or through another cause, worst first.
	Explains []probes.Finding
	// Unexplained is the worst breach no cause explains, nil when there is none or a cause was found
	// for the worst one.
	Unexplained *probes.Finding
	// Ranked is every finding: the cause, the symptoms it explains, then the rest by severity.
	Ranked []probes.Finding
}

// serviceWide are causes that slow every endpoint alike: they do not explain a breach limited to
// specific endpoints (nor the service-wide figure such a breach drags up).
var serviceWide = map[probes.Signal]bool{probes.SigNodeCPU: true, probes.SigNodeMemory: true,
	probes.SigPodCPU: true, probes.SigReplicas: true}

// Diagnose ranks findings and picks the most likely cause.
func Diagnose(findings []probes.Finding) Diagnosis {
	ranked := append([]probes.Finding(nil), findings...)
	sort.SliceStable(ranked, func(i, j int) bool { return ranked[i].Severity() > ranked[j].Severity() })
	g := newGraph(ranked)
	best := g.bestCause()
	d := Diagnosis{}
	if best < 0 {
		d.Ranked = ranked
		for i, f := range ranked {
			if f.Status >= probes.Warn && !isCause(f.Signal) {
				d.Unexplained = &ranked[i]
				break
			}
		}
		return d
	}
	cause := ranked[best]
	d.Cause, d.Why = &cause, g.why[best]
	seen := map[int]bool{best: true}
	for _, i := range g.closure(best) {
		d.Explains = append(d.Explains, ranked[i])
		seen[i] = true
	}
	sort.SliceStable(d.Explains, func(i, j int) bool { return d.Explains[i].Severity() > d.Explains[j].Severity() })
	d.Ranked = append(append([]probes.Finding{cause}, d.Explains...), without(ranked, seen)...)
	return d
}

func without(fs []probes.Finding, drop map[int]bool) []probes.Finding {
	var out []probes.Finding
	for i, f := range fs {
		if !drop[i] {
			out = append(out, f)
		}
	}
	return out
}

// graph holds which finding explains which, by index into the ranked findings.
type graph struct {
	fs    []probes.Finding
	edges map[int][]int
	why   map[int]string
	// explained marks findings that another cause candidate explains (they are not roots).
	explained map[int]bool
}

func newGraph(fs []probes.Finding) *graph {
	g := &graph{fs: fs, edges: map[int][]int{}, why: map[int]string{}, explained: map[int]bool{}}
	specific := scopeIsSpecific(fs)
	for i, c := range fs {
		if !candidate(c) {
			continue
		}
		for j, s := range fs {
			if i == j || s.Status < probes.Warn {
				continue
			}
			if specific && serviceWide[c.Signal] && (s.Signal == probes.SigLatency || s.Signal == probes.SigErrors) {
				continue
			}
			if why, ok := explains(c, s); ok {
				g.edges[i] = append(g.edges[i], j)
				if g.why[i] == "" {
					g.why[i] = why
				}
				if candidate(s) {
					g.explained[j] = true
				}
			}
		}
	}
	return g
}

// candidate reports whether f may be named as a cause: a breach of a cause signal, or a change.
func candidate(f probes.Finding) bool {
	return isCause(f.Signal) && (f.Status >= probes.Warn || (isChange(f.Signal) && !f.Onset.IsZero()))
}

// closure lists every finding i explains, directly or through the causes it explains.
func (g *graph) closure(i int) []int {
	seen := map[int]bool{i: true}
	var out []int
	var walk func(int)
	walk = func(k int) {
		for _, j := range g.edges[k] {
			if !seen[j] {
				seen[j] = true
				out = append(out, j)
				walk(j)
			}
		}
	}
	walk(i)
	return out
}

// bestCause picks the cause candidate that explains the most serious breach; among equals a root
// (a cause no other candidate explains) before what it causes, then the one that explains more,
// then the more severe, then (for changes) the latest before the breach. It returns -1 when no
// candidate explains any breach.
func (g *graph) bestCause() int {
	best, bestKey := -1, [5]float64{}
	for i := range g.fs {
		cl := g.closure(i)
		if len(cl) == 0 {
			continue
		}
		worst := g.fs[i].Status
		if isChange(g.fs[i].Signal) {
			worst = probes.OK // a change is not itself a breach
		}
		for _, j := range cl {
			worst = probes.Worst(worst, g.fs[j].Status)
		}
		root := 1.0
		if g.explained[i] {
			root = 0
		}
		latest := 0.0
		if isChange(g.fs[i].Signal) {
			latest = float64(g.fs[i].Onset.Unix())
		}
		key := [5]float64{float64(worst), root, float64(len(cl)), g.fs[i].Severity(), latest}
		if best < 0 || less(bestKey, key) {
			best, bestKey = i, key
		}
	}
	return best
}

func less(a, b [5]float64) bool {
	for k := range a {
		if a[k] != b[k] {
			return a[k] < b[k]
		}
	}
	return false
}

// scopeIsSpecific reports whether the scope check found the breach limited to specific endpoints.
func scopeIsSpecific(fs []probes.Finding) bool {
	for _, f := range fs {
		if f.Signal == probes.SigScope && f.Status >= probes.Warn {
			return f.Subject == "specific endpoints"
		}
	}
	return false
}

// Notes says how far a breach is from the service's own normal and when it began, e.g.
// ", 4.1× yesterday, since 12:03 UTC"; empty for findings that are not breaches.
func Notes(f probes.Finding, loc *time.Location) string {
	if f.Status < probes.Warn {
		return ""
	}
	s := ""
	if f.Baseline != nil {
		s += baselineNote(f.Value, *f.Baseline)
	}
	if !f.Onset.IsZero() && !isChange(f.Signal) {
		if loc == nil {
			loc = time.UTC
		}
		s += ", since " + f.Onset.In(loc).Format("15:04 MST")
	}
	return s
}

// baselineNote compares v with the same window yesterday (or, without it, last week).
func baselineNote(v float64, b probes.Baseline) string {
	ref, when := b.Yesterday, "yesterday"
	if ref < 0 {
		ref, when = b.LastWeek, "last week"
	}
	switch {
	case ref < 0:
		return "" // the report says once that there is no history (see prom's noHistory)
	case ref == 0 && v > 0:
		return ", new since " + when + " (0 then)"
	case ref == 0:
		return ""
	case v/ref >= 1.5:
		return fmt.Sprintf(", %.1f× %s", v/ref, when)
	case b.Factor(v) < 1.5:
		return ", as usual for this hour"
	}
	return ""
}
