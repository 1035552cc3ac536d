package console

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/handlers"
	"github.com/perfbot/perfbot/probes"
)

type fakeHandler struct{ seen []string }

func (f *fakeHandler) Handle(_ context.Context, req handlers.Request) (handlers.Report, error) {
	f.seen = append(f.seen, req.Text)
	if req.Text == "bad" {
		return handlers.Report{}, errs.Invalidf("usage: /perf good")
	}
	return handlers.Report{Title: "Assessment of x", Status: probes.Crit, Headline: "CRIT: API p95 latency on /api/ideas is 812 ms",
		Findings: []probes.Finding{{Check: "API p95 latency", Status: probes.Crit, Subject: "/api/ideas", Value: 812, Threshold: 500, Unit: "ms", Message: "slow"}},
		Sections: []handlers.Section{{Title: "API p95 latency", Status: probes.Crit, Duration: 40 * time.Millisecond}},
		Tables:   []probes.Table{{Title: "p95 by endpoint", Columns: []string{"Endpoint", "p95"}, Rows: [][]string{{"/api/ideas", "812 ms"}}}},
		Next:     []handlers.NextStep{{Label: "DB details", Command: "/perf db x"}}}, nil
}

func TestRenderShowsHeadlineFindingsTablesAndNextSteps(t *testing.T) {
	var out bytes.Buffer
	if err := Exec(context.Background(), &fakeHandler{}, "/perf assess", "me", "console", &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Assessment of x — CRIT", "CRIT: API p95 latency on /api/ideas is 812 ms", "812 ms", "500 ms",
		"p95 by endpoint:", "/api/ideas", "DB details (/perf db x)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestExecRejectsWhatIsNotACommand(t *testing.T) {
	var out bytes.Buffer
	err := Exec(context.Background(), &fakeHandler{}, "assess", "me", "console", &out)
	if errs.KindOf(err) != errs.Invalid || !strings.Contains(out.String(), "/perf") {
		t.Fatalf("err = %v, out = %q", err, out.String())
	}
	out.Reset()
	err = Exec(context.Background(), &fakeHandler{}, "/perf bad", "me", "console", &out)
	if errs.KindOf(err) != errs.Invalid || !strings.HasPrefix(out.String(), "usage") {
		t.Fatalf("err = %v, out = %q (want the usage without an emoji code)", err, out.String())
	}
}

func TestREPLRunsEachLineUntilQuit(t *testing.T) {
	h := &fakeHandler{}
	var out bytes.Buffer
	in := strings.NewReader("assess\n\n/perf bad\nquit\nnever\n")
	if err := REPL(context.Background(), h, "me", "console", in, &out); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if strings.Join(h.seen, ",") != "assess,bad" {
		t.Errorf("ran %q, want assess then bad and nothing after quit", h.seen)
	}
}

func TestREPLEndsWhenInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe() // a terminal nobody types into
	defer pw.Close()
	done := make(chan error, 1)
	go func() { done <- REPL(ctx, &fakeHandler{}, "me", "console", pr, io.Discard) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("interrupted REPL returned %v, want a clean exit", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("REPL kept waiting for input after Ctrl-C")
	}
}
