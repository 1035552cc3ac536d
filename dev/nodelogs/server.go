package nodelogs

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// podLister names the running pods of a namespace on this node, in a stable order.
type podLister interface {
	PodNames(ctx context.Context, namespace string) ([]string, error)
}

// Server serves the kubelet's `/containerLogs/{namespace}/{pod}/{container}` endpoint from one log
// file. The file's lines are spread over the namespace's pods on the node (see Shard).
type Server struct {
	// File is the log file served for every container.
	File string
	// NamespaceDir, when set, may hold <namespace>.log files served instead of File for the pods
	// of that namespace (tests use it to serve known lines without touching the simulator's log).
	NamespaceDir string
	// Pods names the pods sharing the file; nil serves the whole file to every pod.
	Pods podLister
	Now  func() time.Time
	Log  *slog.Logger
}

// Handler returns the HTTP handler with the kubelet's log route and a health check.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containerLogs/{namespace}/{pod}/{container}", s.containerLogs)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	return mux
}

// logQuery is the subset of the kubelet's log options this server honours.
type logQuery struct {
	since      time.Time
	tail       int
	limit      int64
	timestamps bool
}

func (s *Server) parseQuery(r *http.Request) (logQuery, error) {
	q := r.URL.Query()
	lq := logQuery{tail: -1, timestamps: q.Get("timestamps") == "true"}
	if q.Get("previous") == "true" {
		return lq, fmt.Errorf("previous terminated container not found")
	}
	if v := q.Get("sinceSeconds"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return lq, fmt.Errorf("invalid sinceSeconds %q", v)
		}
		lq.since = s.Now().Add(-time.Duration(n) * time.Second)
	}
	if v := q.Get("sinceTime"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return lq, fmt.Errorf("invalid sinceTime %q", v)
		}
		lq.since = t
	}
	if v := q.Get("limitBytes"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return lq, fmt.Errorf("invalid limitBytes %q", v)
		}
		lq.limit = n
	}
	if v := q.Get("tailLines"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return lq, fmt.Errorf("invalid tailLines %q", v)
		}
		lq.tail = n
	}
	return lq, nil
}

func (s *Server) containerLogs(w http.ResponseWriter, r *http.Request) {
	ns, pod := r.PathValue("namespace"), r.PathValue("pod")
	lq, err := s.parseQuery(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	file := s.fileFor(ns)
	lines, err := ReadTail(file, maxRead)
	if err != nil {
		s.Log.Error("read log file", "file", file, "err", err)
		http.Error(w, "reading container log failed", http.StatusInternalServerError)
		return
	}
	index, n := s.replica(r.Context(), ns, pod)
	lines = Tail(Since(Shard(lines, index, n), lq.since), lq.tail)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	writeLines(w, lines, lq)
	s.Log.Debug("served container log", "namespace", ns, "pod", pod, "lines", len(lines))
}

// replica returns the pod's index among the namespace's pods on this node and how many there are;
// (-1, 0) means "serve everything" (no lister, a lookup failure, or an unknown pod).
func (s *Server) replica(ctx context.Context, ns, pod string) (int, int) {
	if s.Pods == nil {
		return -1, 0
	}
	names, err := s.Pods.PodNames(ctx, ns)
	if err != nil {
		s.Log.Warn("list pods for log sharding", "namespace", ns, "err", err)
		return -1, 0
	}
	i := slices.Index(names, pod)
	if i < 0 {
		return -1, 0
	}
	return i, len(names)
}

func writeLines(w http.ResponseWriter, lines []Line, lq logQuery) {
	bw := bufio.NewWriter(w)
	var written int64
	for _, l := range lines {
		var sb strings.Builder
		if lq.timestamps {
			t := l.T
			if t.IsZero() {
				t = time.Unix(0, 0)
			}
			sb.WriteString(t.UTC().Format(time.RFC3339Nano))
			sb.WriteByte(' ')
		}
		sb.WriteString(l.Text)
		sb.WriteByte('\n')
		out := sb.String()
		if lq.limit > 0 && written+int64(len(out)) > lq.limit {
			bw.WriteString(out[:lq.limit-written])
			break
		}
		written += int64(len(out))
		bw.WriteString(out)
	}
	bw.Flush()
}

// fileFor is the namespace's own log file when there is one, else File.
func (s *Server) fileFor(ns string) string {
	if s.NamespaceDir == "" || ns != filepath.Base(ns) {
		return s.File
	}
	f := filepath.Join(s.NamespaceDir, ns+".log")
	if _, err := os.Stat(f); err == nil {
		return f
	}
	return s.File
}
