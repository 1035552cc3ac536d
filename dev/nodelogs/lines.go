// Package nodelogs stands in for the kubelet of one Node: it registers the Node, binds and starts the
// Pods scheduled to it and serves the kubelet's container-log endpoint from a log file, so that
// `pods/log` through a real kube-apiserver returns lines a real process wrote.
package nodelogs

import (
	"bufio"
	"bytes"
	"encoding/json"
	"hash/fnv"
	"io"
	"os"
	"strings"
	"time"
)

// Line is one log line and the time it was written (zero when the line carries no time).
type Line struct {
	T    time.Time
	Text string
}

// maxRead bounds how much of the end of a log file one request reads.
const maxRead = 16 << 20

// ReadTail reads up to the last maxBytes of path and splits it into lines. A line without a time
// of its own inherits the time of the line before it (a stack trace belongs to its log record).
// A missing file is no lines.
func ReadTail(path string, maxBytes int64) ([]Line, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	skipFirst := false
	if st.Size() > maxBytes {
		if _, err := f.Seek(st.Size()-maxBytes, io.SeekStart); err != nil {
			return nil, err
		}
		skipFirst = true // the first line is cut off
	}
	var lines []Line
	var last time.Time
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if skipFirst {
			skipFirst = false
			continue
		}
		text := sc.Text()
		if t, ok := LineTime(text); ok {
			last = t
		}
		lines = append(lines, Line{T: last, Text: text})
	}
	return lines, sc.Err()
}

// LineTime finds the time a log line was written: a leading RFC 3339 timestamp, a leading
// `time=` field (log/slog text), a "time"/"ts" JSON field, or a leading Go log-package stamp.
func LineTime(line string) (time.Time, bool) {
	s := strings.TrimSpace(line)
	if strings.HasPrefix(s, "{") {
		return jsonTime(s)
	}
	first, _, _ := strings.Cut(s, " ")
	if v, ok := strings.CutPrefix(first, "time="); ok {
		first = strings.Trim(v, `"`)
	}
	if t, err := time.Parse(time.RFC3339Nano, first); err == nil {
		return t, true
	}
	if len(s) >= 19 {
		if t, err := time.ParseInLocation("2006/01/02 15:04:05", s[:19], time.Local); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func jsonTime(s string) (time.Time, bool) {
	var rec struct {
		Time string `json:"time"`
		TS   string `json:"ts"`
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	if err := dec.Decode(&rec); err != nil {
		return time.Time{}, false
	}
	for _, v := range []string{rec.Time, rec.TS} {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// Shard returns the lines that belong to replica index of n: each line goes to exactly one replica,
// chosen by a hash of its text, so the replicas of a Deployment together return the file once.
func Shard(lines []Line, index, n int) []Line {
	if n <= 1 || index < 0 {
		return lines
	}
	var out []Line
	for _, l := range lines {
		h := fnv.New32a()
		h.Write([]byte(l.Text))
		if int(h.Sum32()%uint32(n)) == index {
			out = append(out, l)
		}
	}
	return out
}

// Since drops lines written before t; lines with no known time are dropped too when t is set.
func Since(lines []Line, t time.Time) []Line {
	if t.IsZero() {
		return lines
	}
	var out []Line
	for _, l := range lines {
		if !l.T.IsZero() && !l.T.Before(t) {
			out = append(out, l)
		}
	}
	return out
}

// Tail keeps the last n lines; n < 0 keeps all.
func Tail(lines []Line, n int) []Line {
	if n < 0 || n >= len(lines) {
		return lines
	}
	return lines[len(lines)-n:]
}
