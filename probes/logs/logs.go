// Package logs holds the probes that read the service's pod logs through the Kubernetes API server
// (`pods/log`): the runbook's log patterns, and a search for a user's pattern.
package logs

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/internal/textfmt"
	"github.com/perfbot/perfbot/probes"
	"github.com/perfbot/perfbot/probes/kube"
)

const (
	// logLimitBytes caps what one pod's log request returns.
	logLimitBytes = 4 << 20
	// logNewest is how many of a pattern's newest lines are shown.
	logNewest = 5
	// logLineRunes is where shown lines are cut, the ellipsis included.
	logLineRunes = 200
	// logMaxSince bounds how far back a user search may read.
	logMaxSince = 7 * 24 * time.Hour
	// logMaxPattern bounds a user pattern's length.
	logMaxPattern = 200
)

// logLine is one line of a pod's log with the time the kubelet stamped on it.
type logLine struct {
	T    time.Time
	Pod  string
	Text string
}

// Patterns reads the Deployment's pod logs through the API server (`pods/log`) for Service.Logs.Since
// and counts the lines matching each of Service.Logs.Patterns (the runbook's greps), newest first.
var Patterns = probes.Probe{Name: "logs", Title: "Logs", Needs: probes.NeedsKube, Run: patterns}

// Search is `/perf logs [pattern] [since]`: Patterns over the last since when pattern is empty, else the
// lines of the last since that match pattern, newest first; a zero since is Service.Logs.Since. Each
// pattern and span is a Variant of its own, so shared runs never mix them up.
func Search(pattern string, since time.Duration) probes.Probe {
	p := Patterns
	p.Variant = pattern + "\x00" + since.String()
	p.Run = func(ctx context.Context, e *probes.Env) (probes.Result, error) {
		if pattern == "" {
			e2 := *e
			if since > 0 {
				e2.Service.Logs.Since = config.Duration(since)
			}
			return patterns(ctx, &e2)
		}
		return matching(ctx, e, pattern, since)
	}
	return p
}

func patterns(ctx context.Context, env *probes.Env) (probes.Result, error) {
	since := time.Duration(env.Service.Logs.Since)
	lines, res, err := logRead(ctx, env, since)
	if err != nil {
		return probes.Result{}, err
	}
	summary := probes.Table{Title: fmt.Sprintf("Log patterns (last %s)", since), Columns: []string{"Pattern", "Count", "Newest"}}
	for _, p := range env.Service.Logs.Patterns {
		re, err := regexp.Compile(p.Regex)
		if err != nil {
			return probes.Result{}, fmt.Errorf("log pattern %s: %w", p.Name, err)
		}
		hits := logMatch(lines, re)
		newest := "-"
		st := probes.OK
		if len(hits) > 0 {
			newest = kube.Ago(env.Now, hits[0].T) + " ago"
			st = probes.Warn
			res.Tables = append(res.Tables, logTable(p.Name+": newest lines", hits, logNewest))
		}
		summary.Rows = append(summary.Rows, []string{p.Name, fmt.Sprint(len(hits)), newest})
		res.Add(probes.Finding{Check: "Log lines: " + p.Name, Subject: p.Regex, Status: st, Value: float64(len(hits)), Unit: "lines",
			Message: fmt.Sprintf("%d log lines matching %s (/%s/) in the last %s", len(hits), p.Name, p.Regex, since)})
	}
	res.Tables = append([]probes.Table{summary}, res.Tables...)
	return res, nil
}

// matching is `/perf logs <pattern>`: the Deployment's log lines of the last `since` (Service.Logs.Since
// when zero) that match a user's regular expression, newest first. A bad pattern is errs.Invalid.
func matching(ctx context.Context, env *probes.Env, pattern string, since time.Duration) (probes.Result, error) {
	switch {
	case strings.TrimSpace(pattern) == "":
		return probes.Result{}, errs.Invalidf("give a pattern to search the logs for, e.g. `timeout|connection`")
	case len(pattern) > logMaxPattern:
		return probes.Result{}, errs.Invalidf("the pattern is longer than %d characters", logMaxPattern)
	case since < 0 || since > logMaxSince:
		return probes.Result{}, errs.Invalidf("the time span must be between 0 and %s", logMaxSince)
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return probes.Result{}, errs.Invalidf("%q is not a valid regular expression: %v", pattern, err)
	}
	if since == 0 {
		since = time.Duration(env.Service.Logs.Since)
	}
	lines, res, err := logRead(ctx, env, since)
	if err != nil {
		return probes.Result{}, err
	}
	hits := logMatch(lines, re)
	res.Summary = fmt.Sprintf("%d of %d log lines in the last %s match /%s/", len(hits), len(lines), since, pattern)
	res.Add(probes.Finding{Check: "Log lines matching", Subject: pattern, Status: probes.OK, Value: float64(len(hits)), Unit: "lines", Message: res.Summary})
	res.Tables = append(res.Tables, logTable("Newest matching lines", hits, 20))
	return res, nil
}

// logRead fetches the last `since` of every running pod's log. Pods whose log cannot be read are
// findings; only when no pod's log can be read is it an error.
func logRead(ctx context.Context, env *probes.Env, since time.Duration) ([]logLine, probes.Result, error) {
	var res probes.Result
	d, err := kube.Deployment(ctx, env)
	if err != nil {
		return nil, res, err
	}
	pods, err := kube.PodsOf(ctx, env, d)
	if err != nil {
		return nil, res, err
	}
	var lines []logLine
	read, failed := 0, 0
	var lastErr error
	for _, p := range pods {
		if p.Spec.NodeName == "" || p.DeletionTimestamp != nil {
			continue
		}
		got, err := logPod(ctx, env, d, p, since)
		if err != nil {
			failed++
			lastErr = err
			res.Add(probes.Finding{Check: "Pod log", Subject: p.Name, Status: probes.Unknown, Message: fmt.Sprintf("could not read the log of %s: %v", p.Name, err)})
			continue
		}
		read++
		lines = append(lines, got...)
	}
	if read == 0 && failed > 0 {
		return nil, res, fmt.Errorf("read pod logs of %s: %w", d.Name, lastErr)
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].T.After(lines[j].T) })
	res.Summary = fmt.Sprintf("%d log lines from %d pods in the last %s", len(lines), read, since)
	return lines, res, nil
}

// logTailLines is how many of a pod's newest lines in the window are read.
const logTailLines = 10000

// logPod reads one pod's log with kubelet timestamps.
func logPod(ctx context.Context, env *probes.Env, d *appsv1.Deployment, p corev1.Pod, since time.Duration) ([]logLine, error) {
	container := env.Service.Kubernetes.Container
	if !logHasContainer(p, container) && len(p.Spec.Containers) > 0 {
		container = p.Spec.Containers[0].Name
	}
	secs := int64(since.Seconds())
	if secs < 1 {
		secs = 1
	}
	// The newest lines matter most: take the window's last logTailLines lines, so a chatty pod's byte
	// limit cuts old lines, not the ones written during the incident.
	limit, tail := int64(logLimitBytes), int64(logTailLines)
	body, err := env.Kube.CoreV1().Pods(d.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{
		Container: container, SinceSeconds: &secs, TailLines: &tail, Timestamps: true, LimitBytes: &limit,
	}).DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("pods/log %s/%s: %w", p.Name, container, err)
	}
	return logParse(p.Name, body), nil
}

func logHasContainer(p corev1.Pod, name string) bool {
	for _, c := range p.Spec.Containers {
		if c.Name == name {
			return true
		}
	}
	return false
}

// logParse splits a timestamped log ("<RFC 3339 time> <line>") into lines.
func logParse(pod string, body []byte) []logLine {
	var out []logLine
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		stamp, text, ok := strings.Cut(sc.Text(), " ")
		t, err := time.Parse(time.RFC3339Nano, stamp)
		if !ok || err != nil {
			t, text = time.Time{}, sc.Text()
		}
		out = append(out, logLine{T: t, Pod: pod, Text: text})
	}
	return out
}

// logMatch keeps the lines re matches, in the given (newest first) order.
func logMatch(lines []logLine, re *regexp.Regexp) []logLine {
	var out []logLine
	for _, l := range lines {
		if re.MatchString(l.Text) {
			out = append(out, l)
		}
	}
	return out
}

// logTable shows up to n lines, cut to logLineRunes.
func logTable(title string, lines []logLine, n int) probes.Table {
	t := probes.Table{Title: title, Columns: []string{"Time", "Pod", "Line"}}
	for i, l := range lines {
		if i == n {
			break
		}
		t.Rows = append(t.Rows, []string{l.T.UTC().Format(time.RFC3339), l.Pod, textfmt.Truncate(probes.RedactText(logWithoutStamp(l.Text)), logLineRunes)})
	}
	return t
}

// logWithoutStamp drops a line's own leading RFC 3339 time, shown already in the Time column.
func logWithoutStamp(s string) string {
	stamp, rest, ok := strings.Cut(s, " ")
	if _, err := time.Parse(time.RFC3339Nano, stamp); ok && err == nil {
		return rest
	}
	return s
}
