package handlers_test

import (
	"bufio"
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perfbot/perfbot/app"
	"github.com/perfbot/perfbot/handlers"
	"github.com/perfbot/perfbot/internal/stacktest"
)

// promQueries reads from Prometheus's own /metrics how many query and range-query requests it served.
func promQueries(t *testing.T, promURL string) float64 {
	t.Helper()
	resp, err := http.Get(promURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var n float64
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "prometheus_http_requests_total{") ||
			!(strings.Contains(line, `handler="/api/v1/query"`) || strings.Contains(line, `handler="/api/v1/query_range"`)) {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndex(line, " ")+1:], 64)
		if err != nil {
			t.Fatalf("parse %q: %v", line, err)
		}
		n += v
	}
	return n
}

// TestIncidentStormSharesQueries: twenty people running /perf assess at once cost Prometheus about what
// one assessment costs, and all of them get the same answer.
func TestIncidentStormSharesQueries(t *testing.T) {
	sim := stacktest.StartSim(t, 10)
	prom := stacktest.StartPrometheus(t, map[string]string{"sim-storm": sim.Addr})
	cfg := stacktest.ServiceConfig("sim-storm", prom.URL, sim.URL)
	frozen := time.Now()
	b := app.NewBackends(cfg, func() time.Time { return frozen })
	t.Cleanup(b.Close)
	h := handlers.New(cfg, b, nil)

	before := promQueries(t, prom.URL)
	if _, err := h.Handle(context.Background(), handlers.Request{Text: "api"}); err != nil {
		t.Fatal(err)
	}
	one := promQueries(t, prom.URL) - before

	// A second command set, at another instant, by twenty people at once.
	frozen = frozen.Add(time.Minute)
	before = promQueries(t, prom.URL)
	var wg sync.WaitGroup
	headlines := make([]string, 20)
	for i := range headlines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, err := h.Handle(context.Background(), handlers.Request{Text: "api"})
			if err != nil {
				t.Error(err)
				return
			}
			headlines[i] = rep.Headline
		}()
	}
	wg.Wait()
	twenty := promQueries(t, prom.URL) - before
	if one == 0 {
		t.Fatal("no Prometheus queries counted for one command")
	}
	if twenty > one {
		t.Errorf("twenty concurrent /perf api made %v Prometheus queries; one alone makes %v", twenty, one)
	}
	for _, hl := range headlines[1:] {
		if hl != headlines[0] {
			t.Errorf("shared runs gave different answers: %q vs %q", hl, headlines[0])
		}
	}
}
