package explain

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/internal/textfmt"
	"github.com/perfbot/perfbot/probes"
)

// Explanation is a statement's plan with the statistics of the tables it scans.
type Explanation struct {
	Statement Statement
	// Generic is set when the plan is a generic one (GENERIC_PLAN: parameters without values).
	Generic bool
	// Analyzed is set when the statement ran (EXPLAIN ANALYZE): nodes carry actual rows and times.
	Analyzed    bool
	Root        Node
	PlanningMs  float64
	ExecutionMs float64
	// Tables are the tables the plan scans, in plan order, with their size and statistics.
	Tables []Table
}

// Node is one plan node.
type Node struct {
	Type     string // e.g. "Seq Scan", "Index Scan", "Hash Join"
	Schema   string
	Relation string
	Alias    string
	Index    string
	// Filter is the node's conditions (index, recheck, hash, filter) as EXPLAIN prints them, with
	// every constant redacted.
	Filter   string
	PlanRows float64
	// ActualRows is rows per loop, known only when Analyzed; Loops is how often the node ran.
	ActualRows float64
	Loops      float64
	TotalCost  float64
	Children   []Node
}

// jsonNode is a node as EXPLAIN (FORMAT JSON) writes it.
type jsonNode struct {
	NodeType     string     `json:"Node Type"`
	Schema       string     `json:"Schema"`
	RelationName string     `json:"Relation Name"`
	Alias        string     `json:"Alias"`
	IndexName    string     `json:"Index Name"`
	Filter       string     `json:"Filter"`
	IndexCond    string     `json:"Index Cond"`
	RecheckCond  string     `json:"Recheck Cond"`
	HashCond     string     `json:"Hash Cond"`
	PlanRows     float64    `json:"Plan Rows"`
	ActualRows   *float64   `json:"Actual Rows"`
	ActualLoops  float64    `json:"Actual Loops"`
	TotalCost    float64    `json:"Total Cost"`
	Plans        []jsonNode `json:"Plans"`
}

func (e *Explanation) parse(raw []byte) error {
	var doc []struct {
		Plan          jsonNode `json:"Plan"`
		PlanningTime  float64  `json:"Planning Time"`
		ExecutionTime float64  `json:"Execution Time"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil || len(doc) == 0 {
		return fmt.Errorf("read the EXPLAIN output: %v", err)
	}
	e.Root = convert(doc[0].Plan)
	e.PlanningMs, e.ExecutionMs = doc[0].PlanningTime, doc[0].ExecutionTime
	return nil
}

func convert(j jsonNode) Node {
	n := Node{Type: j.NodeType, Schema: j.Schema, Relation: j.RelationName, Alias: j.Alias, Index: j.IndexName,
		PlanRows: j.PlanRows, TotalCost: j.TotalCost, Loops: j.ActualLoops, ActualRows: -1}
	for _, c := range []string{j.IndexCond, j.RecheckCond, j.HashCond, j.Filter} {
		if c != "" {
			n.Filter = strings.TrimSpace(n.Filter + " " + c)
		}
	}
	n.Filter = probes.RedactSQL(n.Filter) // constants in conditions may be personal data
	if j.ActualRows != nil {
		n.ActualRows = *j.ActualRows
	}
	for _, c := range j.Plans {
		n.Children = append(n.Children, convert(c))
	}
	return n
}

// Walk calls fn for n and every node below it, depth first, with its depth.
func (n Node) Walk(fn func(n Node, depth int)) { n.walk(fn, 0) }

func (n Node) walk(fn func(Node, int), depth int) {
	fn(n, depth)
	for _, c := range n.Children {
		c.walk(fn, depth+1)
	}
}

// Label is the node as one short line: "Seq Scan on public.ideas", "Index Scan using idx on public.ideas".
func (n Node) Label() string {
	s := n.Type
	if n.Index != "" {
		s += " using " + n.Index
	}
	if n.Relation != "" {
		s += " on " + n.Table()
	}
	return s
}

// Table is the node's relation, schema-qualified when the plan names the schema.
func (n Node) Table() string {
	if n.Schema == "" {
		return n.Relation
	}
	return n.Schema + "." + n.Relation
}

// SeqScan is a sequential scan of a large table, the plan's most common reason to be slow.
type SeqScan struct {
	Node  Node
	Table Table
}

// SeqScans are the plan's sequential scans of large tables, in plan order.
func (e Explanation) SeqScans() []SeqScan {
	var out []SeqScan
	e.Root.Walk(func(n Node, _ int) {
		if n.Type != "Seq Scan" && n.Type != "Parallel Seq Scan" {
			return
		}
		for _, t := range e.Tables {
			if t.Schema == n.Schema && t.Name == n.Relation && t.Large {
				out = append(out, SeqScan{Node: n, Table: t})
			}
		}
	})
	return out
}

// Lines renders the plan as a short indented tree, one line per node, with estimated (and actual) rows.
func (e Explanation) Lines() []string {
	var out []string
	e.Root.Walk(func(n Node, depth int) {
		line := strings.Repeat("  ", depth)
		if depth > 0 {
			line += "-> "
		}
		line += n.Label() + fmt.Sprintf(" (est. %.0f rows", n.PlanRows)
		if n.ActualRows >= 0 {
			line += fmt.Sprintf(", actual %.0f × %.0f loops", n.ActualRows, n.Loops)
		}
		line += ")"
		if n.Filter != "" {
			line += " " + textfmt.Truncate(n.Filter, 120)
		}
		out = append(out, line)
	})
	return out
}

// pgErr says what a failed EXPLAIN means in the words of the errs kinds.
func pgErr(err error, what string) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", what, err)
	}
	switch {
	case pe.Code == "57014":
		return errs.Unavailablef("%s stopped at its statement timeout: %s", what, pe.Message)
	case pe.Code == "25006":
		return errs.Invalidf("%s refused: the statement tries to write (%s)", what, pe.Message)
	case pe.Code == "42601":
		return errs.Invalidf("%s cannot parse the statement (%s); a backend's statement text may be cut at track_activity_query_size", what, pe.Message)
	case strings.HasPrefix(pe.Code, "42"):
		return errs.Invalidf("%s refused the statement: %s", what, pe.Message)
	}
	return fmt.Errorf("%s: %w", what, err)
}
