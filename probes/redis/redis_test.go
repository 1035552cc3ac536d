package redis

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/internal/probetest"
	"github.com/perfbot/perfbot/probes"
)

func redisTestEnv(c *goredis.Client) *probes.Env {
	return &probes.Env{Service: config.Default().Services[0], Now: time.Now(), Window: 5 * time.Minute, Redis: c}
}

func redisTestRun(t *testing.T, c *goredis.Client) probes.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, err := server(ctx, redisTestEnv(c))
	if err != nil {
		t.Fatalf("server: %v", err)
	}
	return r
}

func redisTestDo(t *testing.T, c *goredis.Client, args ...any) {
	t.Helper()
	if err := c.Do(context.Background(), args...).Err(); err != nil && !errors.Is(err, goredis.Nil) {
		t.Fatalf("%v: %v", args, err)
	}
}

func TestRedisSlowLogAndCommands(t *testing.T) {
	s := redisTestStart(t, "--slowlog-log-slower-than", "10000") // 10 ms
	for i := range 30 {
		redisTestDo(t, s.Client, "GET", "k"+strconv.Itoa(i))
	}
	redisTestDo(t, s.Client, "DEBUG", "SLEEP", "0.05")
	// Log everything from here on, so a command carrying personal data lands in the slow log too.
	redisTestDo(t, s.Client, "CONFIG", "SET", "slowlog-log-slower-than", "0")
	redisTestDo(t, s.Client, "SET", "user:alice@example.com", "hunter2")

	r := redisTestRun(t, s.Client)
	slow, ok := probetest.Table(r, "Slow log")
	if !ok {
		t.Fatalf("no slow log table in %+v", r.Tables)
	}
	var sawDebug, sawSet bool
	for _, row := range slow.Rows {
		switch row[3] {
		case "DEBUG SLEEP":
			took, err := time.ParseDuration(row[2])
			sawDebug = row[4] == "1" && err == nil && took >= 50*time.Millisecond
		case "SET":
			sawSet = row[4] == "2"
		}
	}
	if !sawDebug || !sawSet {
		t.Errorf("slow log = %q, want DEBUG SLEEP (1 arg, >= 50ms) and SET (2 args)", slow.Rows)
	}
	for _, secret := range []string{"alice@", "hunter2", "0.05", "user:"} {
		if strings.Contains(strings.ToLower(probetest.Text(r)), secret) {
			t.Errorf("result shows %q:\n%s", secret, probetest.Text(r))
		}
	}
	busiest, _ := probetest.Table(r, "Busiest commands")
	if len(busiest.Rows) == 0 || busiest.Rows[0][0] != "GET" || busiest.Rows[0][1] != "30" {
		t.Errorf("busiest = %q, want GET with 30 calls first", busiest.Rows)
	}
	slowest, _ := probetest.Table(r, "Slowest commands")
	if len(slowest.Rows) == 0 || slowest.Rows[0][0] != "DEBUG" {
		t.Errorf("slowest = %q, want DEBUG first", slowest.Rows)
	}
	if f, _ := probetest.Finding(r, "Redis memory"); f.Status != probes.OK || !strings.HasPrefix(f.Message, "no maxmemory set") {
		t.Errorf("memory finding = %+v, want the no-maxmemory note", f)
	}
}

// TestRedisMemoryNearMaxmemory: under noeviction a Redis past the WARN share of maxmemory is CRIT
// at once (its next writes fail with OOM); it is OK while well below.
func TestRedisMemoryNearMaxmemory(t *testing.T) {
	s := redisTestStart(t, "--maxmemory", "8mb", "--maxmemory-policy", "noeviction")
	if f, _ := probetest.Finding(redisTestRun(t, s.Client), "Redis memory"); f.Status != probes.OK || f.Value <= 0 || f.Value > 85 {
		t.Fatalf("empty Redis: %+v, want OK", f)
	}
	value := strings.Repeat("x", 16<<10)
	ctx := context.Background()
	for i := 0; ; i++ {
		err := s.Client.Set(ctx, "fill:"+strconv.Itoa(i), value, 0).Err()
		if err != nil {
			if !strings.Contains(err.Error(), "OOM") {
				t.Fatalf("fill: %v", err)
			}
			break
		}
		if i%5 != 0 {
			continue
		}
		switch f, _ := probetest.Finding(redisTestRun(t, s.Client), "Redis memory"); {
		case f.Status == probes.OK && f.Value > 85:
			t.Fatalf("OK above the WARN share: %+v", f)
		case f.Status == probes.Warn:
			t.Fatalf("WARN under noeviction, want CRIT: %+v", f)
		case f.Status == probes.Crit && (f.Value <= 85 || f.Threshold != 85 || !strings.Contains(f.Message, "OOM")):
			t.Fatalf("CRIT below the WARN share or without saying why: %+v", f)
		}
	}
	r := redisTestRun(t, s.Client)
	if f, _ := probetest.Finding(r, "Redis memory"); f.Status != probes.Crit || f.Value <= 95 {
		t.Errorf("at maxmemory: %+v, want CRIT", f)
	}
	if r.Status != probes.Crit {
		t.Errorf("result status = %v, want CRIT", r.Status)
	}
}

func TestRedisEvictionsAndHitRate(t *testing.T) {
	s := redisTestStart(t, "--maxmemory", "4mb", "--maxmemory-policy", "allkeys-lru")
	ctx := context.Background()
	// The first look has nothing to compare with: counters since the server started are context,
	// never a WARN (they may be a week old).
	first := redisTestRun(t, s.Client)
	if f, _ := probetest.Finding(first, "Redis evictions"); f.Status != probes.OK || !strings.Contains(f.Message, "since the server started") {
		t.Errorf("first look: evictions = %+v, want OK since start", f)
	}
	value := strings.Repeat("v", 16<<10)
	for i := range 600 { // ~10 MB into 4 MB: the oldest keys are evicted
		if err := s.Client.Set(ctx, "k"+strconv.Itoa(i), value, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	pipe := s.Client.Pipeline()
	for i := range 1200 { // keys 0..599 mostly evicted, so well under 80 % hit
		pipe.Get(ctx, "k"+strconv.Itoa(i%600))
		pipe.Get(ctx, "k599")
	}
	_, _ = pipe.Exec(ctx)

	r := redisTestRun(t, s.Client)
	if f, _ := probetest.Finding(r, "Redis evictions"); f.Status != probes.Warn || f.Value <= 0 {
		t.Errorf("evictions = %+v, want WARN", f)
	}
	info := parseRedisInfo(s.Client.Info(ctx, "stats").Val())
	hits, misses := info.int("keyspace_hits"), info.int("keyspace_misses")
	want := 100 * float64(hits) / float64(hits+misses)
	f, _ := probetest.Finding(r, "Redis hit rate")
	// INFO itself is not a lookup, so the probe saw the same counters.
	if f.Value != want || f.Status != probes.Warn || want >= 80 {
		t.Errorf("hit rate = %+v, want WARN at %.2f %% (hits %d, misses %d)", f, want, hits, misses)
	}
}

func TestRedisUnreachable(t *testing.T) {
	t.Run("stopped", func(t *testing.T) {
		s := redisTestStart(t)
		// A client as an application would build it: go-redis ignores ctx deadlines by default.
		c := goredis.NewClient(&goredis.Options{Network: "unix", Addr: s.Sock})
		defer c.Close()
		redisTestRun(t, c) // connected and working
		if err := s.Cmd.Process.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = s.Cmd.Process.Signal(syscall.SIGCONT) }()
		redisTestDeadline(t, c)
	})
	t.Run("gone", func(t *testing.T) {
		s := redisTestStart(t)
		_ = s.Cmd.Process.Kill()
		_ = s.Cmd.Wait()
		redisTestDeadline(t, s.Client)
	})
	if _, err := server(context.Background(), &probes.Env{}); !errors.Is(err, probes.ErrNotConfigured) {
		t.Errorf("no client: %v, want ErrNotConfigured", err)
	}
}

func redisTestDeadline(t *testing.T, c *goredis.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := server(ctx, redisTestEnv(c))
	if err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("Redis returned %v after %s; want an error within the 300ms deadline", err, time.Since(start))
	}
}

func TestRedisCommandName(t *testing.T) {
	tests := []struct {
		args []string
		name string
		n    int
	}{
		{[]string{"set", "user:alice@example.com", "hunter2"}, "SET", 2},
		{[]string{"config", "get", "maxmemory"}, "CONFIG GET", 1},
		{[]string{"mget", "a", "b", "c"}, "MGET", 3},
		{append(append([]string{"del"}, strings.Split(strings.Repeat("k ", 30), " ")[:30]...), "... (70 more arguments)"), "DEL", 100},
		{nil, "?", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if name, n := redisCommandName(tt.args); name != tt.name || n != tt.n {
				t.Errorf("redisCommandName(%q) = %q, %d; want %q, %d", tt.args, name, n, tt.name, tt.n)
			}
		})
	}
}

// TestRedisSharedServer reads the stack's own Redis, which the probe must leave as it found it.
func TestRedisSharedServer(t *testing.T) {
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
	defer c.Close()
	r := redisTestRun(t, c)
	if _, ok := probetest.Finding(r, "Redis memory"); !ok || r.Summary == "" {
		t.Errorf("shared Redis: %+v", r)
	}
}

func BenchmarkRedis(b *testing.B) {
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
	defer c.Close()
	env := redisTestEnv(c)
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if _, err := server(ctx, env); err != nil {
			b.Fatal(err)
		}
		cancel()
	}
}
