package charts

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"math"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/perfbot/perfbot/probes"
)

var t0 = time.Date(2026, 8, 20, 14, 0, 0, 0, time.UTC)

// latencyChart is a p95-by-endpoint chart like /perf assess draws: n endpoints over 30 minutes.
func latencyChart(n int, threshold float64) probes.Chart {
	c := probes.Chart{Title: "p95 latency by endpoint", Unit: "ms", Threshold: threshold}
	for i := 0; i < n; i++ {
		s := probes.Series{Name: fmt.Sprintf("/api/endpoint-%d", i)}
		for m := 0; m < 120; m++ {
			v := 100 + float64(i*40) + 80*math.Sin(float64(m)/10+float64(i))
			s.Points = append(s.Points, probes.Point{T: t0.Add(time.Duration(m) * 15 * time.Second), V: v})
		}
		c.Series = append(c.Series, s)
	}
	return c
}

func decode(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decoding PNG: %v", err)
	}
	if got := img.Bounds().Size(); got != (image.Point{X: Width, Y: Height}) {
		t.Fatalf("size = %v, want %dx%d", got, Width, Height)
	}
	return img
}

// redPixels counts pixels close to the threshold colour.
func redPixels(img image.Image) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 > 180 && g>>8 < 60 && bl>>8 < 60 {
				n++
			}
		}
	}
	return n
}

// inkPixels counts pixels that are not white.
func inkPixels(img image.Image) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 < 250 || g>>8 < 250 || bl>>8 < 250 {
				n++
			}
		}
	}
	return n
}

func TestPNGThreshold(t *testing.T) {
	tests := []struct {
		name      string
		threshold float64
		wantRed   bool
	}{
		{"with threshold", 500, true},
		{"without threshold", 0, false},
		{"infinite threshold is ignored", math.Inf(1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := PNG(latencyChart(3, tt.threshold))
			if err != nil {
				t.Fatal(err)
			}
			img := decode(t, b)
			red := redPixels(img)
			if tt.wantRed && red < 300 {
				t.Errorf("red pixels = %d, want a dashed threshold line (>= 300)", red)
			}
			if !tt.wantRed && red != 0 {
				t.Errorf("red pixels = %d, want none", red)
			}
		})
	}
}

func TestPNGNoData(t *testing.T) {
	tests := []struct {
		name  string
		chart probes.Chart
	}{
		{"no series", probes.Chart{Title: "error rate", Unit: "ratio", Threshold: 0.01}},
		{"empty series", probes.Chart{Title: "cpu", Series: []probes.Series{{Name: "a"}, {Name: "b"}}}},
		{"only NaN and Inf", probes.Chart{Title: "memory", Series: []probes.Series{{Name: "a", Points: []probes.Point{
			{T: t0, V: math.NaN()}, {T: t0.Add(time.Minute), V: math.Inf(1)}}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := PNG(tt.chart)
			if err != nil {
				t.Fatal(err)
			}
			img := decode(t, b)
			if ink := inkPixels(img); ink < 200 || ink > 20000 {
				t.Errorf("ink pixels = %d, want only a title and \"no data\"", ink)
			}
			if red := redPixels(img); red != 0 {
				t.Errorf("red pixels = %d on a no-data chart", red)
			}
		})
	}
}

func TestPNGHostileInput(t *testing.T) {
	huge := strings.Repeat("🔥<!channel>\n\u200b&lt;", 5000)
	tests := []struct {
		name  string
		chart probes.Chart
	}{
		{"hostile title and unit", probes.Chart{Title: huge, Unit: huge, Threshold: 500, Series: latencyChart(2, 0).Series}},
		{"hostile series names", func() probes.Chart {
			c := latencyChart(3, 500)
			for i := range c.Series {
				c.Series[i].Name = huge
			}
			return c
		}()},
		{"many series", latencyChart(40, 500)},
		{"single point", probes.Chart{Title: "one", Threshold: 1, Series: []probes.Series{{Name: "x", Points: []probes.Point{{T: t0, V: 3}}}}}},
		{"flat zero", probes.Chart{Title: "flat", Series: []probes.Series{{Name: "x", Points: []probes.Point{{T: t0, V: 0}, {T: t0.Add(time.Hour), V: 0}}}}}},
		{"huge values", probes.Chart{Title: "big", Threshold: 1e300, Series: []probes.Series{{Name: "x", Points: []probes.Point{{T: t0, V: -1e308}, {T: t0.Add(time.Hour), V: 1e308}}}}}},
		{"zero times skipped", probes.Chart{Title: "t", Series: []probes.Series{{Name: "x", Points: []probes.Point{{V: 1}, {T: t0, V: 2}, {T: t0.Add(time.Minute), V: 3}}}}}},
		{"invalid UTF-8", probes.Chart{Title: "\xff\xfe title", Unit: "\xc3", Series: latencyChart(1, 0).Series}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := PNG(tt.chart)
			if err != nil {
				t.Fatal(err)
			}
			decode(t, b)
		})
	}
}

func TestPick(t *testing.T) {
	c := latencyChart(12, 0)
	kept, dropped := pick(c.Series)
	if len(kept) != MaxSeries || dropped != 4 {
		t.Fatalf("kept %d dropped %d, want %d and 4", len(kept), dropped, MaxSeries)
	}
	// Endpoint i has its values raised by 40*i, so the highest peaks are endpoints 4..11, in order.
	for i, l := range kept {
		if want := fmt.Sprintf("/api/endpoint-%d", i+4); l.name != want {
			t.Errorf("kept[%d] = %q, want %q", i, l.name, want)
		}
	}
}

func TestCleanText(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"plain", 10, "plain"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven runes", 10, "eleven ru…"},
		{"a\n\tb\u200bc", 10, "a bc"},
		{"  lead", 10, "lead"},
		{"🔥🔥🔥🔥", 3, "🔥🔥…"},
		{"\xff", 5, ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := cleanText(tt.in, tt.max); got != tt.want {
				t.Errorf("cleanText(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
		})
	}
}

func BenchmarkPNG(b *testing.B) {
	charts := map[string]probes.Chart{
		"p95-6-endpoints": latencyChart(6, 500),
		"40-series":       latencyChart(40, 500),
		"no-data":         {Title: "no data"},
		"4x360-threshold": BenchChart(),
	}
	for name, c := range charts {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := PNG(c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestFitWidth(t *testing.T) {
	sty := plot.New().Title.TextStyle
	long := strings.Repeat("p95 latency by endpoint ", 20)
	tests := []struct {
		name string
		in   string
		max  vg.Length
	}{
		{"fits", "p95 latency", 400},
		{"too wide", long, 400},
		{"narrow", long, 30},
		{"nothing fits", long, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fitWidth(sty, tt.in, tt.max)
			if sty.Width(tt.in) <= tt.max {
				if got != tt.in {
					t.Errorf("fitWidth cut %q that fits", tt.in)
				}
				return
			}
			if !strings.HasSuffix(got, "…") || !strings.HasPrefix(tt.in, strings.TrimSuffix(got, "…")) {
				t.Errorf("fitWidth = %q, want a prefix of the input ending in …", got)
			}
			if w := sty.Width(got); w > tt.max && got != "…" {
				t.Errorf("fitWidth = %q is %v wide, want ≤ %v", got, w, tt.max)
			}
		})
	}
}

func TestValueTicks(t *testing.T) {
	for _, tk := range (valueTicks{}).Ticks(0, 500) {
		if strings.Contains(tk.Label, ".") && strings.HasSuffix(tk.Label, "0") {
			t.Errorf("tick label %q has trailing zeros", tk.Label)
		}
	}
}

// seriesRows returns the lowest and highest image rows that hold the first series' colour (blue).
func seriesRows(img image.Image) (top, bottom int) {
	top, bottom = -1, -1
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X-int(legendWidth*dpi/vg.Inch); x++ { // the plot, not the legend
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 < 60 && g>>8 > 100 && g>>8 < 140 && bl>>8 > 160 {
				if top < 0 {
					top = y
				}
				bottom = y
			}
		}
	}
	return top, bottom
}

// TestPNGScalesToData: 5–25 ms lines under a 500 ms threshold fill the plot instead of its bottom
// pixels; the threshold is named in the legend, and the title keeps off the top edge.
func TestPNGScalesToData(t *testing.T) {
	c := probes.Chart{Title: "p95 latency by endpoint", Unit: "ms", Threshold: 500}
	s := probes.Series{Name: "/api/ideas"}
	for m := 0; m < 120; m++ {
		s.Points = append(s.Points, probes.Point{T: t0.Add(time.Duration(m) * 15 * time.Second), V: 15 + 10*math.Sin(float64(m)/10)})
	}
	c.Series = []probes.Series{s}
	b, err := PNG(c)
	if err != nil {
		t.Fatal(err)
	}
	img := decode(t, b)
	top, bottom := seriesRows(img)
	if top < 0 || bottom-top < Height/3 {
		t.Errorf("the series spans rows %d..%d, want at least a third of the %d px height", top, bottom, Height)
	}
	if red := redPixels(img); red == 0 {
		t.Error("no red at all: the off-scale threshold should still be marked in the legend")
	}
	for y := 0; y < 5; y++ {
		for x := 0; x < Width; x++ {
			if r, g, bl, _ := img.At(x, y).RGBA(); r>>8 < 250 || g>>8 < 250 || bl>>8 < 250 {
				t.Fatalf("ink at (%d,%d): the title touches the top edge", x, y)
			}
		}
	}
}

// TestThin: a series longer than the plot is wide keeps its ends, its peak and its dip, in order.
func TestThin(t *testing.T) {
	var xys plotter.XYs
	for i := 0; i < 10*maxPoints; i++ {
		xys = append(xys, plotter.XY{X: float64(i), Y: 1})
	}
	xys[4321].Y, xys[9876].Y = 50, -7
	got := thin(xys)
	if len(got) > maxPoints || len(got) < maxPoints/2 {
		t.Fatalf("kept %d points, want at most %d and at least %d", len(got), maxPoints, maxPoints/2)
	}
	if got[0] != xys[0] || got[len(got)-1] != xys[len(xys)-1] {
		t.Error("the first or last point was dropped")
	}
	peak, dip := false, false
	for i, p := range got {
		if i > 0 && p.X <= got[i-1].X {
			t.Fatalf("points out of order at %d", i)
		}
		peak, dip = peak || p.Y == 50, dip || p.Y == -7
	}
	if !peak || !dip {
		t.Errorf("peak kept %v, dip kept %v", peak, dip)
	}
	if short := xys[:100]; len(thin(short)) != 100 {
		t.Error("a short series was thinned")
	}
}
