package incidents

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRealAlertmanager runs the machine's Alertmanager against AlertHandler: an alert posted to
// it arrives as a version-4 webhook with the bearer token, opens an incident, and its resolution
// is noted on that incident.
func TestRealAlertmanager(t *testing.T) {
	bin, err := exec.LookPath("prometheus-alertmanager")
	if err != nil {
		t.Fatalf("prometheus-alertmanager is part of the local stack (apt-get install prometheus-alertmanager): %v", err)
	}
	st, _ := newStore(t, Options{Now: time.Now, Services: []string{"agentic-studio"}})
	token := fmt.Sprintf("tok-%d", time.Now().UnixNano())
	hook := httptest.NewServer(AlertHandler(st, AlertOptions{Token: token}))
	defer hook.Close()

	dir := t.TempDir()
	cfg := fmt.Sprintf(`route: {receiver: perfbot, group_by: [alertname, service], group_wait: 1s, group_interval: 1s, repeat_interval: 1h}
receivers:
  - name: perfbot
    webhook_configs:
      - url: %q
        send_resolved: true
        http_config: {authorization: {type: Bearer, credentials: %q}}
`, hook.URL+"/alertmanager", token)
	if err := os.WriteFile(filepath.Join(dir, "am.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--config.file="+filepath.Join(dir, "am.yml"),
		"--storage.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr, "--cluster.listen-address=")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()

	alert := map[string]any{"labels": map[string]string{"alertname": "HighErrorRate", "service": "agentic-studio", "severity": "critical"},
		"annotations": map[string]string{"summary": "5xx rate above 1%"}}
	waitFor(t, &logs, "alertmanager accepts alerts", func() bool { return postAMAlert(addr, alert) == nil })
	var inc Incident
	waitFor(t, &logs, "an incident opened by the webhook", func() bool {
		var ok bool
		inc, ok, _ = st.OpenForService(context.Background(), "agentic-studio")
		return ok
	})
	if inc.Title != "5xx rate above 1%" || inc.Severity != Sev1 || inc.Source != "alertmanager" {
		t.Errorf("incident %+v", inc)
	}
	alert["endsAt"] = time.Now().Add(-time.Second).UTC().Format(time.RFC3339)
	if err := postAMAlert(addr, alert); err != nil {
		t.Fatal(err)
	}
	waitFor(t, &logs, "the resolution noted", func() bool {
		tl, _ := st.Timeline(context.Background(), inc.ID)
		for _, e := range tl {
			if e.Kind == KindAlertResolved {
				return true
			}
		}
		return false
	})
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func postAMAlert(addr string, alert map[string]any) error {
	body, _ := json.Marshal([]any{alert})
	resp, err := http.Post("http://"+addr+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("post alert: %s", resp.Status)
	}
	return nil
}

// waitFor polls cond for up to 30 s (Alertmanager delivers within about a second; the margin is
// for a starved machine) and fails with Alertmanager's log if it never holds.
func waitFor(t *testing.T, logs *bytes.Buffer, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; alertmanager log:\n%s", what, strings.TrimSpace(logs.String()))
}
