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
	"syscall"

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
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *load < 0 || *pool < 1 {
		return fmt.Errorf("-load must be >= 0 and -pool >= 1 (got %g and %d)", *load, *pool)
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
	srv, err := studiosim.New(studiosim.Options{
		Listen: *listen, DatabaseURL: *database, RedisAddr: *redisAddr,
		Load: *load, Pool: *pool, Logger: log,
	})
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
