package probes

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Remote shares probe runs beyond this process. Share returns the result of the run named key:
// one read from another replica's run, or run's own result when this replica is the one to run it.
type Remote interface {
	Share(ctx context.Context, key string, run func() Result) Result
}

// RedisShare shares probe runs between replicas through Redis. The first replica to claim a run
// (SET NX with a lock timeout) runs it and stores the result for the others; they poll for it. A
// runner that dies holding the claim delays the others by at most the lock timeout, after which one
// of them claims the run itself. While Redis does not answer, every replica runs its probes itself
// (identical runs are still shared inside the process by the Coalescer) and Status says so.
type RedisShare struct {
	Client *redis.Client
	// Lock is how long a claim holds before another replica may take the run over; longer than a
	// probe's own timeout, so a live runner always finishes first.
	Lock time.Duration
	// TTL is how long a successful result is kept (the time bucket probe runs share).
	TTL time.Duration
	// Poll is how often a waiting replica looks for the result (default 20ms).
	Poll time.Duration
	Log  *slog.Logger

	mu        sync.Mutex
	downErr   error     // the last Redis error, nil while Redis answers
	downUntil time.Time // Redis is not asked again before this (a down Redis costs one timeout a second, not one per probe)
}

// retryDown is how long a replica keeps to per-process sharing after Redis failed to answer.
const retryDown = time.Second

// failedTTL is how long a failed run's result stays readable: long enough for the replicas waiting
// on it, not so long that later commands do not try again.
const failedTTL = 2 * time.Second

// NewRedisShare returns a RedisShare over a client for addr with short timeouts: a Redis that does
// not answer must not hold a command back for long.
func NewRedisShare(addr string, lock, ttl time.Duration, log *slog.Logger) *RedisShare {
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 300 * time.Millisecond, ReadTimeout: 300 * time.Millisecond,
		WriteTimeout: 300 * time.Millisecond, MaxRetries: -1, ContextTimeoutEnabled: true})
	return &RedisShare{Client: c, Lock: lock, TTL: ttl, Log: log}
}

// Share implements Remote.
func (s *RedisShare) Share(ctx context.Context, key string, run func() Result) Result {
	if s.skip() {
		shareOutcomes.WithLabelValues("local").Inc()
		return run()
	}
	resKey, lockKey := key+":result", key+":lock"
	token := newToken()
	for {
		res, found, err := s.read(ctx, resKey)
		if err == nil && found {
			s.up()
			shareOutcomes.WithLabelValues("remote").Inc()
			return res
		}
		var won bool
		if err == nil {
			won, err = s.Client.SetNX(ctx, lockKey, token, s.Lock).Result()
		}
		if err != nil {
			if ctx.Err() != nil {
				return waitedOut(ctx)
			}
			s.down(err)
			shareOutcomes.WithLabelValues("local").Inc()
			return run()
		}
		s.up()
		if won {
			res := run()
			s.publish(resKey, lockKey, token, res)
			shareOutcomes.WithLabelValues("ran").Inc()
			return res
		}
		if err := s.wait(ctx, resKey, lockKey); err != nil {
			if ctx.Err() != nil {
				return waitedOut(ctx)
			}
			s.down(err)
			shareOutcomes.WithLabelValues("local").Inc()
			return run()
		}
	}
}

// Status is nil while Redis answers, or the error that made this replica fall back to sharing
// probe runs only inside its own process. It asks Redis (PING) to find out.
func (s *RedisShare) Status(ctx context.Context) error {
	if err := s.Client.Ping(ctx).Err(); err != nil {
		s.down(err)
		return err
	}
	s.up()
	return nil
}

// Close releases the Redis client.
func (s *RedisShare) Close() error { return s.Client.Close() }

// wait polls until the result is there or the claim is gone (its runner failed, or died and the
// lock timed out); the caller then reads or claims again.
func (s *RedisShare) wait(ctx context.Context, resKey, lockKey string) error {
	poll := s.Poll
	if poll <= 0 {
		poll = 20 * time.Millisecond
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		n, err := s.Client.Exists(ctx, resKey).Result()
		if err != nil || n > 0 {
			return err
		}
		if n, err = s.Client.Exists(ctx, lockKey).Result(); err != nil || n == 0 {
			return err
		}
	}
}

// release deletes the claim only if it is still this runner's (it may have timed out and been taken).
var release = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

// publish stores a run's result for the waiting replicas and gives up the claim. It outlives the
// command's context: the others are waiting for it.
func (s *RedisShare) publish(resKey, lockKey, token string, res Result) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	ttl := s.TTL
	if res.Err != nil {
		ttl = min(ttl, failedTTL)
	}
	var raw bytes.Buffer
	err := gob.NewEncoder(&raw).Encode(toWire(res))
	if err == nil {
		err = s.Client.Set(ctx, resKey, raw.Bytes(), ttl).Err()
	}
	err = errors.Join(err, release.Run(ctx, s.Client, []string{lockKey}, token).Err())
	if err != nil {
		s.down(err)
	}
}

func (s *RedisShare) read(ctx context.Context, key string) (Result, bool, error) {
	raw, err := s.Client.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return Result{}, false, nil
	}
	if err != nil {
		return Result{}, false, err
	}
	var w wireResult
	if err := gob.NewDecoder(bytes.NewReader(raw)).Decode(&w); err != nil {
		return Result{}, false, nil // written by another version of perfbot: run it here
	}
	return w.result(), true, nil
}

func (s *RedisShare) skip() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.downErr != nil && time.Now().Before(s.downUntil)
}

func (s *RedisShare) down(err error) {
	s.mu.Lock()
	was := s.downErr
	s.downErr, s.downUntil = err, time.Now().Add(retryDown)
	s.mu.Unlock()
	shareRedisUp.Set(0)
	if was == nil && s.Log != nil {
		s.Log.Warn("redis does not answer: probe runs are shared only inside this process", "err", err)
	}
}

func (s *RedisShare) up() {
	s.mu.Lock()
	was := s.downErr
	s.downErr = nil
	s.mu.Unlock()
	shareRedisUp.Set(1)
	if was != nil && s.Log != nil {
		s.Log.Info("redis answers again: probe runs are shared across replicas")
	}
}

// waitedOut is the result of a command whose deadline passed while another replica ran the probe.
func waitedOut(ctx context.Context) Result {
	return Result{Status: Unknown, Err: context.Cause(ctx), TimedOut: true, Summary: "timed out waiting for a shared run"}
}

func newToken() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// shareKey names a probe run across replicas: the probe, its variant, the service, window and
// evaluation time, and a digest of the service's settings (two deployments with a service of the
// same name but other backends never share).
func shareKey(k coalesceKey, env *Env) string {
	cfg, _ := json.Marshal(env.Service)
	sum := sha256.Sum256(cfg)
	return fmt.Sprintf("perfbot:probe:%s:%s:%s:%d:%d:%s", k.probe, k.variant, k.service, k.window, k.at, hex.EncodeToString(sum[:8]))
}

// wireResult is a Result as stored in Redis (gob keeps NaN and times as they are); the error
// travels as its text.
type wireResult struct {
	R       Result
	ErrText string
}

func toWire(r Result) wireResult {
	w := wireResult{R: r}
	w.R.Err = nil
	if r.Err != nil {
		w.ErrText = r.Err.Error()
	}
	return w
}

func (w wireResult) result() Result {
	r := w.R
	if w.ErrText != "" {
		r.Err = errors.New(w.ErrText)
	}
	return r
}
