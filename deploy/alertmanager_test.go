package deploy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

type amConfig struct {
	Route struct {
		Receiver       string `yaml:"receiver"`
		GroupWait      string `yaml:"group_wait"`
		GroupInterval  string `yaml:"group_interval"`
		RepeatInterval string `yaml:"repeat_interval"`
	} `yaml:"route"`
	Receivers []struct {
		Name           string `yaml:"name"`
		WebhookConfigs []struct {
			URL          string `yaml:"url"`
			SendResolved bool   `yaml:"send_resolved"`
			HTTPConfig   struct {
				Authorization struct {
					Credentials string `yaml:"credentials"`
				} `yaml:"authorization"`
			} `yaml:"http_config"`
		} `yaml:"webhook_configs"`
	} `yaml:"receivers"`
}

func TestAlertmanagerConfig(t *testing.T) {
	tests := []struct {
		name, token, wantToken, url string
	}{
		{name: "default token", wantToken: "local-alertmanager-token", url: "http://127.0.0.1:18081/alertmanager"},
		{name: "token from env", token: "s3cret", wantToken: "s3cret", url: "http://127.0.0.1:18081/alertmanager"},
		{name: "token with YAML and sed metacharacters", token: `a&b'c\d/e|f"g: #h`,
			wantToken: `a&b'c\d/e|f"g: #h`, url: "http://127.0.0.1:18081/alertmanager"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{}
			if tc.token != "" {
				env["PERFBOT_ALERTMANAGER_TOKEN"] = tc.token
			}
			dir := renderConfigs(t, env)
			file := filepath.Join(dir, "alertmanager.yml")
			if amtool, err := exec.LookPath("amtool"); err == nil {
				runTool(t, dir, amtool, "check-config", file)
			}
			info, err := os.Stat(file)
			if err != nil {
				t.Fatal(err)
			}
			if info.Mode().Perm()&0o077 != 0 {
				t.Errorf("alertmanager.yml mode = %v, want no group/other access (it holds the token)", info.Mode())
			}
			checkAMConfig(t, file, tc.url, tc.wantToken)
		})
	}
}

func checkAMConfig(t *testing.T, file, url, token string) {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var c amConfig
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatalf("parsing rendered alertmanager.yml: %v", err)
	}
	r := c.Route
	if r.Receiver != "perfbot" || r.GroupWait != "1s" || r.GroupInterval != "1s" || r.RepeatInterval != "1h" {
		t.Errorf("route = %+v, want perfbot 1s/1s/1h", r)
	}
	if len(c.Receivers) != 1 || len(c.Receivers[0].WebhookConfigs) != 1 {
		t.Fatalf("receivers = %+v, want one webhook receiver", c.Receivers)
	}
	w := c.Receivers[0].WebhookConfigs[0]
	if w.URL != url || !w.SendResolved || w.HTTPConfig.Authorization.Credentials != token {
		t.Errorf("webhook = %+v, want url %s, send_resolved, credentials %q", w, url, token)
	}
}

// webhookBody is the part of Alertmanager's webhook payload (version 4) the test reads.
type webhookBody struct {
	Version string `json:"version"`
	Status  string `json:"status"`
	Alerts  []struct {
		Status string            `json:"status"`
		Labels map[string]string `json:"labels"`
	} `json:"alerts"`
	auth string
}

// TestAlertmanagerDelivers runs the real Alertmanager on the rendered config and checks that a
// firing and then a resolved alert reach the webhook with the bearer token.
func TestAlertmanagerDelivers(t *testing.T) {
	bin := lookTool(t, "prometheus-alertmanager", "prometheus-alertmanager")
	got := make(chan webhookBody, 16)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b webhookBody
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
			t.Errorf("decoding webhook body: %v", err)
		}
		b.auth = r.Header.Get("Authorization")
		got <- b
	}))
	defer hook.Close()

	token := "tok-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	dir := renderConfigs(t, map[string]string{"PERFBOT_ALERTMANAGER_TOKEN": token,
		"PERFBOT_WEBHOOK_URL": hook.URL + "/alertmanager"})
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--config.file="+filepath.Join(dir, "alertmanager.yml"),
		"--storage.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr,
		"--cluster.listen-address=")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting alertmanager: %v", err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	waitReady(t, "http://"+addr+"/-/ready", &logs)

	alert := map[string]any{"labels": map[string]string{"alertname": "HighErrorRate",
		"service": "agentic-studio", "severity": "critical", "test": token}}
	postAlert(t, addr, alert)
	b := nextWebhook(t, got, "firing")
	if b.auth != "Bearer "+token {
		t.Errorf("Authorization = %q, want Bearer %s", b.auth, token)
	}
	if b.Version != "4" || len(b.Alerts) != 1 || b.Alerts[0].Labels["alertname"] != "HighErrorRate" {
		t.Errorf("firing body = %+v", b)
	}
	alert["endsAt"] = time.Now().Add(-time.Second).UTC().Format(time.RFC3339)
	postAlert(t, addr, alert)
	nextWebhook(t, got, "resolved")
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitReady(t *testing.T, url string, logs *bytes.Buffer) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("alertmanager not ready at %s; log:\n%s", url, logs)
}

func postAlert(t *testing.T, addr string, alert map[string]any) {
	t.Helper()
	body, _ := json.Marshal([]any{alert})
	resp, err := http.Post(fmt.Sprintf("http://%s/api/v2/alerts", addr), "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("posting alert: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		t.Fatalf("posting alert: %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
}

// nextWebhook waits for a delivery with the given status; group_wait/group_interval are 1 s, so
// 20 s only matters on a starved machine.
func nextWebhook(t *testing.T, got <-chan webhookBody, status string) webhookBody {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case b := <-got:
			if b.Status == status {
				return b
			}
		case <-timeout:
			t.Fatalf("no %s webhook within 20s", status)
		}
	}
}
