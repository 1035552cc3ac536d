package studiosim

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Health statuses, best to worst.
const (
	healthy   = "healthy"
	degraded  = "degraded"
	unhealthy = "unhealthy"
)

// Health check limits: above "slow" a check is degraded, after "timeout" it is unhealthy.
const (
	dbSlow         = time.Second
	dbTimeout      = 3 * time.Second
	redisSlow      = 100 * time.Millisecond
	redisTimeout   = time.Second
	openaiSlow     = 5 * time.Second
	openaiErrLimit = 0.10
)

// Check is one dependency's state in /health/detailed.
type Check struct {
	Status    string  `json:"status"`
	LatencyMS float64 `json:"latency_ms"`
	Error     string  `json:"error,omitempty"`
}

// Health is the body of /health/detailed.
type Health struct {
	Status        string           `json:"status"`
	Timestamp     time.Time        `json:"timestamp"`
	UptimeSeconds float64          `json:"uptime_seconds"`
	Checks        map[string]Check `json:"checks"`
}

// handleHealth checks the database and Redis actively (concurrently) and OpenAI passively,
// from the recent calls the crew made. Database or Redis down is unhealthy (503).
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) error {
	var db, rc Check
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); db = s.checkDatabase(r.Context()) }()
	go func() { defer wg.Done(); rc = s.checkRedis(r.Context()) }()
	wg.Wait()
	h := Health{
		Timestamp:     s.opts.Now().UTC(),
		UptimeSeconds: s.opts.Now().Sub(s.started).Seconds(),
		Checks:        map[string]Check{"database": db, "redis": rc, "openai": s.checkOpenAI()},
	}
	h.Status = healthy
	for name, c := range h.Checks {
		switch {
		case c.Status == unhealthy && name != "openai":
			h.Status = unhealthy
		case c.Status != healthy && h.Status == healthy:
			h.Status = degraded
		}
	}
	code := http.StatusOK
	if h.Status == unhealthy {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, h)
	return nil
}

func grade(d, slow time.Duration, err error) Check {
	c := Check{Status: healthy, LatencyMS: float64(d.Microseconds()) / 1000}
	switch {
	case err != nil:
		c.Status, c.Error = unhealthy, err.Error()
	case d > slow:
		c.Status = degraded
	}
	return c
}

func (s *Server) checkDatabase(ctx context.Context) Check {
	ctx, cancel := context.WithTimeout(ctx, dbTimeout)
	defer cancel()
	start := time.Now()
	err := s.withConn(ctx, EndpointHealth, "ping", func(ctx context.Context, c *pgxpool.Conn) error {
		if sec := s.faults.effects().sqlSleep(EndpointHealth); sec > 0 {
			_, err := c.Exec(ctx, `SELECT pg_sleep($1)`, sec)
			return err
		}
		_, err := c.Exec(ctx, `SELECT 1`)
		return err
	})
	return grade(time.Since(start), dbSlow, err)
}

func (s *Server) checkRedis(ctx context.Context) Check {
	ctx, cancel := context.WithTimeout(ctx, redisTimeout)
	defer cancel()
	start := time.Now()
	err := s.rdb.Ping(ctx).Err()
	return grade(time.Since(start), redisSlow, err)
}

// checkOpenAI grades the recent calls: slow or often failing is degraded, mostly failing unhealthy.
func (s *Server) checkOpenAI() Check {
	n, median, errRate := s.openai.stats()
	c := Check{Status: healthy, LatencyMS: float64(median.Microseconds()) / 1000}
	switch {
	case n == 0:
	case errRate > 0.5:
		c.Status, c.Error = unhealthy, "most recent calls failed"
	case errRate > openaiErrLimit:
		c.Status, c.Error = degraded, "recent calls failing"
	case median > openaiSlow:
		c.Status = degraded
	}
	return c
}
