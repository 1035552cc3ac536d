package studiosim

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
)

// LogTimeFormat is the timestamp layout of every log line: RFC 3339 with milliseconds, always UTC.
const LogTimeFormat = "2006-01-02T15:04:05.000Z"

// LineHandler is a slog.Handler that writes one line per record:
// `2026-11-26T19:46:58.123Z LEVEL message key=value ...`, the format the logs probe reads.
type LineHandler struct {
	mu     *sync.Mutex
	w      io.Writer
	level  slog.Leveler
	prefix string // pre-rendered attributes from WithAttrs, each with a leading space
	group  string // dotted group prefix for keys, with a trailing dot
}

// NewLineHandler returns a LineHandler writing records at or above level to w.
func NewLineHandler(w io.Writer, level slog.Leveler) *LineHandler {
	if level == nil {
		level = slog.LevelInfo
	}
	return &LineHandler{mu: &sync.Mutex{}, w: w, level: level}
}

// Enabled reports whether records at l are written.
func (h *LineHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

// Handle renders r as one line and writes it with a single Write call.
func (h *LineHandler) Handle(_ context.Context, r slog.Record) error {
	var b bytes.Buffer
	t := r.Time
	if t.IsZero() {
		t = time.Now()
	}
	b.WriteString(t.UTC().Format(LogTimeFormat))
	b.WriteByte(' ')
	b.WriteString(levelName(r.Level))
	b.WriteByte(' ')
	b.WriteString(oneLine(r.Message))
	b.WriteString(h.prefix)
	r.Attrs(func(a slog.Attr) bool {
		appendAttr(&b, h.group, a)
		return true
	})
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := h.w.Write(b.Bytes())
	return err
}

// WithAttrs returns a handler that adds attrs to every line.
func (h *LineHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	var b bytes.Buffer
	for _, a := range attrs {
		appendAttr(&b, h.group, a)
	}
	h2 := *h
	h2.prefix += b.String()
	return &h2
}

// WithGroup returns a handler that qualifies later keys with name.
func (h *LineHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.group += name + "."
	return &h2
}

func levelName(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "ERROR"
	case l >= slog.LevelWarn:
		return "WARN"
	case l >= slog.LevelInfo:
		return "INFO"
	default:
		return "DEBUG"
	}
}

func appendAttr(b *bytes.Buffer, group string, a slog.Attr) {
	v := a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if v.Kind() == slog.KindGroup {
		g := group
		if a.Key != "" {
			g += a.Key + "."
		}
		for _, ga := range v.Group() {
			appendAttr(b, g, ga)
		}
		return
	}
	b.WriteByte(' ')
	b.WriteString(group)
	b.WriteString(a.Key)
	b.WriteByte('=')
	b.WriteString(formatValue(v))
}

func formatValue(v slog.Value) string {
	switch v.Kind() {
	case slog.KindDuration:
		return roundDuration(v.Duration()).String()
	case slog.KindTime:
		return v.Time().UTC().Format(LogTimeFormat)
	case slog.KindFloat64:
		return strconv.FormatFloat(v.Float64(), 'g', 4, 64)
	case slog.KindString:
		return quoteIfNeeded(v.String())
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return quoteIfNeeded(err.Error())
		}
	}
	return quoteIfNeeded(v.String())
}

// roundDuration keeps durations readable in logs: "1.203s", "12.5ms", "250µs".
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond)
	default:
		return d.Round(time.Microsecond)
	}
}

func quoteIfNeeded(s string) string {
	if s == "" {
		return `""`
	}
	if strings.ContainsAny(s, " \t\r\n\"=\\") || !strconv.IsPrint(firstRune(s)) {
		return strconv.Quote(s)
	}
	return s
}

func firstRune(s string) rune {
	for _, r := range s {
		return r
	}
	return ' '
}

// oneLine keeps a message on its line so that one record is one line.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(s)
}
