// Package console is perfbot's terminal front end: it renders Reports as text and runs a REPL.
package console

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/perfbot/perfbot/handlers"
	"github.com/perfbot/perfbot/internal/textfmt"
	"github.com/perfbot/perfbot/probes"
)

// Render writes a report as plain text: headline first, then findings, checks and tables. Text
// from users and backends is shown without control characters or escape sequences.
func Render(w io.Writer, r handlers.Report) error {
	ew := &errWriter{w: w}
	if r.Markdown != "" {
		ew.printf("%s\n", sanitize(r.Markdown))
		return ew.err
	}
	if r.Approval != nil {
		renderApproval(ew, *r.Approval)
		return ew.err
	}
	if !r.Text.Empty() {
		ew.printf("%s\n", terminalText(r.Text))
		return ew.err
	}
	ew.printf("%s — %s\n%s\n\n", oneLine(r.Title), r.Status, oneLine(r.Headline))
	if len(r.Findings) > 0 {
		ew.printf("Findings (worst first):\n")
		tw := tabwriter.NewWriter(ew, 2, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "  STATUS\tCHECK\tSUBJECT\tVALUE\tTHRESHOLD\n")
		for _, f := range r.Findings {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", f.Status, oneLine(f.Check), dash(oneLine(f.Subject)), value(f.Value, f.Unit, f.Status), value(f.Threshold, f.Unit, probes.OK))
		}
		tw.Flush()
		ew.printf("\n")
		for _, f := range r.Findings {
			if f.Status >= probes.Warn {
				ew.printf("  [%s] %s\n", f.Status, oneLine(f.Message))
			}
		}
		ew.printf("\n")
	}
	ew.printf("Checks:\n")
	for _, s := range r.Sections {
		ew.printf("  %-7s %-18s %6s  %s\n", s.Status, oneLine(s.Title), s.Duration.Round(time.Millisecond), oneLine(s.Summary))
	}
	for _, t := range r.Tables {
		renderTable(ew, t)
	}
	if len(r.Next) > 0 {
		ew.printf("\nNext: ")
		for i, n := range r.Next {
			if i > 0 {
				ew.printf(" · ")
			}
			ew.printf("%s (%s)", oneLine(n.Label), oneLine(n.Command))
		}
		ew.printf("\n")
	}
	ew.printf("\n%d checks in %s\n", len(r.Sections), r.Elapsed.Round(time.Millisecond))
	return ew.err
}

func renderTable(w io.Writer, t probes.Table) {
	if len(t.Rows) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s:\n", oneLine(t.Title))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  %s\n", strings.ToUpper(strings.Join(cells(t.Columns), "\t")))
	for _, row := range t.Rows {
		fmt.Fprintf(tw, "  %s\n", strings.Join(cells(row), "\t"))
	}
	tw.Flush()
}

// cells makes each cell one safe line, so a tab or line break in data cannot shift the columns.
func cells(row []string) []string {
	out := make([]string, len(row))
	for i, c := range row {
		out[i] = oneLine(c)
	}
	return out
}

// value is a finding's value with its unit, or "-" for an OK check that measured nothing.
func value(v float64, unit string, st probes.Status) string {
	if v == 0 && st == probes.OK {
		return "-"
	}
	return textfmt.Value(v, oneLine(unit))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, a ...any) { fmt.Fprintf(e, format, a...) }
