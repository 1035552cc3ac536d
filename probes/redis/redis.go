// Package redis holds the Redis probe: clients, memory, evictions, hit rate, command statistics and
// the slow log, read with INFO and SLOWLOG only.
package redis

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/perfbot/perfbot/internal/textfmt"
	"github.com/perfbot/perfbot/probes"
)

// The Redis probe's thresholds.
const (
	// RedisHitWarn is the keyspace hit rate below which a cache with RedisHitMinLookups lookups is a WARN.
	RedisHitWarn = 0.80
	// RedisHitMinLookups is how many lookups a hit rate needs before it means anything.
	RedisHitMinLookups = 1000
	// RedisSlowLogEntries is how many of the newest slow-log entries are shown.
	RedisSlowLogEntries = 10
	// RedisTopCommands is how many commands the busiest and slowest tables show.
	RedisTopCommands = 5
)

// Server is `/perf redis`: clients, memory against maxmemory, evictions, keyspace hit rate, the busiest
// and slowest commands from INFO commandstats, and the newest SLOWLOG entries with their argument
// values left out. It reads only (INFO, SLOWLOG GET) in one round trip.
//
// It returns when ctx is done even if the client does not honour ctx (go-redis does only with
// Options.ContextTimeoutEnabled); the abandoned call then ends at the client's read timeout.
var Server = probes.Probe{Name: "redis", Title: "Redis", Needs: probes.NeedsRedis, Run: server}

func server(ctx context.Context, env *probes.Env) (probes.Result, error) {
	r := probes.Result{Probe: "redis", Title: "Redis"}
	if env == nil || env.Redis == nil {
		return r, probes.ErrNotConfigured
	}
	got, err := redisFetch(ctx, env.Redis)
	if err != nil {
		return r, fmt.Errorf("redis %s: %w", env.Redis.Options().Addr, err)
	}
	info := got.info
	w := windowOf(env, env.Redis.Options().Addr, info)
	summary := []string{redisClients(&r, info), redisMemory(&r, env, info), redisHitRate(&r, w)}
	redisEvictions(&r, info, w)
	redisCommands(&r, info)
	if got.slowErr != nil {
		r.Add(probes.Finding{Check: "Redis slow log", Status: probes.Unknown, Message: "could not read the slow log: " + got.slowErr.Error()})
	} else {
		redisSlowLog(&r, env, got.slow)
	}
	r.Summary = strings.Join(summary, "; ")
	return r, nil
}

// Health is the assessment's view of Redis: memory against maxmemory (and what the eviction policy
// does there), keys evicted in the window, and slow commands in the window — the runbook's Redis
// causes of slow or failing requests, without /perf redis's tables.
var Health = probes.Probe{Name: "redis_health", Title: "Redis memory and slow log", Needs: probes.NeedsRedis, Run: health}

func health(ctx context.Context, env *probes.Env) (probes.Result, error) {
	r, err := server(ctx, env)
	if err != nil {
		return r, err
	}
	out := probes.Result{Summary: r.Summary}
	for _, f := range r.Findings {
		switch f.Signal {
		case probes.SigRedisMemory, probes.SigRedisEvictions, probes.SigRedisSlowLog:
			out.Add(f)
		}
	}
	return out, nil
}

// window is what the counters did over the probe's window, or since the server started when
// there is no earlier sample of this server within the window.
type window struct {
	evicted, hits, misses int64
	span                  time.Duration
	sinceStart            bool
}

func windowOf(env *probes.Env, id string, info redisInfo) window {
	now := env.Now
	if now.IsZero() {
		now = time.Now()
	}
	span := env.Window
	if span <= 0 {
		span = 5 * time.Minute
	}
	up := time.Duration(info.int("uptime_in_seconds")) * time.Second
	c := counters{at: now, evicted: info.int("evicted_keys"), hits: info.int("keyspace_hits"), misses: info.int("keyspace_misses"),
		startedAt: now.Add(-up)}
	base, ok := seen.since(id, c, span)
	if !ok {
		return window{evicted: c.evicted, hits: c.hits, misses: c.misses, span: up, sinceStart: true}
	}
	return window{evicted: c.evicted - base.evicted, hits: c.hits - base.hits, misses: c.misses - base.misses, span: now.Sub(base.at)}
}

func (w window) describe() string {
	if w.sinceStart {
		return "since the server started"
	}
	return "in the last " + textfmt.Seconds(w.span.Seconds())
}

type redisReply struct {
	info    redisInfo
	slow    []goredis.SlowLog
	slowErr error // SLOWLOG may be renamed away on managed Redis; the rest still shows
	err     error
}

// redisFetch pipelines INFO all and SLOWLOG GET; a failing INFO is the probe's error.
func redisFetch(ctx context.Context, c *goredis.Client) (redisReply, error) {
	ch := make(chan redisReply, 1)
	go func() {
		var info *goredis.StringCmd
		var slow *goredis.SlowLogCmd
		_, perr := c.Pipelined(ctx, func(p goredis.Pipeliner) error {
			info = p.Info(ctx, "all")
			slow = p.SlowLogGet(ctx, RedisSlowLogEntries)
			return nil
		})
		if err := info.Err(); err != nil {
			ch <- redisReply{err: fmt.Errorf("INFO: %w", err)}
			return
		}
		// A connection that cannot be made fails the pipeline without setting its commands' errors.
		if perr != nil && info.Val() == "" {
			ch <- redisReply{err: perr}
			return
		}
		ch <- redisReply{info: parseRedisInfo(info.Val()), slow: slow.Val(), slowErr: slow.Err()}
	}()
	select {
	case x := <-ch:
		return x, x.err
	case <-ctx.Done():
		return redisReply{}, context.Cause(ctx)
	}
}

// redisInfo is INFO's output: "key:value" lines; the section headers are dropped.
type redisInfo map[string]string

func parseRedisInfo(s string) redisInfo {
	m := redisInfo{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, "#") {
			m[k] = v
		}
	}
	return m
}

func (m redisInfo) int(k string) int64 {
	n, _ := strconv.ParseInt(m[k], 10, 64)
	return n
}

func redisClients(r *probes.Result, info redisInfo) string {
	conn, blocked, maxc := info.int("connected_clients"), info.int("blocked_clients"), info.int("maxclients")
	f := probes.Finding{Check: "Redis clients", Value: float64(conn), Unit: "clients",
		Message: fmt.Sprintf("%d clients connected, %d blocked in a blocking command", conn, blocked)}
	if maxc > 0 {
		f.Status, f.Threshold = probes.LevelStatus(float64(conn)/float64(maxc), 0.80, 0.95)
		f.Threshold *= float64(maxc)
		f.Message += fmt.Sprintf(" (maxclients %d)", maxc)
	}
	r.Add(f)
	return fmt.Sprintf("%d clients", conn)
}

func redisMemory(r *probes.Result, env *probes.Env, info redisInfo) string {
	used, maxm, policy := info.int("used_memory"), info.int("maxmemory"), info["maxmemory_policy"]
	f := probes.Finding{Check: "Redis memory", Signal: probes.SigRedisMemory, Unit: "%"}
	if maxm <= 0 {
		f.Message = "no maxmemory set: Redis grows until the host runs out of memory; using " + redisBytes(used)
		r.Add(f)
		return redisBytes(used) + " used, no maxmemory"
	}
	usage := float64(used) / float64(maxm)
	f.Value = 100 * usage
	var th float64
	rc := env.Service.Redis
	f.Status, th = probes.LevelStatus(usage, rc.MemoryWarn, rc.MemoryCrit)
	f.Threshold = 100 * th
	f.Message = fmt.Sprintf("%s of maxmemory %s in use (%.1f %%), policy %s", redisBytes(used), redisBytes(maxm), f.Value, policy)
	if policy == "noeviction" && f.Status >= probes.Warn {
		// Nothing is evicted: the next writes fail with OOM, which the service sees as errors.
		f.Status, f.Threshold = probes.Crit, 100*rc.MemoryWarn
		f.Message += ": writes fail with OOM at maxmemory"
	}
	r.Add(f)
	return fmt.Sprintf("%s of %s (%.0f %%)", redisBytes(used), redisBytes(maxm), f.Value)
}

func redisEvictions(r *probes.Result, info redisInfo, w window) {
	f := probes.Finding{Check: "Redis evictions", Signal: probes.SigRedisEvictions, Value: float64(w.evicted), Unit: "keys",
		Message: "no keys evicted " + w.describe()}
	if w.evicted > 0 {
		f.Message = fmt.Sprintf("%d keys evicted %s (policy %s): the cache is full", w.evicted, w.describe(), info["maxmemory_policy"])
		if !w.sinceStart {
			f.Status = probes.Warn
		}
	}
	r.Add(f)
}

func redisHitRate(r *probes.Result, w window) string {
	f := probes.Finding{Check: "Redis hit rate", Threshold: 100 * RedisHitWarn, Unit: "%", LowerIsWorse: true}
	if w.hits+w.misses == 0 {
		f.Message = "no key lookups " + w.describe()
		r.Add(f)
		return "no lookups"
	}
	f.Value = 100 * float64(w.hits) / float64(w.hits+w.misses)
	f.Message = fmt.Sprintf("%.1f %% of %d key lookups hit %s", f.Value, w.hits+w.misses, w.describe())
	if f.Value < f.Threshold && w.hits+w.misses >= RedisHitMinLookups && !w.sinceStart {
		f.Status = probes.Warn
	}
	r.Add(f)
	return fmt.Sprintf("hit rate %.1f %%", f.Value)
}

// redisCmdStat is one `cmdstat_<name>:calls=…,usec=…,usec_per_call=…` line of INFO commandstats.
type redisCmdStat struct {
	name        string
	calls       int64
	usecPerCall float64
}

var redisCmdStatRe = regexp.MustCompile(`calls=(\d+),usec=\d+,usec_per_call=([0-9.]+)`)

func redisCommands(r *probes.Result, info redisInfo) {
	var stats []redisCmdStat
	for k, v := range info {
		name, ok := strings.CutPrefix(k, "cmdstat_")
		m := redisCmdStatRe.FindStringSubmatch(v)
		if !ok || m == nil {
			continue
		}
		calls, _ := strconv.ParseInt(m[1], 10, 64)
		per, _ := strconv.ParseFloat(m[2], 64)
		// Redis 7 names subcommands "client|list".
		stats = append(stats, redisCmdStat{strings.ToUpper(strings.ReplaceAll(name, "|", " ")), calls, per})
	}
	if len(stats) == 0 {
		return
	}
	table := func(title string, less func(a, b redisCmdStat) bool) probes.Table {
		sort.Slice(stats, func(i, j int) bool {
			if less(stats[i], stats[j]) != less(stats[j], stats[i]) {
				return less(stats[i], stats[j])
			}
			return stats[i].name < stats[j].name
		})
		t := probes.Table{Title: title, Columns: []string{"command", "calls", "µs/call"}}
		for _, s := range stats[:min(len(stats), RedisTopCommands)] {
			t.Rows = append(t.Rows, []string{s.name, strconv.FormatInt(s.calls, 10), strconv.FormatFloat(s.usecPerCall, 'f', 1, 64)})
		}
		return t
	}
	r.Tables = append(r.Tables,
		table("Busiest commands", func(a, b redisCmdStat) bool { return a.calls > b.calls }),
		table("Slowest commands (mean)", func(a, b redisCmdStat) bool { return a.usecPerCall > b.usecPerCall }))
}

// redisContainers are commands whose first argument is a subcommand, not a key or value.
var redisContainers = map[string]bool{"ACL": true, "CLIENT": true, "CLUSTER": true, "COMMAND": true, "CONFIG": true,
	"DEBUG": true, "FUNCTION": true, "LATENCY": true, "MEMORY": true, "MODULE": true, "OBJECT": true,
	"PUBSUB": true, "SCRIPT": true, "SLOWLOG": true, "XGROUP": true, "XINFO": true}

var redisMoreArgs = regexp.MustCompile(`^\.\.\. \((\d+) more arguments\)$`)

// redisCommandName returns the command (with its subcommand) and how many further arguments it had;
// the arguments themselves (keys and values) are never shown.
func redisCommandName(args []string) (string, int) {
	if len(args) == 0 {
		return "?", 0
	}
	name, rest := strings.ToUpper(args[0]), args[1:]
	if redisContainers[name] && len(rest) > 0 {
		name, rest = name+" "+strings.ToUpper(rest[0]), rest[1:]
	}
	n := len(rest)
	if n > 0 { // SLOWLOG keeps 32 arguments and says how many more there were
		if m := redisMoreArgs.FindStringSubmatch(rest[n-1]); m != nil {
			more, _ := strconv.Atoi(m[1])
			n += more - 1
		}
	}
	return name, n
}

// redisSlowLog lists the newest slow-log entries and judges those within the window that took at
// least redis.slow_command: slow commands block the single-threaded server for every client.
func redisSlowLog(r *probes.Result, env *probes.Env, entries []goredis.SlowLog) {
	if len(entries) == 0 {
		return
	}
	now := env.Now
	if now.IsZero() {
		now = time.Now()
	}
	span := env.Window
	if span <= 0 {
		span = 5 * time.Minute
	}
	slow := env.Service.Redis.SlowCommand.D()
	t := probes.Table{Title: "Slow log (newest first)", Columns: []string{"id", "ago", "took", "command", "args"}}
	var recent int
	var worst goredis.SlowLog
	for _, e := range entries {
		name, n := redisCommandName(e.Args)
		t.Rows = append(t.Rows, []string{strconv.FormatInt(e.ID, 10), textfmt.Seconds(max(now.Sub(e.Time), 0).Seconds()),
			textfmt.Seconds(e.Duration.Seconds()), name, strconv.Itoa(n)})
		if now.Sub(e.Time) <= span && e.Duration >= slow && slow > 0 {
			recent++
			if e.Duration > worst.Duration {
				worst = e
			}
		}
	}
	r.Tables = append(r.Tables, t)
	if recent > 0 {
		name, _ := redisCommandName(worst.Args)
		st := probes.Warn
		if worst.Duration >= 10*slow {
			st = probes.Crit
		}
		r.Add(probes.Finding{Check: "Redis slow log", Signal: probes.SigRedisSlowLog, Status: st, Value: float64(worst.Duration.Milliseconds()),
			Threshold: float64(slow.Milliseconds()), Unit: "ms", Onset: worst.Time, Evidence: "SLOWLOG GET",
			Message: fmt.Sprintf("%d command(s) took %s or more in the last %s; the slowest, %s, took %s",
				recent, textfmt.Seconds(slow.Seconds()), textfmt.Seconds(span.Seconds()), name, textfmt.Seconds(worst.Duration.Seconds()))})
	}
}

// redisBytes formats a byte count: 512 B, 7.6 MiB.
func redisBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
