package redis

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/perfbot/perfbot/internal/probetest"
)

// redisTestServer is a throwaway redis-server on a unix socket in a temp dir, so tests can change its
// config (maxmemory, slowlog) and stop it without touching the shared Redis.
type redisTestServer struct {
	Sock   string
	Cmd    *exec.Cmd
	Client *goredis.Client
}

// redisTestStart starts redis-server with extra config args and stops it (by PID) when the test ends.
func redisTestStart(t testing.TB, args ...string) *redisTestServer {
	t.Helper()
	dir, err := os.MkdirTemp("", "rt") // short: unix socket paths are limited to ~100 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	sock := filepath.Join(dir, "redis.sock")
	base := []string{"--port", "0", "--unixsocket", sock, "--dir", dir, "--save", "", "--appendonly", "no",
		"--enable-debug-command", "local", "--logfile", filepath.Join(dir, "redis.log")}
	cmd := exec.Command("redis-server", append(base, args...)...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT) // in case a test stopped it
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	s := &redisTestServer{Sock: sock, Cmd: cmd}
	s.Client = goredis.NewClient(&goredis.Options{Network: "unix", Addr: sock, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = s.Client.Close() })
	probetest.Eventually(t, 10*time.Second, "redis-server on "+sock, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return s.Client.Ping(ctx).Err() == nil
	})
	return s
}
