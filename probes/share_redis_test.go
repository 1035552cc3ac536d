package probes

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"github.com/perfbot/perfbot/internal/stacktest"
)

// replica is one perfbot process's runner: its own in-process Coalescer, sharing through Redis.
func replica(t *testing.T, addr string, lock time.Duration) (Runner, *RedisShare) {
	t.Helper()
	share := NewRedisShare(addr, lock, time.Minute, nil)
	share.Poll = 5 * time.Millisecond
	// These tests are about sharing, not about a slow Redis: on a loaded machine an answer may take
	// longer than the product's 300 ms, which would rightly send a replica to per-process sharing.
	_ = share.Client.Close()
	share.Client = redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 5 * time.Second, ReadTimeout: 5 * time.Second,
		WriteTimeout: 5 * time.Second, MaxRetries: -1, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = share.Close() })
	return Runner{Timeout: 5 * time.Second, Share: &Coalescer{TTL: time.Minute, Remote: share}}, share
}

// countingProbe counts its runs and returns a result with what JSON could not carry (NaN, times).
func countingProbe(runs *atomic.Int32) Probe {
	return Probe{Name: "p95", Title: "API latency", Run: func(ctx context.Context, env *Env) (Result, error) {
		runs.Add(1)
		r := Result{Summary: "p95 1.2s"}
		r.Add(Finding{Check: "p95", Status: Warn, Value: 1.2, Threshold: 0.5, Onset: env.Now, Baseline: &Baseline{Yesterday: math.NaN(), LastWeek: -1}})
		r.Charts = []Chart{{Title: "p95", Series: []Series{{Name: "/api", Points: []Point{{T: env.Now, V: math.NaN()}}}}}}
		return r, nil
	}}
}

// TestRedisShareRunsOnceAcrossReplicas: three replicas, each with ten commands at once, run a
// probe for the same service, window and time once between them; every command gets its result.
func TestRedisShareRunsOnceAcrossReplicas(t *testing.T) {
	addr, _ := stacktest.StartRedis(t)
	var runs atomic.Int32
	probe := countingProbe(&runs)
	env := testEnv()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var got []Result
	for range 3 {
		r, _ := replica(t, addr, 10*time.Second)
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res := r.Run(context.Background(), env, []Probe{probe}, nil)
				mu.Lock()
				got = append(got, res...)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	if n := runs.Load(); n != 1 {
		t.Errorf("the probe ran %d times across 3 replicas, want once", n)
	}
	for _, res := range got {
		if res.Err != nil || res.Probe != "p95" || res.Title != "API latency" || res.Status != Warn || len(res.Findings) != 1 ||
			!res.Findings[0].Onset.Equal(env.Now) || !math.IsNaN(res.Findings[0].Baseline.Yesterday) ||
			!math.IsNaN(res.Charts[0].Series[0].Points[0].V) {
			t.Fatalf("a replica got %+v", res)
		}
	}
	other := *env
	other.Window = 2 * time.Minute
	r, _ := replica(t, addr, 10*time.Second)
	r.Run(context.Background(), &other, []Probe{probe}, nil)
	if n := runs.Load(); n != 2 {
		t.Errorf("another window is another run: %d runs, want 2", n)
	}
	changed := *env
	changed.Service.Prometheus.URL = "http://elsewhere:9090"
	r.Run(context.Background(), &changed, []Probe{probe}, nil)
	if n := runs.Load(); n != 3 {
		t.Errorf("a service of the same name with other settings is another run: %d runs, want 3", n)
	}
}

// TestRedisShareDeadRunnerOnlyDelays: a replica that claimed a run and died never publishes it;
// once its claim times out another replica runs the probe itself.
func TestRedisShareDeadRunnerOnlyDelays(t *testing.T) {
	addr, client := stacktest.StartRedis(t)
	var runs atomic.Int32
	probe := countingProbe(&runs)
	env := testEnv()
	key := shareKey(coalesceKey{probe: probe.Name, service: env.Service.Name, window: env.Window, at: env.Now.UnixNano()}, env)
	if err := client.SetNX(context.Background(), key+":lock", "a replica that died", 300*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	r, _ := replica(t, addr, 10*time.Second)
	res := r.Run(context.Background(), env, []Probe{probe}, nil)
	if res[0].Err != nil || res[0].Status != Warn || runs.Load() != 1 {
		t.Errorf("after the dead runner's claim timed out: %d runs, result %+v", runs.Load(), res[0])
	}
}

// TestRedisShareFallsBackWhenRedisIsDown: with Redis stopped, probes still run (shared inside
// the process only), Status says why and the metric reads 0; when Redis is back, sharing resumes.
func TestRedisShareFallsBackWhenRedisIsDown(t *testing.T) {
	addr, client := stacktest.StartRedis(t)
	r, share := replica(t, addr, 10*time.Second)
	if err := share.Status(context.Background()); err != nil {
		t.Fatalf("redis up: %v", err)
	}
	if v := testutil.ToFloat64(shareRedisUp); v != 1 {
		t.Errorf("perfbot_probe_share_redis_up = %v while Redis answers", v)
	}
	_ = client.ShutdownNoSave(context.Background()).Err()
	stacktest.Eventually(t, 10*time.Second, 20*time.Millisecond, func() bool {
		return share.Status(context.Background()) != nil
	}, "redis still answers after SHUTDOWN")
	if v := testutil.ToFloat64(shareRedisUp); v != 0 {
		t.Errorf("perfbot_probe_share_redis_up = %v while Redis is down", v)
	}
	var runs atomic.Int32
	probe := countingProbe(&runs)
	local := testutil.ToFloat64(shareOutcomes.WithLabelValues("local"))
	var wg sync.WaitGroup
	results := make([][]Result, 10)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = r.Run(context.Background(), testEnv(), []Probe{probe}, nil)
		}()
	}
	wg.Wait()
	for _, res := range results {
		if res[0].Err != nil || res[0].Status != Warn {
			t.Fatalf("with Redis down a probe must still answer: %+v", res[0])
		}
	}
	if n := runs.Load(); n != 1 {
		t.Errorf("ten commands in one process ran the probe %d times with Redis down, want once", n)
	}
	if d := testutil.ToFloat64(shareOutcomes.WithLabelValues("local")) - local; d < 1 {
		t.Errorf("perfbot_probe_share_total{outcome=\"local\"} did not count the fallback")
	}
}
