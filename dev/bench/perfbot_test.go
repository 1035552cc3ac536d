package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/perfbot/perfbot/dev/slackserver"
	"github.com/perfbot/perfbot/internal/stacktest"
)

// service is where one perfbot process looks: a Prometheus and a simulator, and optionally the
// stack's PostgreSQL database, Redis and API server (the same as scripts/stack up's perfbot.yaml).
type service struct {
	promURL, simURL, selector string
	studioDSN, redisAddr      string
	kubeconfig                string
}

// perfbot is one `perfbot run` process talking to the local Slack server.
type perfbot struct {
	cmd     *exec.Cmd
	httpURL string
	slack   *slackserver.Server
	done    chan struct{}
}

var perfbotBin string

func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startPerfbot writes a config for svc and runs `perfbot run` with it until the test ends.
func startPerfbot(t testing.TB, slack *slackserver.Server, svc service) *perfbot {
	t.Helper()
	if perfbotBin == "" {
		perfbotBin = stacktest.BuildGo(t, "./cmd/perfbot")
	}
	listen := freeAddr(t)
	var b strings.Builder
	fmt.Fprintf(&b, "services:\n  - name: agentic-studio\n    prometheus:\n      url: %s\n      selector: %s\n      node_selector: job=\"none\"\n      window: 5m\n", svc.promURL, strconv.Quote(svc.selector))
	fmt.Fprintf(&b, "    health_url: %s/health/detailed\n", svc.simURL)
	if svc.studioDSN != "" {
		fmt.Fprintf(&b, "    postgres:\n      dsn: %s\n", strconv.Quote(svc.studioDSN))
	}
	if svc.redisAddr != "" {
		fmt.Fprintf(&b, "    redis:\n      addr: %s\n", svc.redisAddr)
	}
	if svc.kubeconfig != "" {
		fmt.Fprintf(&b, "    kubernetes:\n      kubeconfig: %s\n      namespace: agentic-studio\n      deployment: agentic-studio\n      container: app\n", svc.kubeconfig)
	}
	fmt.Fprintf(&b, "slack:\n  app_token: %s\n  bot_token: %s\n  api_url: %s\n", slack.AppToken(), slack.BotToken(), slack.APIURL())
	fmt.Fprintf(&b, "http:\n  listen: %s\n  alertmanager_token: bench-token\n", listen)
	fmt.Fprintf(&b, "state:\n  postgres_dsn: %s\n", strconv.Quote(stacktest.Database(t, "perfbot_bench")))
	path := filepath.Join(t.TempDir(), "perfbot.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &perfbot{httpURL: "http://" + listen, slack: slack, done: make(chan struct{})}
	p.cmd = exec.Command(perfbotBin, "-config", path, "-log-level", "warn", "run")
	p.cmd.Stdout = io.Discard
	p.cmd.Stderr = &tail{w: os.Stderr}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(p.stop)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := slack.WaitFor(ctx, func() bool { return slack.Sockets() > 0 }); err != nil {
		t.Fatalf("perfbot did not connect over Socket Mode: %v", err)
	}
	return p
}

func (p *perfbot) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = p.slack.WaitFor(ctx, func() bool { return p.slack.Sockets() == 0 })
}

// rssMB is the process's resident set (VmRSS) in MB.
func (p *perfbot) rssMB() float64 { return procStatus(p.cmd.Process.Pid, "VmRSS") }

// procStatus reads a kB field of /proc/pid/status, in MB.
func procStatus(pid int, field string) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

// heapMB is the Go heap in use (go_memstats_heap_inuse_bytes from perfbot's /metrics), in MB.
func (p *perfbot) heapMB() float64 {
	v, _ := scrape(p.httpURL+"/metrics", "go_memstats_heap_inuse_bytes", "")
	return v / (1 << 20)
}

// scrape sums the samples of metric in a Prometheus text exposition whose labels contain match.
func scrape(url, metric, match string) (float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, metric) || !strings.Contains(line, match) {
			continue
		}
		rest := line[len(metric):]
		if rest[0] != ' ' && rest[0] != '{' {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err == nil {
			sum += v
		}
	}
	return sum, sc.Err()
}

// tail keeps perfbot's log quiet unless it says something (warnings and errors only).
type tail struct{ w io.Writer }

func (t *tail) Write(b []byte) (int, error) { return t.w.Write(b) }
