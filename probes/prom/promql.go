// Package prom holds the probes that read a service's metrics from Prometheus (latency, errors,
// scope, CrewAI, AI APIs, nodes, process memory, scrape targets) and the PromQL helpers they share.
package prom

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/perfbot/perfbot/probes"
)

// Label returns a PromQL string literal for a value that came from a user or a backend.
// PromQL string literals use Go's escaping rules, so strconv.Quote is exact.
func Label(v string) string { return strconv.Quote(v) }

// LabelRegex returns a PromQL string literal for a regular expression that matches v literally.
func LabelRegex(v string) string { return strconv.Quote(regexp.QuoteMeta(v)) }

// sel joins the service selector with extra matchers into a PromQL selector body.
func sel(base string, extra ...string) string {
	parts := make([]string, 0, len(extra)+1)
	if strings.TrimSpace(base) != "" {
		parts = append(parts, base)
	}
	parts = append(parts, extra...)
	return "{" + strings.Join(parts, ",") + "}"
}

// promRange formats a window as a PromQL range, e.g. "5m" or "90s".
func promRange(d time.Duration) string {
	if d < time.Second {
		d = time.Second
	}
	return model.Duration(d).String()
}

// instant runs q at the evaluation time and returns its vector without NaN and infinite samples.
func instant(ctx context.Context, e *probes.Env, q string) (model.Vector, error) {
	return instantAt(ctx, e, q, e.Now)
}

// series runs q over the span up to the evaluation time, at about 60 steps.
func series(ctx context.Context, e *probes.Env, q string, span time.Duration) (model.Matrix, error) {
	if e.Prom == nil {
		return nil, probes.ErrNotConfigured
	}
	step := span / 60
	if step < time.Second {
		step = time.Second
	}
	r := promv1.Range{Start: e.Now.Add(-span), End: e.Now, Step: step}
	v, _, err := e.Prom.QueryRange(ctx, q, r)
	if err != nil {
		return nil, fmt.Errorf("prometheus range query %q: %w", q, err)
	}
	m, ok := v.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("prometheus range query %q: got %s, want matrix", q, v.Type())
	}
	return m, nil
}

func dropNaN(v model.Vector) model.Vector {
	out := v[:0]
	for _, s := range v {
		f := float64(s.Value)
		if !math.IsNaN(f) && !math.IsInf(f, 0) {
			out = append(out, s)
		}
	}
	return out
}

// scalar returns the single value of a one-element vector; ok is false when there is no data.
func scalar(v model.Vector) (float64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	return float64(v[0].Value), true
}

// byLabel returns the vector as (label value, value) pairs sorted by value, largest first.
func byLabel(v model.Vector, label string) []labelled {
	out := make([]labelled, 0, len(v))
	for _, s := range v {
		out = append(out, labelled{Name: string(s.Metric[model.LabelName(label)]), Value: float64(s.Value)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Value != out[j].Value {
			return out[i].Value > out[j].Value
		}
		return out[i].Name < out[j].Name
	})
	return out
}

type labelled struct {
	Name  string
	Value float64
}

// toChart turns a matrix into chart series named by label, scaled by mul.
func toChart(m model.Matrix, label string, mul float64) []probes.Series {
	out := make([]probes.Series, 0, len(m))
	for _, s := range m {
		name := string(s.Metric[model.LabelName(label)])
		if name == "" {
			name = "all"
		}
		pts := make([]probes.Point, 0, len(s.Values))
		for _, p := range s.Values {
			f := float64(p.Value)
			if math.IsNaN(f) || math.IsInf(f, 0) {
				continue
			}
			pts = append(pts, probes.Point{T: p.Timestamp.Time().UTC(), V: f * mul})
		}
		out = append(out, probes.Series{Name: name, Points: pts})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
