package main

import (
	"bytes"
	"encoding/json"
	"os"
	"runtime/debug"
	"strings"
	"testing"
)

// TestVersionFallsBackToBuildInfo: unstamped, the commit comes from Go's version control stamp.
func TestVersionFallsBackToBuildInfo(t *testing.T) {
	info := func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "feedface"}, {Key: "vcs.modified", Value: "true"}}}, true
	}
	if got, want := formatVersion("dev", "", info), "perfbot dev (commit feedface, modified)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	none := func() (*debug.BuildInfo, bool) { return nil, false }
	if got, want := formatVersion("dev", "", none), "perfbot dev (commit unknown)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := formatVersion("v2", "abc", info), "perfbot v2 (commit abc)"; got != want {
		t.Errorf("a stamped commit wins over build info: got %q, want %q", got, want)
	}
}

// TestLogFormatJSON: -log-format json writes one JSON object per line (slog's JSON handler); a
// format perfbot does not know is a usage error.
func TestLogFormatJSON(t *testing.T) {
	o, _, err := parseGlobal([]string{"-log-format", "json", "-log-level", "info", "run"}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	logger(o, &buf).Info("http listening", "addr", "127.0.0.1:1")
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("log line %q is not JSON: %v", buf.String(), err)
	}
	if rec["msg"] != "http listening" || rec["addr"] != "127.0.0.1:1" || rec["level"] != "INFO" {
		t.Errorf("log record = %v", rec)
	}
	o, _, err = parseGlobal([]string{"run"}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	logger(o, &buf).Warn("x", "k", "v")
	if !strings.HasPrefix(buf.String(), "time=") {
		t.Errorf("the default format is text: %q", buf.String())
	}
	var stderr bytes.Buffer
	if _, _, err := parseGlobal([]string{"-log-format", "xml", "run"}, &stderr); err == nil || !strings.Contains(stderr.String(), "text or json") {
		t.Errorf("-log-format xml: err=%v, stderr=%q", err, stderr.String())
	}
}
