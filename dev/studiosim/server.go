package studiosim

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
)

// Options configures a Server; zero fields take the defaults the stack uses.
type Options struct {
	Listen      string  // address Run listens on, default 127.0.0.1:18000
	DatabaseURL string  // PostgreSQL DSN of the app's database
	RedisAddr   string  // host:port of Redis
	KeyPrefix   string  // prefix of the app's Redis cache keys, default "studiosim"
	Load        float64 // built-in load in requests per second; 0 turns it off
	// LoadConcurrency bounds the built-in load's requests in flight; beyond it ticks are skipped.
	LoadConcurrency int
	Pool            int // PostgreSQL pool size, default 10
	// SyntheticEndpoints adds that many endpoints that exist only in the metrics (a few 20–80 ms
	// requests each per second), to make the service as large as a benchmark needs; default none.
	SyntheticEndpoints int
	Logger             *slog.Logger

	SeedIdeas    int // ideas seeded into an empty database, default 20000
	SeedProjects int // projects seeded into an empty database, default 200

	OpenAILatency  time.Duration // median latency of a simulated OpenAI call, default 700ms
	RetryBackoff   time.Duration // first backoff after a 429, doubled per retry, default 500ms
	AcquireTimeout time.Duration // wait for a pool connection before "connection timeout", default 3s
	QueryTimeout   time.Duration // a statement's budget, default 15s
	CacheTTL       time.Duration // lifetime of cached idea summaries, default 5s
	MaxCrews       int           // crews running at once before /api/agents/run answers 503, default 128

	// The simulated Kubernetes pods whose cAdvisor and kube-state-metrics series /metrics serves,
	// one container "app" each. Tests that share a Prometheus give each simulator its own Namespace.
	Namespace      string   // default "default"
	Deployment     string   // default "agentic-studio"; names the default pods
	Pods           []string // pod names, default 3 named by PodNames(Namespace, Deployment, 3)
	PodMemoryLimit int64    // each pod's memory limit in bytes, default 512 MiB
	PodCPULimit    float64  // each pod's CPU limit in cores, default 0.5

	NewID func() string    // fault ids, default random hex
	Now   func() time.Time // clock, default time.Now
}

func (o *Options) applyDefaults() {
	def := func(p *time.Duration, v time.Duration) {
		if *p <= 0 {
			*p = v
		}
	}
	defInt := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	if o.Listen == "" {
		o.Listen = "127.0.0.1:18000"
	}
	if o.KeyPrefix == "" {
		o.KeyPrefix = "studiosim"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	defInt(&o.LoadConcurrency, 32)
	defInt(&o.Pool, 10)
	defInt(&o.SeedIdeas, 20000)
	defInt(&o.SeedProjects, 200)
	defInt(&o.MaxCrews, 128)
	def(&o.OpenAILatency, 700*time.Millisecond)
	def(&o.RetryBackoff, 500*time.Millisecond)
	def(&o.AcquireTimeout, 3*time.Second)
	def(&o.QueryTimeout, 15*time.Second)
	def(&o.CacheTTL, 5*time.Second)
	if o.NewID == nil {
		o.NewID = randomID
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.applyPodDefaults()
}

func randomID() string {
	var b [6]byte
	_, _ = crand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Server is one simulator instance: its database pool, Redis client, metrics and faults.
type Server struct {
	opts    Options
	log     *slog.Logger
	pool    *pgxpool.Pool
	rdb     *redis.Client
	metrics *metrics
	faults  *faultSet
	openai  *recentCalls
	pods    *podSim
	handler http.Handler
	started time.Time

	crewSlots chan struct{}
	crews     sync.WaitGroup
	bg        context.Context // lives until Close; background crews and fault goroutines use it
	stopBg    context.CancelFunc

	closeOnce sync.Once
	closeErr  error
}

// New connects to PostgreSQL and Redis, creates and seeds the schema if missing, and returns a
// Server ready to serve. Close releases what it holds.
func New(opts Options) (*Server, error) {
	opts.applyDefaults()
	if err := opts.checkPods(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pool, err := openPool(ctx, opts.DatabaseURL, opts.Pool)
	if err != nil {
		return nil, err
	}
	rdb := redis.NewClient(&redis.Options{Addr: opts.RedisAddr, PoolSize: opts.Pool * 2})
	if err := rdb.Ping(ctx).Err(); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect redis %s: %w", opts.RedisAddr, err)
	}
	if err := ensureSchema(ctx, pool, opts.SeedIdeas, opts.SeedProjects); err != nil {
		pool.Close()
		rdb.Close()
		return nil, err
	}
	bg, stop := context.WithCancel(context.Background())
	s := &Server{
		opts: opts, log: opts.Logger, pool: pool, rdb: rdb,
		metrics: newMetrics(pool), faults: newFaultSet(), openai: newRecentCalls(64),
		started: opts.Now(), crewSlots: make(chan struct{}, opts.MaxCrews), bg: bg, stopBg: stop,
	}
	s.pods = newPodSim(opts, s.faults.effects)
	s.metrics.reg.MustRegister(s.pods)
	s.handler = s.routes()
	return s, nil
}

// Options returns the server's options with their defaults filled in, such as the pod names.
func (s *Server) Options() Options {
	o := s.opts
	o.Pods = slices.Clone(o.Pods)
	return o
}

func openPool(ctx context.Context, dsn string, size int) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	cfg.MaxConns = int32(size)
	cfg.ConnConfig.RuntimeParams["application_name"] = "studiosim"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err == nil {
		err = pool.Ping(ctx)
		if isMissingDatabase(err) {
			err = createDatabase(ctx, cfg.ConnConfig)
			if err == nil {
				err = pool.Ping(ctx)
			}
		}
	}
	if err != nil {
		if pool != nil {
			pool.Close()
		}
		return nil, fmt.Errorf("connect database %s@%s/%s: %w", cfg.ConnConfig.User, cfg.ConnConfig.Host,
			cfg.ConnConfig.Database, err)
	}
	return pool, nil
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET "+EndpointIdeas, s.instrument(EndpointIdeas, s.handleIdeas))
	mux.Handle("GET "+EndpointProjects, s.instrument(EndpointProjects, s.handleProjects))
	mux.Handle("POST "+EndpointAgentsRun, s.instrument(EndpointAgentsRun, s.handleAgentsRun))
	mux.Handle("GET "+EndpointHealth, s.instrument(EndpointHealth, s.handleHealth))
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{Registry: s.metrics.reg}))
	s.adminRoutes(mux)
	return mux
}

// Handler serves the API, /metrics and the admin API.
func (s *Server) Handler() http.Handler { return s.handler }

// Run listens on Options.Listen and serves until ctx is done, then shuts down gracefully.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.opts.Listen)
	if err != nil {
		s.Close()
		return fmt.Errorf("listen %s: %w", s.opts.Listen, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is done, drives the built-in load against ln's address, and on
// the way out clears every fault, drains requests and crews and calls Close.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("listening", "addr", ln.Addr().String(), "load_rps", s.opts.Load, "pool", s.opts.Pool)
	loadCtx, stopLoad := context.WithCancel(ctx)
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		if s.opts.Load > 0 {
			s.runLoad(loadCtx, "http://"+ln.Addr().String())
		}
	}()
	if s.opts.SyntheticEndpoints > 0 {
		go s.runSynthetic(loadCtx)
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	s.log.Info("shutting down")
	stopLoad()
	<-loadDone
	cctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	clearErr := s.closeFaults(cctx)
	if err := srv.Shutdown(cctx); err != nil {
		srv.Close()
	}
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	return errors.Join(serveErr, clearErr, s.Close())
}

// Close clears every fault, stops background crews and closes the database pool and Redis client.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		err := s.closeFaults(ctx)
		s.stopBg()
		s.crews.Wait()
		s.pool.Close()
		s.closeErr = errors.Join(err, s.rdb.Close())
		s.log.Info("stopped")
	})
	return s.closeErr
}
