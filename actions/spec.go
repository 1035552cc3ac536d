// Package actions runs the runbook's fixes that change production — scaling a Deployment, patching its
// resources, ANALYZE, CREATE INDEX CONCURRENTLY, cancelling a query, rolling back or restarting a Deployment,
// EXPLAIN ANALYZE of a slow SELECT — only after a second person approves.
// Every action is validated against the configured allow-list, planned and dry-run before it is stored
// as a request, and checked after it ran. The approval state lives in PostgreSQL so that a request runs
// exactly once however many replicas and people click Approve. The package knows nothing of Slack.
package actions

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/perfbot/perfbot/errs"
)

// Kind names an action; it is the first word of the command text.
type Kind string

// The actions perfbot can run.
const (
	Scale   Kind = "scale"
	Limits  Kind = "limits"
	Analyze Kind = "analyze"
	Index   Kind = "index"
	Cancel  Kind = "cancel"
	// Rollback, Restart and ExplainAnalyze are the runbook's rollback (Issue 2), pod restart (Issue 4)
	// and EXPLAIN ANALYZE of a slow statement (Issues 1 and 3).
	Rollback       Kind = "rollback"
	Restart        Kind = "restart"
	ExplainAnalyze Kind = "explain-analyze"
)

// Kinds lists every action in the order help shows them.
var Kinds = []Kind{Scale, Limits, Analyze, Index, Cancel, Rollback, Restart, ExplainAnalyze}

var usage = map[Kind]string{
	Scale:   "scale <deployment> <replicas>",
	Limits:  "limits <deployment> cpu=<quantity> memory=<quantity> [requests cpu=<quantity> memory=<quantity>]",
	Analyze: "analyze <table>",
	Index:   "index <table> <column>[,<column>...]",
	Cancel:  "cancel <pid> [--terminate]",

	Rollback:       "rollback <deployment> [revision]",
	Restart:        "restart <deployment>",
	ExplainAnalyze: "explain-analyze <queryid|pid>",
}

// Usage returns the usage line of one action, e.g. "scale <deployment> <replicas>".
func Usage(k Kind) string { return usage[k] }

// Spec is one requested change, parsed and typed; it is stored with the request as JSON.
type Spec struct {
	Kind Kind `json:"kind"`
	// Namespace and Deployment name the target of scale and limits; Namespace may be empty in
	// command text, and is then filled from the allow-list.
	Namespace  string `json:"namespace,omitempty"`
	Deployment string `json:"deployment,omitempty"`
	Replicas   int32  `json:"replicas,omitempty"`
	// Limits and Requests map a resource name (cpu, memory) to a quantity, e.g. "1000m", "2Gi".
	Limits   map[string]string `json:"limits,omitempty"`
	Requests map[string]string `json:"requests,omitempty"`
	// Schema, Table and Columns name the target of analyze and index; Schema defaults to public.
	Schema  string   `json:"schema,omitempty"`
	Table   string   `json:"table,omitempty"`
	Columns []string `json:"columns,omitempty"`
	// PID and Terminate are cancel's target backend and whether to terminate instead of cancel.
	PID       int32 `json:"pid,omitempty"`
	Terminate bool  `json:"terminate,omitempty"`
	// BackendStart and QueryStart pin cancel's target when the request is made: the session (and, for
	// a plain cancel, its statement) then running under PID. Approval signals that target or nothing,
	// so a pid reused by another session, or a later statement, is never signalled.
	BackendStart *time.Time `json:"backend_start,omitempty"`
	QueryStart   *time.Time `json:"query_start,omitempty"`
	// Revision is rollback's target revision; 0 means the one before the current revision.
	// FromRevision is the revision a rollback or restart starts from, pinned when it is requested.
	Revision     int64 `json:"revision,omitempty"`
	FromRevision int64 `json:"from_revision,omitempty"`
	// QueryID names explain-analyze's statement in pg_stat_statements (PID names a running one
	// instead); Statement is its text, pinned when the request is made so approval runs exactly the
	// statement that was shown, never whatever the pid runs by then.
	QueryID   int64  `json:"query_id,omitempty"`
	Statement string `json:"statement,omitempty"`
}

// ParseRequest parses command text such as "scale agentic-studio 5" (a leading "/perf" is ignored)
// into a Spec. Errors are errs.Invalid and carry the action's usage.
func ParseRequest(text string) (Spec, error) {
	f := strings.Fields(text)
	if len(f) > 0 && f[0] == "/perf" {
		f = f[1:]
	}
	if len(f) == 0 {
		return Spec{}, errs.Invalidf("which action? Use one of: %s", allUsage())
	}
	k := Kind(strings.ToLower(f[0]))
	parse, ok := parsers[k]
	if !ok {
		return Spec{}, errs.Invalidf("unknown action %q. Use one of: %s", f[0], allUsage())
	}
	s, err := parse(f[1:])
	if err != nil {
		return Spec{}, errs.Invalidf("%s. Usage: %s", err, usage[k])
	}
	s.Kind = k
	if err := s.check(); err != nil {
		return Spec{}, err
	}
	return s, nil
}

func allUsage() string {
	out := make([]string, len(Kinds))
	for i, k := range Kinds {
		out[i] = "`" + usage[k] + "`"
	}
	return strings.Join(out, ", ")
}

var parsers = map[Kind]func(args []string) (Spec, error){
	Scale:   parseScale,
	Limits:  parseLimits,
	Analyze: parseAnalyze,
	Index:   parseIndex,
	Cancel:  parseCancel,

	Rollback:       parseRollback,
	Restart:        parseRestart,
	ExplainAnalyze: parseExplainAnalyze,
}

func parseScale(a []string) (Spec, error) {
	if len(a) != 2 {
		return Spec{}, fmt.Errorf("scale takes a deployment and a replica count")
	}
	n, err := strconv.ParseInt(a[1], 10, 32)
	if err != nil {
		return Spec{}, fmt.Errorf("%q is not a replica count", a[1])
	}
	ns, name := splitDeployment(a[0])
	return Spec{Namespace: ns, Deployment: name, Replicas: int32(n)}, nil
}

func parseLimits(a []string) (Spec, error) {
	if len(a) < 2 {
		return Spec{}, fmt.Errorf("limits takes a deployment and at least one of cpu=, memory=")
	}
	ns, name := splitDeployment(a[0])
	s := Spec{Namespace: ns, Deployment: name, Limits: map[string]string{}}
	target := s.Limits
	for _, arg := range a[1:] {
		if arg == "requests" {
			if s.Requests != nil {
				return Spec{}, fmt.Errorf("\"requests\" appears twice")
			}
			s.Requests = map[string]string{}
			target = s.Requests
			continue
		}
		k, v, ok := strings.Cut(arg, "=")
		if !ok || v == "" {
			return Spec{}, fmt.Errorf("%q is not resource=quantity", arg)
		}
		if _, dup := target[k]; dup {
			return Spec{}, fmt.Errorf("%s is given twice", k)
		}
		target[k] = v
	}
	if len(s.Limits) == 0 {
		s.Limits = nil
	}
	return s, nil
}

func parseAnalyze(a []string) (Spec, error) {
	if len(a) != 1 {
		return Spec{}, fmt.Errorf("analyze takes exactly one table")
	}
	schema, table := splitTable(a[0])
	return Spec{Schema: schema, Table: table}, nil
}

func parseIndex(a []string) (Spec, error) {
	if len(a) != 2 {
		return Spec{}, fmt.Errorf("index takes a table and a comma-separated column list")
	}
	schema, table := splitTable(a[0])
	return Spec{Schema: schema, Table: table, Columns: strings.Split(a[1], ",")}, nil
}

func parseCancel(a []string) (Spec, error) {
	var s Spec
	var pids []string
	for _, arg := range a {
		if arg == "--terminate" {
			s.Terminate = true
			continue
		}
		pids = append(pids, arg)
	}
	if len(pids) != 1 {
		return Spec{}, fmt.Errorf("cancel takes exactly one backend pid")
	}
	n, err := strconv.ParseInt(pids[0], 10, 32)
	if err != nil || n <= 0 {
		return Spec{}, fmt.Errorf("%q is not a backend pid", pids[0])
	}
	s.PID = int32(n)
	return s, nil
}

func splitDeployment(s string) (ns, name string) {
	if a, b, ok := strings.Cut(s, "/"); ok {
		return a, b
	}
	return "", s
}

func splitTable(s string) (schema, table string) {
	if a, b, ok := strings.Cut(s, "."); ok {
		return a, b
	}
	return "", s
}

// check validates what can be validated without configuration or backends; errors are errs.Invalid.
func (s Spec) check() error {
	u := usage[s.Kind]
	switch s.Kind {
	case Scale:
		if s.Deployment == "" || s.Replicas < 0 {
			return errs.Invalidf("scale needs a deployment and a replica count of 0 or more. Usage: %s", u)
		}
	case Limits:
		if s.Deployment == "" || len(s.Limits)+len(s.Requests) == 0 {
			return errs.Invalidf("limits needs a deployment and at least one quantity. Usage: %s", u)
		}
		if err := checkQuantities(s.Limits, "limits"); err != nil {
			return errs.Invalidf("%s. Usage: %s", err, u)
		}
		if err := checkQuantities(s.Requests, "requests"); err != nil {
			return errs.Invalidf("%s. Usage: %s", err, u)
		}
	case Analyze, Index:
		return s.checkIdentifiers()
	case Cancel:
		if s.PID <= 0 {
			return errs.Invalidf("cancel needs a backend pid. Usage: %s", u)
		}
	case Rollback, Restart, ExplainAnalyze:
		return s.checkRemedy()
	default:
		return errs.Invalidf("unknown action %q. Use one of: %s", s.Kind, allUsage())
	}
	return nil
}

// checkQuantities accepts cpu and memory only, each a positive resource.Quantity.
func checkQuantities(m map[string]string, what string) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k != "cpu" && k != "memory" {
			return fmt.Errorf("%s: %q is not a resource perfbot sets (cpu, memory)", what, k)
		}
		q, err := resource.ParseQuantity(m[k])
		if err != nil {
			return fmt.Errorf("%s: %s=%q is not a quantity (e.g. cpu=500m, memory=2Gi)", what, k, m[k])
		}
		if q.Sign() <= 0 {
			return fmt.Errorf("%s: %s must be more than zero", what, k)
		}
	}
	return nil
}

func (s Spec) checkIdentifiers() error {
	names := append([]string{s.Table}, s.Columns...)
	if s.Schema != "" {
		names = append(names, s.Schema)
	}
	if s.Kind == Index && len(s.Columns) == 0 {
		return errs.Invalidf("index needs at least one column. Usage: %s", usage[Index])
	}
	if s.Kind == Analyze && len(s.Columns) > 0 {
		return errs.Invalidf("analyze takes a table only. Usage: %s", usage[Analyze])
	}
	for _, n := range names {
		if !isIdentifier(n) {
			return errs.Invalidf("%q is not a table or column name: names are letters, digits and _ (at most 63 bytes, not starting with a digit). Usage: %s", n, usage[s.Kind])
		}
	}
	return nil
}

// isIdentifier accepts the names PostgreSQL accepts unquoted, plus capitals: anything else is refused
// before it reaches a query, even though every identifier is also quoted with pgx.Identifier.
func isIdentifier(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for i, r := range s {
		ok := r == '_' || unicode.IsLetter(r) || (i > 0 && (unicode.IsDigit(r) || r == '$'))
		if !ok {
			return false
		}
	}
	return true
}

// Summary is a one-line description of the change, e.g. "scale agentic-studio/agentic-studio to 5 replicas".
func (s Spec) Summary() string {
	switch s.Kind {
	case Scale:
		return fmt.Sprintf("scale %s to %d replicas", s.target(), s.Replicas)
	case Limits:
		return fmt.Sprintf("set resources of %s: %s", s.target(), quantities(s))
	case Analyze:
		return fmt.Sprintf("ANALYZE %s", s.qualifiedTable())
	case Index:
		return fmt.Sprintf("CREATE INDEX CONCURRENTLY on %s (%s)", s.qualifiedTable(), strings.Join(s.Columns, ", "))
	case Cancel:
		if s.Terminate {
			return fmt.Sprintf("terminate PostgreSQL backend %d", s.PID)
		}
		return fmt.Sprintf("cancel the query of PostgreSQL backend %d", s.PID)
	case Rollback, Restart, ExplainAnalyze:
		return s.remedySummary()
	}
	return string(s.Kind)
}

func (s Spec) target() string {
	if s.Namespace == "" {
		return s.Deployment
	}
	return s.Namespace + "/" + s.Deployment
}

func (s Spec) qualifiedTable() string {
	if s.Schema == "" {
		return s.Table
	}
	return s.Schema + "." + s.Table
}

func quantities(s Spec) string {
	var parts []string
	for _, g := range []struct {
		name string
		m    map[string]string
	}{{"limits", s.Limits}, {"requests", s.Requests}} {
		for _, k := range []string{"cpu", "memory"} {
			if v, ok := g.m[k]; ok {
				parts = append(parts, fmt.Sprintf("%s.%s=%s", g.name, k, v))
			}
		}
	}
	return strings.Join(parts, " ")
}
