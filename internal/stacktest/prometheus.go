package stacktest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Prometheus is a private Prometheus server started for one test.
type Prometheus struct {
	URL string
	cmd *exec.Cmd
}

// StartPrometheus runs Debian's prometheus on a free port scraping jobs (job name → host:port) every second,
// and waits until every target is up.
func StartPrometheus(t testing.TB, jobs map[string]string) *Prometheus {
	t.Helper()
	return StartPrometheusWith(t, PromOptions{Jobs: jobs})
}

// PromOptions say what a test Prometheus scrapes, which rule files it evaluates and where it sends alerts.
type PromOptions struct {
	Jobs         map[string]string
	RuleFiles    []string
	Alertmanager string // host:port
}

// StartPrometheusWith is StartPrometheus with rules and an Alertmanager.
func StartPrometheusWith(t testing.TB, o PromOptions) *Prometheus {
	t.Helper()
	jobs := o.Jobs
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatalf("prometheus is not installed (scripts/stack up installs it): %v", err)
	}
	dir := t.TempDir()
	names := make([]string, 0, len(jobs))
	for j := range jobs {
		names = append(names, j)
	}
	sort.Strings(names)
	var cfg strings.Builder
	cfg.WriteString("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n")
	if len(o.RuleFiles) > 0 {
		cfg.WriteString("rule_files:\n")
		for _, f := range o.RuleFiles {
			abs, _ := filepath.Abs(f)
			fmt.Fprintf(&cfg, "  - %q\n", abs)
		}
	}
	if o.Alertmanager != "" {
		fmt.Fprintf(&cfg, "alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [%q]\n", o.Alertmanager)
	}
	cfg.WriteString("scrape_configs:\n")
	for _, j := range names {
		fmt.Fprintf(&cfg, "  - job_name: %q\n    static_configs:\n      - targets: [%q]\n", j, jobs[j])
	}
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn", "--rules.alert.resend-delay=1s")
	logf, _ := os.Create(filepath.Join(dir, "prometheus.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	p := &Prometheus{URL: "http://" + addr, cmd: cmd}
	t.Cleanup(p.stop)
	Eventually(t, 60*time.Second, 250*time.Millisecond, func() bool { return p.upTargets() == len(jobs) },
		"prometheus at %s did not see all %d targets up", addr, len(jobs))
	return p
}

// Pause stops the server with SIGSTOP, so queries hang; Resume continues it.
func (p *Prometheus) Pause(t testing.TB) {
	if err := p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.cmd.Process.Signal(syscall.SIGCONT) })
}

// Resume continues a paused server.
func (p *Prometheus) Resume() { _ = p.cmd.Process.Signal(syscall.SIGCONT) }

// Kill stops the server for good, so connections are refused.
func (p *Prometheus) Kill() { p.stop() }

func (p *Prometheus) stop() {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGCONT)
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

func (p *Prometheus) upTargets() int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/api/v1/query?query="+url.QueryEscape("count(up == 1)"), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if json.NewDecoder(resp.Body).Decode(&body) != nil || len(body.Data.Result) == 0 {
		return 0
	}
	var n int
	fmt.Sscan(fmt.Sprint(body.Data.Result[0].Value[1]), &n)
	return n
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
