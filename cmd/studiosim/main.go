// Command studiosim runs the agentic-studio workload simulator: its HTTP API under a built-in
// load, the runbook's metrics, a log file, and the admin API that injects faults.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/perfbot/perfbot/dev/studiosim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "studiosim:", err)
		os.Exit(1)
	}
}

// run parses args, starts the simulator and serves until ctx is done.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("studiosim", flag.ContinueOnError)
	fs.SetOutput(stdout)
	listen := fs.String("listen", "127.0.0.1:18000", "address of the API, /metrics and /admin/faults")
	database := fs.String("database", "postgres://postgres@127.0.0.1:5432/studio?sslmode=disable", "PostgreSQL DSN of the app's database")
	redisAddr := fs.String("redis", "127.0.0.1:6379", "Redis host:port")
	logFile := fs.String("log-file", "", "append log lines to this file (default stderr)")
	load := fs.Float64("load", 20, "built-in steady load in requests per second across endpoints; 0 turns it off")
	pool := fs.Int("pool", 10, "PostgreSQL connection pool size")
	namespace := fs.String("namespace", studiosim.DefaultNamespace, "namespace label of the simulated pods' series")
	deployment := fs.String("deployment", studiosim.DefaultDeployment, "Deployment the default pod names derive from")
	pods := fs.String("pods", "", "comma-separated simulated pod names (default 3 named <deployment>-<hash>-<suffix>)")
	memLimit := fs.String("pod-memory-limit", "512Mi", "each simulated pod's memory limit, a Kubernetes quantity")
	cpuLimit := fs.String("pod-cpu-limit", "500m", "each simulated pod's CPU limit, a Kubernetes quantity")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *load < 0 || *pool < 1 {
		return fmt.Errorf("-load must be >= 0 and -pool >= 1 (got %g and %d)", *load, *pool)
	}
	podOpts, err := podOptions(*namespace, *deployment, *pods, *memLimit, *cpuLimit)
	if err != nil {
		return err
	}
	logOut := io.Writer(os.Stderr)
	if *logFile != "" {
		f, err := os.OpenFile(*logFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return fmt.Errorf("open log file: %w", err)
		}
		defer f.Close()
		logOut = f
	}
	log := slog.New(studiosim.NewLineHandler(logOut, slog.LevelInfo))
	opts := podOpts
	opts.Listen, opts.DatabaseURL, opts.RedisAddr = *listen, *database, *redisAddr
	opts.Load, opts.Pool, opts.Logger = *load, *pool, log
	srv, err := studiosim.New(opts)
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return errors.Join(fmt.Errorf("listen: %w", err), srv.Close())
	}
	fmt.Fprintf(stdout, "studiosim serving on http://%s\n", ln.Addr())
	return srv.Serve(ctx, ln)
}

// podOptions reads the simulated pods' flags; every problem is reported at once.
func podOptions(namespace, deployment, pods, memLimit, cpuLimit string) (studiosim.Options, error) {
	o := studiosim.Options{Namespace: namespace, Deployment: deployment}
	var errs []error
	for _, p := range strings.Split(pods, ",") {
		if p = strings.TrimSpace(p); p != "" {
			o.Pods = append(o.Pods, p)
		}
	}
	if q, err := resource.ParseQuantity(memLimit); err != nil || q.Value() <= 0 {
		errs = append(errs, fmt.Errorf("-pod-memory-limit %q: want a positive quantity such as 512Mi", memLimit))
	} else {
		o.PodMemoryLimit = q.Value()
	}
	if q, err := resource.ParseQuantity(cpuLimit); err != nil || q.MilliValue() <= 0 {
		errs = append(errs, fmt.Errorf("-pod-cpu-limit %q: want a positive quantity such as 500m or 0.5", cpuLimit))
	} else {
		o.PodCPULimit = float64(q.MilliValue()) / 1000
	}
	return o, errors.Join(errs...)
}
