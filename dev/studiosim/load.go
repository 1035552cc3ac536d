package studiosim

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
)

// loadClientTimeout bounds one built-in load request.
const loadClientTimeout = 20 * time.Second

// loadTarget is one kind of request in the built-in traffic mix.
type loadTarget struct {
	weight int // out of 100
	method string
	path   string
	body   string
}

// loadMix is the built-in traffic: mostly reads, some agent runs, a health poller.
var loadMix = []loadTarget{
	{45, http.MethodGet, EndpointIdeas, ""},
	{30, http.MethodGet, EndpointProjects, ""},
	{15, http.MethodPost, EndpointAgentsRun, `{"topic":"weekly market scan"}`},
	{10, http.MethodGet, EndpointHealth, ""},
}

func pickTarget() loadTarget {
	n := rand.IntN(100)
	for _, t := range loadMix {
		if n < t.weight {
			return t
		}
		n -= t.weight
	}
	return loadMix[0]
}

// runLoad issues real HTTP requests to base at Options.Load per second until ctx is done.
// At most LoadConcurrency are in flight; a tick that finds them all busy is skipped and
// counted, so a slow endpoint never piles up goroutines.
func (s *Server) runLoad(ctx context.Context, base string) {
	conc := s.opts.LoadConcurrency
	client := &http.Client{
		Timeout:   loadClientTimeout,
		Transport: &http.Transport{MaxIdleConns: conc, MaxIdleConnsPerHost: conc, IdleConnTimeout: time.Minute},
	}
	defer client.CloseIdleConnections()
	interval := time.Duration(float64(time.Second) / s.opts.Load)
	t := time.NewTicker(max(interval, time.Millisecond))
	defer t.Stop()
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		select {
		case sem <- struct{}{}:
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				loadOnce(ctx, client, base, pickTarget())
			}()
		default:
			s.metrics.loadSkipped.Inc()
		}
	}
}

// loadOnce sends one request and drains the answer; outcomes are recorded by the server side.
func loadOnce(ctx context.Context, client *http.Client, base string, t loadTarget) {
	var body io.Reader
	if t.body != "" {
		body = strings.NewReader(t.body)
	}
	req, err := http.NewRequestWithContext(ctx, t.method, base+t.path, body)
	if err != nil {
		return
	}
	if t.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}
