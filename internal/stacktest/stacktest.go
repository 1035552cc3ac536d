// Package stacktest starts real, private backends for tests: a PostgreSQL database, a simulator
// instance and a Prometheus server that scrapes it. Each test gets its own, so tests run in parallel.
package stacktest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/dev/studiosim"
)

// AdminDSN is the local PostgreSQL server the tests create databases on.
const AdminDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// RedisAddr is the local Redis server.
const RedisAddr = "127.0.0.1:6379"

// RandomSuffix returns a short random hex string for unique names.
func RandomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Database creates a fresh database and drops it when the test ends; it returns its DSN.
func Database(t testing.TB, prefix string) string {
	t.Helper()
	_, dsn := NamedDatabase(t, prefix)
	return dsn
}

// NamedDatabase is Database, also returning the database's name.
func NamedDatabase(t testing.TB, prefix string) (name, dsn string) {
	t.Helper()
	name = prefix + "_" + RandomSuffix()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, AdminDSN)
	if err != nil {
		t.Fatalf("connect to PostgreSQL (is the stack up? scripts/stack up): %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, AdminDSN)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	})
	return name, fmt.Sprintf("postgres://postgres@127.0.0.1:5432/%s?sslmode=disable", name)
}

// Sim is a running simulator instance.
type Sim struct {
	URL    string // http://127.0.0.1:PORT
	Addr   string // 127.0.0.1:PORT
	DSN    string
	Client *studiosim.Client

	// The simulated pods whose cAdvisor and kube-state-metrics series the simulator serves;
	// each simulator of a test has its own namespace and pod names.
	Namespace      string
	Deployment     string
	Pods           []string
	PodMemoryLimit int64   // bytes
	PodCPULimit    float64 // cores
}

// StartSim runs a simulator with its own database and built-in load until the test ends.
func StartSim(t testing.TB, load float64) *Sim {
	t.Helper()
	return StartSimWith(t, load, studiosim.Options{})
}

// StartSimWith is StartSim with options, such as the simulated pods and their limits. The
// database, Redis, key prefix, load and seed sizes are set here; an empty Namespace becomes a
// unique "sim-<random>", so the pods' series of several simulators do not mix.
func StartSimWith(t testing.TB, load float64, opts studiosim.Options) *Sim {
	t.Helper()
	dsn := Database(t, "sim")
	opts.DatabaseURL, opts.KeyPrefix, opts.Load = dsn, "simtest:"+RandomSuffix(), load
	if opts.RedisAddr == "" {
		opts.RedisAddr = RedisAddr
	}
	if opts.SeedIdeas == 0 {
		opts.SeedIdeas = 5000
	}
	if opts.SeedProjects == 0 {
		opts.SeedProjects = 50
	}
	if opts.Namespace == "" {
		opts.Namespace = "sim-" + RandomSuffix()
	}
	srv, err := studiosim.New(opts)
	if err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done; _ = srv.Close() })
	o := srv.Options()
	s := &Sim{URL: "http://" + ln.Addr().String(), Addr: ln.Addr().String(), DSN: dsn,
		Namespace: o.Namespace, Deployment: o.Deployment, Pods: o.Pods, PodMemoryLimit: o.PodMemoryLimit, PodCPULimit: o.PodCPULimit}
	s.Client = &studiosim.Client{BaseURL: s.URL, HTTP: &http.Client{Timeout: 10 * time.Second}}
	return s
}

// Eventually polls cond every interval until it returns true or the timeout passes, then fails with msg.
func Eventually(t testing.TB, timeout, interval time.Duration, cond func() bool, msg string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: "+msg, append([]any{timeout}, args...)...)
		}
		time.Sleep(interval)
	}
}

// ServiceConfig is a perfbot configuration with one service, job, whose metrics prom scrapes from the
// simulator at simURL; node metrics are left out (the machine's load is not the service's).
func ServiceConfig(job, promURL, simURL string) *config.Config {
	c := &config.Config{Services: []config.Service{{
		Name:       job,
		Prometheus: config.Prometheus{URL: promURL, Selector: `job="` + job + `"`, NodeSelector: `job="none"`, Window: config.Duration(time.Minute)},
		HealthURL:  simURL + "/health/detailed",
		Thresholds: config.Thresholds{OpenAIP95: config.Duration(3 * time.Second)},
	}}}
	c.ApplyDefaults()
	return c
}
