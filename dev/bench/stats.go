// Package bench measures perfbot end to end over Socket Mode against the local stack and writes the
// tables of docs/benchmarks.md (run it with scripts/bench). Nothing here ships in the perfbot binary.
package bench

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Spread is a figure's minimum, median and maximum over repeated runs.
type Spread struct{ Min, Median, Max float64 }

// SpreadOf summarises xs; an empty xs gives NaNs.
func SpreadOf(xs []float64) Spread {
	if len(xs) == 0 {
		return Spread{math.NaN(), math.NaN(), math.NaN()}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Spread{s[0], med, s[len(s)-1]}
}

// Format writes the spread as "min / median / max" with f formatting each value.
func (s Spread) Format(f func(float64) string) string {
	return f(s.Min) + " / " + f(s.Median) + " / " + f(s.Max)
}

// Percentile is the nearest-rank p-th percentile (0 < p ≤ 100) of xs; NaN for none.
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[max(0, min(len(s)-1, rank-1))]
}

// Ms formats milliseconds with three significant digits ("0.512", "17.4", "1 204").
func Ms(v float64) string {
	switch {
	case math.IsNaN(v):
		return "—"
	case v < 1:
		return fmt.Sprintf("%.3f", v)
	case v < 10:
		return fmt.Sprintf("%.2f", v)
	case v < 100:
		return fmt.Sprintf("%.1f", v)
	}
	return group(fmt.Sprintf("%.0f", v))
}

// group puts a thin space between thousands, as the rest of docs/benchmarks.md does.
func group(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	for i, r := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Markers around the part of docs/benchmarks.md that scripts/bench writes; the rest is kept.
const (
	Begin = "<!-- scripts/bench writes from here to the end marker; edits in between are lost -->"
	End   = "<!-- end of what scripts/bench writes -->"
)

// Replace puts generated between the markers of doc; a doc without them gets them after its first
// paragraph (its title and introduction).
func Replace(doc, generated string) string {
	block := Begin + "\n\n" + strings.TrimSpace(generated) + "\n\n" + End
	if i := strings.Index(doc, Begin); i >= 0 {
		if j := strings.Index(doc[i:], End); j >= 0 {
			return doc[:i] + block + doc[i+j+len(End):]
		}
	}
	cut := strings.Index(doc, "\n## ")
	if cut < 0 {
		return strings.TrimRight(doc, "\n") + "\n\n" + block + "\n"
	}
	return doc[:cut+1] + block + "\n\n" + doc[cut+1:]
}
