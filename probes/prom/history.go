package prom

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/common/model"

	"github.com/perfbot/perfbot/probes"
)

// The service's own normal is the same query over the same window a day and a week ago.
const (
	day  = 24 * time.Hour
	week = 7 * day
)

// instantAt runs q at time at and returns its vector without NaN and infinite samples.
func instantAt(ctx context.Context, e *probes.Env, q string, at time.Time) (model.Vector, error) {
	if e.Prom == nil {
		return nil, probes.ErrNotConfigured
	}
	v, _, err := e.Prom.Query(ctx, q, at)
	if err != nil {
		return nil, fmt.Errorf("prometheus query %q: %w", q, err)
	}
	vec, ok := v.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("prometheus query %q: got %s, want vector", q, v.Type())
	}
	return dropNaN(vec), nil
}

// history holds a query's values a day and a week before the evaluation time, by label value
// ("" for a query without the label).
type history struct {
	yesterday, lastWeek map[string]float64
}

// lookBack evaluates q a day and a week ago, concurrently, scaling values by mul. A failed look-up
// is no history, never an error: the check stands on its threshold alone.
func lookBack(ctx context.Context, e *probes.Env, q, label string, mul float64) history {
	var h history
	var wg sync.WaitGroup
	get := func(at time.Time, dst *map[string]float64) {
		defer wg.Done()
		v, err := instantAt(ctx, e, q, at)
		if err != nil {
			return
		}
		m := map[string]float64{}
		for _, s := range v {
			m[string(s.Metric[model.LabelName(label)])] = float64(s.Value) * mul
		}
		*dst = m
	}
	wg.Add(2)
	go get(e.Now.Add(-day), &h.yesterday)
	go get(e.Now.Add(-week), &h.lastWeek)
	wg.Wait()
	return h
}

// of is the baseline of one label value; -1 marks a day without data.
func (h history) of(name string) *probes.Baseline {
	b := probes.Baseline{Yesterday: -1, LastWeek: -1}
	if v, ok := h.yesterday[name]; ok {
		b.Yesterday = v
	}
	if v, ok := h.lastWeek[name]; ok {
		b.LastWeek = v
	}
	return &b
}

// known reports whether either day returned any data.
func (h history) known() bool { return len(h.yesterday) > 0 || len(h.lastWeek) > 0 }

// noHistory is the context finding a report shows when the service has no history to compare
// with: its breaches are judged by the fixed thresholds alone.
func noHistory(check string) probes.Finding {
	return probes.Finding{Check: check + " history", Status: probes.OK,
		Message: "no data from a day or a week ago: " + check + " is judged by its threshold only"}
}

// seriesWithin runs q, whose rates look back rate, over the window so that its first point looks
// back no further than the window's start: a fault cleared before the window does not show.
func seriesWithin(ctx context.Context, e *probes.Env, q string, window, rate time.Duration) (model.Matrix, error) {
	span := max(window-rate, window/2)
	return series(ctx, e, q, span)
}

// onsets returns, per series name, when its breach of limit began (see probes.Onset).
func onsets(ss []probes.Series, limit float64) map[string]time.Time {
	out := map[string]time.Time{}
	for _, s := range ss {
		if t := probes.Onset(s, limit); !t.IsZero() {
			out[s.Name] = t
		}
	}
	return out
}

// earliest is the earliest non-zero time in m, or the zero time.
func earliest(m map[string]time.Time) time.Time {
	var t time.Time
	for _, v := range m {
		if t.IsZero() || v.Before(t) {
			t = v
		}
	}
	return t
}
