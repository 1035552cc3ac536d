package nodelogs

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLineTime(t *testing.T) {
	want := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name, line string
		ok         bool
	}{
		{"rfc3339", "2026-01-02T03:04:05Z ERROR x", true},
		{"slog text", `time=2026-01-02T03:04:05Z level=ERROR msg="x"`, true},
		{"slog quoted", `time="2026-01-02T03:04:05Z" level=ERROR`, true},
		{"json", `{"time":"2026-01-02T03:04:05Z","level":"ERROR"}`, true},
		{"json ts", `{"ts":"2026-01-02T03:04:05Z"}`, true},
		{"none", "\tat main.go:12", false},
		{"bad json", `{"time":`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := LineTime(tt.line)
			if ok != tt.ok || (ok && !got.Equal(want)) {
				t.Errorf("LineTime(%q) = %v, %v", tt.line, got, ok)
			}
		})
	}
}

func TestShardCoversEachLineOnce(t *testing.T) {
	var lines []Line
	for i := range 200 {
		lines = append(lines, Line{Text: fmt.Sprintf("line %d", i)})
	}
	seen := map[string]int{}
	for i := range 3 {
		part := Shard(lines, i, 3)
		if len(part) == 0 || len(part) == len(lines) {
			t.Errorf("replica %d got %d of %d lines", i, len(part), len(lines))
		}
		for _, l := range part {
			seen[l.Text]++
		}
	}
	for _, l := range lines {
		if seen[l.Text] != 1 {
			t.Fatalf("%q served %d times", l.Text, seen[l.Text])
		}
	}
}

type fixedPods []string

func (f fixedPods) PodNames(context.Context, string) ([]string, error) { return f, nil }

func TestContainerLogs(t *testing.T) {
	now := time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "app.log")
	content := strings.Join([]string{
		now.Add(-2*time.Hour).Format(time.RFC3339) + " INFO old",
		now.Add(-30*time.Second).Format(time.RFC3339) + " ERROR recent one",
		"\tstack frame of recent one",
		now.Add(-10*time.Second).Format(time.RFC3339) + " INFO recent two",
	}, "\n") + "\n"
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := &Server{File: path, Now: func() time.Time { return now }, Log: slog.New(slog.DiscardHandler)}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	tests := []struct {
		name, query string
		code        int
		want        string
	}{
		{"all", "", 200, content},
		{"since a minute", "?sinceSeconds=60", 200, strings.Join(strings.Split(content, "\n")[1:], "\n")},
		{"tail", "?tailLines=1", 200, now.Add(-10*time.Second).Format(time.RFC3339) + " INFO recent two\n"},
		{"timestamps", "?tailLines=1&timestamps=true", 200,
			now.Add(-10*time.Second).Format(time.RFC3339Nano) + " " + now.Add(-10*time.Second).Format(time.RFC3339) + " INFO recent two\n"},
		{"limit bytes", "?limitBytes=5", 200, content[:5]},
		{"bad since", "?sinceSeconds=x", 400, ""},
		{"previous", "?previous=true", 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Get(ts.URL + "/containerLogs/ns/pod-a/app" + tt.query)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.code || (tt.code == 200 && string(body) != tt.want) {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, body, tt.code, tt.want)
			}
		})
	}
}

func TestContainerLogsSharded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	var b strings.Builder
	for i := range 100 {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := &Server{File: path, Pods: fixedPods{"a", "b"}, Now: time.Now, Log: slog.New(slog.DiscardHandler)}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	total := 0
	for _, pod := range []string{"a", "b", "unknown"} {
		resp, err := http.Get(ts.URL + "/containerLogs/ns/" + pod + "/app")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		n := strings.Count(string(body), "\n")
		if pod == "unknown" {
			if n != 100 {
				t.Errorf("a pod the node does not know gets %d lines, want all 100", n)
			}
			continue
		}
		total += n
	}
	if total != 100 {
		t.Errorf("pods a and b got %d lines together, want 100", total)
	}
}

func TestReadTailCutsPartialLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	if err := os.WriteFile(path, []byte("first line\nsecond\nthird\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	lines, err := ReadTail(path, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1 || lines[0].Text != "third" {
		t.Errorf("ReadTail = %+v, want just the last whole line", lines)
	}
	if lines, err := ReadTail(filepath.Join(t.TempDir(), "missing"), 10); err != nil || lines != nil {
		t.Errorf("missing file: %v, %v", lines, err)
	}
}

func TestNamespaceFile(t *testing.T) {
	dir := t.TempDir()
	main, own := filepath.Join(dir, "app.log"), filepath.Join(dir, "ns", "team-a.log")
	os.MkdirAll(filepath.Dir(own), 0o755)
	os.WriteFile(main, []byte("from the simulator\n"), 0o644)
	os.WriteFile(own, []byte("from team-a's file\n"), 0o644)
	srv := &Server{File: main, NamespaceDir: filepath.Dir(own), Now: time.Now, Log: slog.New(slog.DiscardHandler)}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	for ns, want := range map[string]string{"team-a": "from team-a's file\n", "team-b": "from the simulator\n"} {
		resp, err := http.Get(ts.URL + "/containerLogs/" + ns + "/p/app")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != want {
			t.Errorf("%s: got %q, want %q", ns, body, want)
		}
	}
}
