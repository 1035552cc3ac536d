package bench

import (
	"math"
	"strings"
	"testing"
)

func TestSpreadAndPercentile(t *testing.T) {
	s := SpreadOf([]float64{5, 1, 3, 2, 4})
	if s != (Spread{1, 3, 5}) {
		t.Errorf("spread = %+v", s)
	}
	if s := SpreadOf([]float64{1, 2, 3, 10}); s.Median != 2.5 {
		t.Errorf("even median = %v", s.Median)
	}
	if !math.IsNaN(SpreadOf(nil).Median) || !math.IsNaN(Percentile(nil, 50)) {
		t.Error("empty input should give NaN")
	}
	xs := make([]float64, 100)
	for i := range xs {
		xs[i] = float64(100 - i)
	}
	if p := Percentile(xs, 99); p != 99 {
		t.Errorf("p99 = %v", p)
	}
	if p := Percentile(xs, 50); p != 50 {
		t.Errorf("p50 = %v", p)
	}
	if got := Ms(1234.4); got != "1 234" {
		t.Errorf("Ms = %q", got)
	}
}

func TestReplaceKeepsOtherSections(t *testing.T) {
	doc := "# Benchmarks\n\nIntro.\n\n## Replicas storm\n\nkept\n"
	once := Replace(doc, "## Numbers\n\nfirst")
	twice := Replace(once, "## Numbers\n\nsecond")
	if !strings.Contains(twice, "second") || strings.Contains(twice, "first") {
		t.Fatalf("not replaced:\n%s", twice)
	}
	if !strings.Contains(twice, "## Replicas storm\n\nkept") || !strings.HasPrefix(twice, "# Benchmarks\n\nIntro.") {
		t.Fatalf("other sections lost:\n%s", twice)
	}
	if strings.Count(twice, Begin) != 1 || strings.Count(twice, End) != 1 {
		t.Fatalf("markers duplicated:\n%s", twice)
	}
}
