package handlers

import (
	"fmt"
	"strings"

	"github.com/perfbot/perfbot/diagnosis"
	"github.com/perfbot/perfbot/probes"
)

// headline says in one line what is wrong and why, or that nothing is: the most likely cause and
// the symptom it explains, or the worst breach and that nothing measured explains it.
func headline(rep Report, d diagnosis.Diagnosis) string {
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
	breaches := 0
	for _, f := range d.Ranked {
		if f.Status >= probes.Warn {
			breaches++
		}
	}
	if c := d.Cause; c != nil {
		more := ""
		if n := breaches - 1 - len(d.Explains); n > 0 {
			more = fmt.Sprintf(" (+%d more)", n)
		}
		explained := describeSymptoms(d.Explains)
		return fmt.Sprintf("%s: Likely cause: %s — %s; explains %s%s%s", rep.Status, describeCause(*c), d.Why, explained, more, tail)
	}
	if breaches > 0 {
		f := d.Ranked[0]
		more := ""
		if breaches > 1 {
			more = fmt.Sprintf(" (+%d more)", breaches-1)
		}
		verdict := ""
		if d.Unexplained != nil && d.Unexplained.Check == f.Check && d.Unexplained.Subject == f.Subject {
			verdict = "; no cause found in the checks that ran"
		}
		what := describe(f) + diagnosis.Notes(f, nil)
		if diagnosis.IsCause(f.Signal) {
			what = describeCause(f) // a cause with nothing to explain yet: its evidence says the most
		}
		return fmt.Sprintf("%s: %s%s%s%s", f.Status, what, verdict, more, tail)
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

// describeCause names a cause by its message, which carries the evidence (who blocks whom, which
// pod, which revision), with its notes.
func describeCause(f probes.Finding) string {
	if f.Message == "" {
		return describe(f) + diagnosis.Notes(f, nil)
	}
	return f.Message + diagnosis.Notes(f, nil)
}

// userFacing are the symptoms people using the service feel; the headline names one of them when
// the cause explains one, as that is what the on-call engineer is asked about.
var userFacing = map[probes.Signal]bool{probes.SigLatency: true, probes.SigErrors: true, probes.SigHealth: true,
	probes.SigAgentErrors: true, probes.SigTargetDown: true}

// describeSymptoms names the worst explained symptom, preferring one users feel, and one endpoint
// over the service as a whole, and counts the others.
func describeSymptoms(fs []probes.Finding) string {
	if len(fs) == 0 {
		return "nothing yet"
	}
	top := fs[0]
	better := func(f probes.Finding) bool {
		if f.Status != top.Status {
			return f.Status > top.Status
		}
		if userFacing[f.Signal] != userFacing[top.Signal] {
			return userFacing[f.Signal]
		}
		return f.Signal == top.Signal && strings.HasPrefix(f.Subject, "/") && !strings.HasPrefix(top.Subject, "/")
	}
	for _, f := range fs[1:] {
		if better(f) {
			top = f
		}
	}
	s := describe(top) + diagnosis.Notes(top, nil)
	if len(fs) > 1 {
		s += fmt.Sprintf(" and %d other symptom(s)", len(fs)-1)
	}
	return s
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
