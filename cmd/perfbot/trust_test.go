package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestActionsWithoutApproverAreRefused: check-config and run refuse a configuration that enables
// actions nobody may approve (every click would be refused), and check-config says which HTTP
// endpoints are off for want of a token.
func TestActionsWithoutApproverAreRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "perfbot.yaml")
	body := "services:\n  - name: agentic-studio\n    prometheus: {url: 'http://127.0.0.1:19090'}\n" +
		"slack: {app_token: xapp-1-x, bot_token: xoxb-1-x}\nactions:\n  allowed: [scale, index]\n"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := runMain(t, nil, "-config", path, "check-config")
	if err == nil || !strings.Contains(stderr, "nobody may approve them") {
		t.Fatalf("check-config: err=%v\n%s", err, stderr)
	}
	_, _, err = runMain(t, nil, "-config", path, "run")
	if err == nil || !strings.Contains(err.Error(), "cannot start") || !strings.Contains(err.Error(), "nobody may approve them") {
		t.Fatalf("run: %v", err)
	}

	if err := os.WriteFile(path, []byte(body+"  approvers: [U0ALICE001]\nhttp: {alertmanager_token: t}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := runMain(t, nil, "-config", path, "check-config")
	if err != nil {
		t.Fatalf("check-config with an approver: %v\n%s", err, stderr)
	}
	if !strings.Contains(out, "http.postmortem_token is empty, so GET /incidents/{id}/postmortem is off") || strings.Contains(out, "alertmanager_token is empty") {
		t.Errorf("check-config notes:\n%s", out)
	}
}
