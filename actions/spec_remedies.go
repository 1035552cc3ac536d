package actions

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/perfbot/perfbot/errs"
)

// parseRollback reads "rollback <deployment> [revision]".
func parseRollback(a []string) (Spec, error) {
	if len(a) < 1 || len(a) > 2 {
		return Spec{}, fmt.Errorf("rollback takes a deployment and, optionally, the revision to return to")
	}
	ns, name := splitDeployment(a[0])
	s := Spec{Namespace: ns, Deployment: name}
	if len(a) == 2 {
		n, err := strconv.ParseInt(a[1], 10, 64)
		if err != nil || n <= 0 {
			return Spec{}, fmt.Errorf("%q is not a revision number (see the Rollouts table of `/perf assess`)", a[1])
		}
		s.Revision = n
	}
	return s, nil
}

// parseRestart reads "restart <deployment>".
func parseRestart(a []string) (Spec, error) {
	if len(a) != 1 {
		return Spec{}, fmt.Errorf("restart takes exactly one deployment")
	}
	ns, name := splitDeployment(a[0])
	return Spec{Namespace: ns, Deployment: name}, nil
}

// parseExplainAnalyze reads "explain-analyze <queryid|pid>". The number is kept in QueryID until the
// plan finds out what it names: a running backend's pid (then PID is set and QueryID cleared) or a
// pg_stat_statements queryid.
func parseExplainAnalyze(a []string) (Spec, error) {
	if len(a) != 1 {
		return Spec{}, fmt.Errorf("explain-analyze takes one queryid (from `/perf db`) or backend pid")
	}
	n, err := strconv.ParseInt(a[0], 10, 64)
	if err != nil || n == 0 {
		return Spec{}, fmt.Errorf("%q is not a queryid or a backend pid", a[0])
	}
	return Spec{QueryID: n}, nil
}

// checkRemedy validates rollback, restart and explain-analyze specs; errors are errs.Invalid.
func (s Spec) checkRemedy() error {
	u := usage[s.Kind]
	switch s.Kind {
	case Rollback:
		if s.Deployment == "" || s.Revision < 0 {
			return errs.Invalidf("rollback needs a deployment and, optionally, a revision above 0. Usage: %s", u)
		}
	case Restart:
		if s.Deployment == "" {
			return errs.Invalidf("restart needs a deployment. Usage: %s", u)
		}
	case ExplainAnalyze:
		if s.QueryID == 0 && s.PID <= 0 {
			return errs.Invalidf("explain-analyze needs a queryid or a backend pid. Usage: %s", u)
		}
	}
	return nil
}

func (s Spec) remedySummary() string {
	switch s.Kind {
	case Rollback:
		if s.Revision > 0 {
			return fmt.Sprintf("roll back %s to revision %d", s.target(), s.Revision)
		}
		return fmt.Sprintf("roll back %s to its previous revision", s.target())
	case Restart:
		return fmt.Sprintf("rolling restart of %s", s.target())
	case ExplainAnalyze:
		if s.PID > 0 {
			return fmt.Sprintf("EXPLAIN ANALYZE the statement of PostgreSQL backend %d", s.PID)
		}
		return fmt.Sprintf("EXPLAIN ANALYZE statement %d of pg_stat_statements", s.QueryID)
	}
	return string(s.Kind)
}

// Target names what a spec changes, for the timeline and the postmortem's actions table:
// "namespace/deployment", "schema.table(columns)", "backend 123" or "statement 42".
func (s Spec) Target() string {
	switch s.Kind {
	case Scale, Limits, Rollback, Restart:
		return s.target()
	case Analyze:
		return s.qualifiedTable()
	case Index:
		return fmt.Sprintf("%s(%s)", s.qualifiedTable(), strings.Join(s.Columns, ","))
	case Cancel:
		return fmt.Sprintf("backend %d", s.PID)
	case ExplainAnalyze:
		if s.PID > 0 {
			return fmt.Sprintf("backend %d", s.PID)
		}
		return fmt.Sprintf("statement %d", s.QueryID)
	}
	return ""
}
