package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/perfbot/perfbot/charts"
)

// chartPage is an HTML page that draws the benchmark chart on a canvas with the threshold line, as a
// dashboard panel does, for Chromium to screenshot (the way Grafana's image renderer draws panels).
func chartPage() string {
	c := charts.BenchChart()
	type series struct {
		Name string
		V    []float64
	}
	var ss []series
	for _, s := range c.Series {
		x := series{Name: s.Name}
		for _, p := range s.Points {
			x.V = append(x.V, p.V)
		}
		ss = append(ss, x)
	}
	data, _ := json.Marshal(map[string]any{"title": c.Title, "threshold": c.Threshold, "series": ss})
	return `<!doctype html><html><body style="margin:0;background:#fff"><canvas id="c" width="800" height="400"></canvas><script>
const d = ` + string(data) + `;
const g = document.getElementById("c").getContext("2d");
const L = 60, T = 30, W = 560, H = 320, colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd"];
let max = d.threshold;
for (const s of d.series) for (const v of s.V) max = Math.max(max, v);
max *= 1.06;
g.font = "13px sans-serif"; g.fillStyle = "#000"; g.fillText(d.title, L, 18);
g.strokeStyle = "#ddd"; g.lineWidth = 1;
for (let i = 0; i <= 5; i++) { const y = T + H - H * i / 5; g.beginPath(); g.moveTo(L, y); g.lineTo(L + W, y); g.stroke();
  g.fillStyle = "#000"; g.font = "10px sans-serif"; g.fillText(Math.round(max * i / 5), 20, y + 3); }
d.series.forEach((s, k) => { g.strokeStyle = colors[k]; g.lineWidth = 1.5; g.beginPath();
  s.V.forEach((v, i) => { const x = L + W * i / (s.V.length - 1), y = T + H - H * v / max; i ? g.lineTo(x, y) : g.moveTo(x, y); });
  g.stroke(); g.fillStyle = colors[k]; g.fillRect(640, 40 + 16 * k, 12, 3); g.fillStyle = "#000"; g.fillText(s.Name, 656, 44 + 16 * k); });
g.strokeStyle = "#dc0000"; g.lineWidth = 2; g.setLineDash([6, 4]); const ty = T + H - H * d.threshold / max;
g.beginPath(); g.moveTo(L, ty); g.lineTo(L + W, ty); g.stroke();
document.title = "drawn";
</script></body></html>`
}

// chromiumChart times the chart drawn by headless Chromium: cold (start the browser, load the page,
// screenshot it) once, then warm (the same tab loads and screenshots it again) reps times.
func chromiumChart(ctx context.Context, path string, reps int) (cold time.Duration, warm []time.Duration, err error) {
	page := "data:text/html," + url.PathEscape(chartPage())
	shot := func(bctx context.Context) error {
		if _, err := chromedp.Run(bctx, chromedp.Navigate(page)); err != nil {
			return err
		}
		title, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.title`))
		if err != nil {
			return err
		}
		png, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
		if err != nil {
			return err
		}
		if title != "drawn" || len(png) < 1000 {
			return fmt.Errorf("chromium did not draw the chart (title %q, %d bytes)", title, len(png))
		}
		return nil
	}
	start := time.Now()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.WindowSize(800, 400), chromedp.Flag("headless", "new"), chromedp.DisableGPU)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	if err := shot(bctx); err != nil {
		return 0, nil, err
	}
	cold = time.Since(start)
	for range reps {
		s := time.Now()
		if err := shot(bctx); err != nil {
			return cold, warm, err
		}
		warm = append(warm, time.Since(s))
	}
	return cold, warm, nil
}
