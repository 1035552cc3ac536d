package handlers

import (
	"fmt"
	"strings"

	"github.com/perfbot/perfbot/probes"
)

// headline says in one line what is wrong first, or that nothing is.
func headline(rep Report) string {
	var failed []string
	for _, s := range rep.Sections {
		if s.Err != "" {
			failed = append(failed, s.Title+" "+s.Err)
		}
	}
	tail := ""
	if len(failed) > 0 {
		tail = fmt.Sprintf(" (%d check(s) could not run: %s)", len(failed), strings.Join(failed, "; "))
	}
	if len(rep.Findings) > 0 && rep.Findings[0].Status >= probes.Warn {
		f := rep.Findings[0]
		others := 0
		for _, g := range rep.Findings[1:] {
			if g.Status >= probes.Warn {
				others++
			}
		}
		more := ""
		if others > 0 {
			more = fmt.Sprintf(" (+%d more)", others)
		}
		return fmt.Sprintf("%s: %s%s%s", f.Status, describe(f), more, tail)
	}
	if len(failed) > 0 {
		return "UNKNOWN: no trigger fired in the checks that ran" + tail
	}
	var unsure []string
	for _, f := range rep.Findings {
		if f.Status == probes.Unknown {
			unsure = append(unsure, f.Check)
		}
	}
	if len(unsure) > 0 {
		return fmt.Sprintf("OK: no trigger fired; %d could not be measured: %s", len(unsure), strings.Join(unsure, ", "))
	}
	return fmt.Sprintf("OK: all %d checks within thresholds", len(rep.Sections))
}

// describe renders a finding as "Check on Subject is V (threshold T)".
func describe(f probes.Finding) string {
	subj := ""
	if f.Subject != "" && f.Subject != "all endpoints" {
		subj = " on " + f.Subject
	}
	if f.Threshold > 0 {
		return fmt.Sprintf("%s%s is %s (threshold %s)", f.Check, subj, num(f.Value, f.Unit), num(f.Threshold, f.Unit))
	}
	if f.Message != "" {
		return f.Check + subj + ": " + f.Message
	}
	return f.Check + subj
}

func num(v float64, unit string) string {
	switch unit {
	case "%":
		return fmt.Sprintf("%.2f %%", v)
	case "":
		return fmt.Sprintf("%.4g", v)
	default:
		return fmt.Sprintf("%.0f %s", v, unit)
	}
}
