// Package charts renders probes.Chart time series as PNG images for chat front ends.
package charts

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"sort"
	"strconv"
	"sync"

	"git.sr.ht/~sbinet/gg"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/perfbot/perfbot/internal/textfmt"
	"github.com/perfbot/perfbot/probes"
)

// Image size in pixels and the resolution it is drawn at.
const (
	Width  = 800
	Height = 400
	dpi    = 96
)

// MaxSeries is how many series one chart draws; the rest are dropped with a note in the legend.
const MaxSeries = 8

// Sizes of the parts of the image, in points (1/72 inch).
const (
	legendWidth = vg.Length(150)
	legendText  = legendWidth - vg.Length(32) // room for an entry's text beside its line
	plotWidth   = vg.Length(Width)*vg.Inch/dpi - legendWidth
	maxTitle    = 90 // runes
	maxLegend   = 24 // runes per legend entry
	maxUnit     = 20 // runes
)

// palette holds the series colours. It has no red, so the threshold line stays unmistakable.
var palette = []color.RGBA{
	{31, 119, 180, 255},  // blue
	{255, 127, 14, 255},  // orange
	{44, 160, 44, 255},   // green
	{148, 103, 189, 255}, // purple
	{140, 86, 75, 255},   // brown
	{227, 119, 194, 255}, // pink
	{127, 127, 127, 255}, // grey
	{23, 190, 207, 255},  // cyan
}

// thresholdColor is the colour of the dashed threshold line.
var thresholdColor = color.RGBA{R: 220, A: 255}

// PNG renders c as an 800×400 PNG. A chart without any drawable point renders as an image
// that says "no data"; an error means the image could not be drawn or encoded.
func PNG(c probes.Chart) ([]byte, error) {
	img := rgbaImages.Get().(*image.RGBA)
	defer rgbaImages.Put(img)
	gc := gg.NewContextForRGBA(img) // draws into img itself (vgimg.UseImage would draw into a copy)
	gc.SetLineCapButt()
	gc.InvertY()
	canvas := vgimg.NewWith(vgimg.UseImageWithContext(img, gc), vgimg.UseDPI(dpi)) // cleared to white
	dc := draw.New(canvas)
	series, dropped := pick(c.Series)
	if len(series) == 0 {
		drawNoData(dc, c)
	} else if err := drawChart(dc, c, series, dropped); err != nil {
		return nil, fmt.Errorf("drawing chart %q: %w", cleanText(c.Title, maxTitle), err)
	}
	var buf bytes.Buffer
	buf.Grow(64 << 10)
	enc := png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: encoderBuffers}
	pal := palettedImages.Get().(*image.Paletted)
	defer palettedImages.Put(pal)
	toPaletted(img, pal)
	if err := enc.Encode(&buf, pal); err != nil {
		return nil, fmt.Errorf("encoding chart PNG: %w", err)
	}
	return buf.Bytes(), nil
}

// bufferPool lets PNG encodings reuse their compressor state; charts are drawn several at a time.
type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() *png.EncoderBuffer { v, _ := b.p.Get().(*png.EncoderBuffer); return v }

func (b *bufferPool) Put(e *png.EncoderBuffer) { b.p.Put(e) }

var encoderBuffers = &bufferPool{}

// Charts reuse their 1.3 MB drawing surface and its paletted copy instead of allocating both per chart.
var (
	rgbaImages     = sync.Pool{New: func() any { return image.NewRGBA(image.Rect(0, 0, Width, Height)) }}
	palettedImages = sync.Pool{New: func() any { return image.NewPaletted(image.Rect(0, 0, Width, Height), chartPalette) }}
)

// pxToPt converts pixels at the chart's resolution to points.
func pxToPt(px int) vg.Length {
	return vg.Length(px) * vg.Inch / dpi
}

// line is one drawable series: its cleaned name and finite points.
type line struct {
	name string
	xys  plotter.XYs
	peak float64
}

// pick keeps the series that have finite points, the MaxSeries with the highest peaks in their
// original order, and says how many it dropped.
func pick(in []probes.Series) (kept []line, dropped int) {
	all := make([]line, 0, len(in))
	for _, s := range in {
		l := line{name: cleanText(s.Name, maxLegend), peak: math.Inf(-1)}
		for _, p := range s.Points {
			if math.IsNaN(p.V) || math.IsInf(p.V, 0) || p.T.IsZero() {
				continue
			}
			x := float64(p.T.UnixNano()) / 1e9
			v := clamp(p.V)
			l.xys = append(l.xys, plotter.XY{X: x, Y: v})
			l.peak = math.Max(l.peak, v)
		}
		if len(l.xys) > 0 {
			l.xys = thin(l.xys)
			all = append(all, l)
		}
	}
	if len(all) <= MaxSeries {
		return all, 0
	}
	order := make([]int, len(all))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return all[order[a]].peak > all[order[b]].peak })
	top := order[:MaxSeries]
	sort.Ints(top)
	for _, i := range top {
		kept = append(kept, all[i])
	}
	return kept, len(all) - MaxSeries
}

// drawChart draws the plot on the left and its legend in a column on the right.
func drawChart(dc draw.Canvas, c probes.Chart, series []line, dropped int) error {
	p := newPlot(c)
	legend := plot.NewLegend()
	legend.Left = true
	legend.Top = true
	legend.TextStyle.Font.Size = 9
	legend.Padding = vg.Points(2)
	xmin, xmax, peak := math.Inf(1), math.Inf(-1), math.Inf(-1)
	for i, s := range series {
		l, err := plotter.NewLine(s.xys)
		if err != nil {
			return fmt.Errorf("series %q: %w", s.name, err)
		}
		l.LineStyle.Color = palette[i%len(palette)]
		l.LineStyle.Width = vg.Points(1.5)
		p.Add(l)
		legend.Add(fitWidth(legend.TextStyle, s.name, legendText), l)
		for _, xy := range s.xys {
			xmin, xmax = math.Min(xmin, xy.X), math.Max(xmax, xy.X)
		}
		peak = math.Max(peak, s.peak)
	}
	if c.Threshold > 0 && !math.IsInf(c.Threshold, 0) {
		t, err := thresholdLine(clamp(c.Threshold), xmin, xmax)
		if err != nil {
			return err
		}
		label := "threshold " + textfmt.Value(c.Threshold, cleanText(c.Unit, maxUnit))
		if offScale(c.Threshold, peak) {
			label += " (above the chart)" // the axis follows the data, not a far-off threshold
		} else {
			p.Add(t)
		}
		legend.Add(fitWidth(legend.TextStyle, label, legendText), t)
	}
	if dropped > 0 {
		legend.Add(fmt.Sprintf("+%d more not shown", dropped))
	}
	p.Y.Max += (p.Y.Max - p.Y.Min) * 0.06 // headroom, so a threshold at the peak stays visible
	p.Draw(draw.Crop(dc, 0, -legendWidth, 0, -titleMargin))
	legendArea := draw.Crop(dc, dc.Max.X-legendWidth+vg.Points(6), 0, 0, -vg.Points(30))
	legend.Draw(legendArea)
	return nil
}

// titleMargin keeps the title off the image's top edge.
const titleMargin = vg.Length(8)

// offScale tells whether a threshold is so far above the data (more than twice its peak) that
// scaling the axis to it would squash every line into the bottom of the chart.
func offScale(threshold, peak float64) bool {
	return peak > 0 && threshold > 2*peak
}

// newPlot makes a plot with the title, the HH:MM UTC time axis and the unit on Y.
func newPlot(c probes.Chart) *plot.Plot {
	p := plot.New()
	p.Title.TextStyle.Font.Size = 13
	p.Title.Text = fitWidth(p.Title.TextStyle, cleanText(c.Title, maxTitle), plotWidth-vg.Points(20))
	p.X.Label.Text = "time (UTC)"
	p.X.Tick.Marker = plot.TimeTicks{Format: "15:04", Time: plot.UTCUnixTime}
	p.Y.Label.Text = fitWidth(p.Y.Label.TextStyle, cleanText(c.Unit, maxUnit), pxToPt(Height)-vg.Points(80))
	p.Y.Tick.Marker = valueTicks{}
	p.Y.Min = 0
	p.Add(plotter.NewGrid())
	return p
}

// thresholdLine is a dashed red horizontal line at y across [xmin, xmax].
func thresholdLine(y, xmin, xmax float64) (*plotter.Line, error) {
	if xmin == xmax {
		xmin, xmax = xmin-30, xmax+30
	}
	t, err := plotter.NewLine(plotter.XYs{{X: xmin, Y: y}, {X: xmax, Y: y}})
	if err != nil {
		return nil, fmt.Errorf("threshold line: %w", err)
	}
	t.LineStyle.Color = thresholdColor
	t.LineStyle.Width = vg.Points(2)
	t.LineStyle.Dashes = []vg.Length{vg.Points(6), vg.Points(4)}
	return t, nil
}

// drawNoData draws the title and a centred "no data".
func drawNoData(dc draw.Canvas, c probes.Chart) {
	p := plot.New()
	title := p.Title.TextStyle
	title.Font.Size = 13
	title.XAlign = draw.XCenter
	title.YAlign = draw.YTop
	center := dc.Center()
	dc.FillText(title, vg.Point{X: center.X, Y: dc.Max.Y - titleMargin - vg.Points(4)}, cleanText(c.Title, maxTitle))
	msg := title
	msg.Font.Size = 20
	msg.YAlign = draw.YCenter
	msg.Color = color.Gray{Y: 110}
	dc.FillText(msg, center, "no data")
}

// maxAbs bounds plotted values: the axis labeller loops for a very long time on spans near
// the float64 limit, and no latency, ratio or byte count comes near it.
const maxAbs = 1e15

// clamp limits v to ±maxAbs.
func clamp(v float64) float64 {
	return math.Max(-maxAbs, math.Min(maxAbs, v))
}

// valueTicks are the default ticks labelled without trailing zeros ("250", not "250.00").
type valueTicks struct{}

// Ticks implements plot.Ticker.
func (valueTicks) Ticks(min, max float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = strconv.FormatFloat(ts[i].Value, 'g', 6, 64)
		}
	}
	return ts
}

// fitWidth cuts s with "…" until it is at most max wide in sty.
func fitWidth(sty text.Style, s string, max vg.Length) string {
	if sty.Width(s) <= max {
		return s
	}
	r := []rune(s)
	lo, hi := 0, len(r)
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if sty.Width(string(r[:mid])+"…") <= max {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return string(r[:lo]) + "…"
}
