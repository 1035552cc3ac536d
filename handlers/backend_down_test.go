package handlers_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perfbot/perfbot/app"
	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/handlers"
)

// hangingListener accepts connections and never answers, like a process stopped with SIGSTOP.
func hangingListener(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestBackendsDownStillReport: a hung or stopped PostgreSQL, Redis or Kubernetes API makes its section say
// so within the command's deadline, and the report still arrives.
func TestBackendsDownStillReport(t *testing.T) {
	cases := []struct {
		name, cmd, want string
		set             func(*config.Service, string)
		addr            func(*testing.T) string
	}{
		{"postgres hung", "db", "timed out", func(s *config.Service, a string) { s.Postgres.DSN = "postgres://u@" + a + "/db?connect_timeout=30" }, hangingListener},
		{"postgres stopped", "db", "unreachable", func(s *config.Service, a string) { s.Postgres.DSN = "postgres://u@" + a + "/db" }, closedPort},
		{"redis hung", "redis", "timed out", func(s *config.Service, a string) { s.Redis.Addr = a }, hangingListener},
		{"redis stopped", "redis", "unreachable", func(s *config.Service, a string) { s.Redis.Addr = a }, closedPort},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := config.Default()
			cfg.Commands = config.Commands{Deadline: config.Duration(3 * time.Second), ProbeTimeout: config.Duration(time.Second)}
			c.set(&cfg.Services[0], c.addr(t))
			b := app.NewBackends(cfg, nil)
			defer b.Close()
			start := time.Now()
			rep, err := handlers.New(cfg, b, nil).Handle(context.Background(), handlers.Request{Text: c.cmd})
			if err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > cfg.Commands.Deadline.D()+time.Second {
				t.Errorf("report took %s, past the %s deadline", d, cfg.Commands.Deadline.D())
			}
			if len(rep.Sections) != 1 || !strings.Contains(rep.Sections[0].Err, c.want) {
				t.Fatalf("sections = %+v, want one saying %q", rep.Sections, c.want)
			}
			if !strings.Contains(rep.Headline, "could not run") {
				t.Errorf("headline %q", rep.Headline)
			}
		})
	}
}
