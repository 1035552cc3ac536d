package probes

import (
	"errors"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/redis/go-redis/v9"
	"k8s.io/client-go/kubernetes"

	"github.com/perfbot/perfbot/config"
)

// Env is what probes look through: the service's configuration and clients for its backends.
// A nil client means that backend is not configured; probes that need it return ErrNotConfigured.
type Env struct {
	Service config.Service
	// Now is the evaluation time; queries are pure functions of (service, window, Now).
	Now    time.Time
	Window time.Duration

	Prom     promv1.API
	HTTP     *http.Client
	Postgres *pgxpool.Pool
	Redis    *redis.Client
	Kube     kubernetes.Interface

	// Broken holds backends that are configured but whose client could not be made;
	// probes needing them report this error instead of running.
	Broken map[Backend]error
}

// ErrNotConfigured is returned by probes whose backend is not configured for the service.
var ErrNotConfigured = errors.New("backend not configured")

// Has reports whether the service has the backend b configured.
func (e *Env) Has(b Backend) bool {
	if e.Broken[b] != nil {
		return true
	}
	switch b {
	case NeedsPrometheus:
		return e.Prom != nil
	case NeedsHTTP:
		return e.HTTP != nil && e.Service.HealthURL != ""
	case NeedsPostgres:
		return e.Postgres != nil
	case NeedsRedis:
		return e.Redis != nil
	case NeedsKube:
		return e.Kube != nil
	}
	return true
}
