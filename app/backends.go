package app

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/redis/go-redis/v9"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/handlers"
	"github.com/perfbot/perfbot/probes"
)

// Backends builds and caches the clients each service's probes look through.
type Backends struct {
	cfg *config.Config
	now func() time.Time

	mu    sync.Mutex
	cache map[string]*probes.Env
	pools []*pgxpool.Pool
	rdbs  []*redis.Client
}

// NewBackends returns client factories for cfg's services; clients are made on first use.
func NewBackends(cfg *config.Config, now func() time.Time) *Backends {
	if now == nil {
		now = time.Now
	}
	return &Backends{cfg: cfg, now: now, cache: map[string]*probes.Env{}}
}

// Env returns a fresh probe environment for the named service (empty: the first), evaluated now.
func (b *Backends) Env(service string, window time.Duration) (*probes.Env, error) {
	svc, ok := b.cfg.Service(service)
	if !ok {
		return nil, errs.NotFoundf("no service %q is configured (configured: %v)", service, b.cfg.ServiceNames())
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	base, ok := b.cache[svc.Name]
	if !ok {
		var err error
		if base, err = b.build(svc); err != nil {
			return nil, err
		}
		b.cache[svc.Name] = base
	}
	env := *base
	env.Now = b.now().Truncate(handlers.ShareBucket)
	env.Window = svc.Prometheus.Window.D()
	if window > 0 {
		env.Window = window
	}
	return &env, nil
}

func (b *Backends) build(svc config.Service) (*probes.Env, error) {
	env := &probes.Env{Service: svc, HTTP: &http.Client{Timeout: 30 * time.Second}}
	if svc.Prometheus.URL != "" {
		c, err := promapi.NewClient(promapi.Config{Address: svc.Prometheus.URL})
		if err != nil {
			return nil, fmt.Errorf("prometheus client for %s: %w", svc.Name, err)
		}
		env.Prom = promv1.NewAPI(c)
	}
	if svc.Postgres.DSN != "" {
		pc, err := pgxpool.ParseConfig(svc.Postgres.DSN)
		if err != nil {
			return nil, errs.Invalidf("postgres dsn for %s does not parse", svc.Name)
		}
		pc.MaxConns = 4
		pool, err := pgxpool.NewWithConfig(context.Background(), pc)
		if err != nil {
			return nil, fmt.Errorf("postgres pool for %s: %w", svc.Name, err)
		}
		b.pools = append(b.pools, pool)
		env.Postgres = pool
	}
	if svc.Redis.Addr != "" {
		r := redis.NewClient(&redis.Options{Addr: svc.Redis.Addr, Password: svc.Redis.Password, MaxRetries: -1, ContextTimeoutEnabled: true})
		b.rdbs = append(b.rdbs, r)
		env.Redis = r
	}
	if svc.Kubernetes.Kubeconfig != "" {
		kc, err := kubeClient(svc.Kubernetes.Kubeconfig)
		if err != nil {
			env.Broken = map[probes.Backend]error{probes.NeedsKube: err}
		}
		env.Kube = kc
	}
	return env, nil
}

// kubeClient reads a kubeconfig file, or the pod's own ServiceAccount when path is "in-cluster".
func kubeClient(path string) (kubernetes.Interface, error) {
	var rc *rest.Config
	var err error
	if path == "in-cluster" {
		rc, err = rest.InClusterConfig()
	} else {
		rc, err = clientcmd.BuildConfigFromFlags("", path)
	}
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	rc.Timeout = 30 * time.Second
	kc, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	return kc, nil
}

// Close releases every client made.
func (b *Backends) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.pools {
		p.Close()
	}
	for _, r := range b.rdbs {
		_ = r.Close()
	}
}
