package explain

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// Table is a scanned table's size and planner statistics.
type Table struct {
	Schema, Name string
	// Rows is the planner's estimate (reltuples), or the live rows counted when larger.
	Rows float64
	// Size is the table's heap; TotalSize adds its indexes and TOAST.
	Size, TotalSize int64
	// Modified is how many rows changed since the last analyze.
	Modified                     int64
	LastAnalyze, LastAutoanalyze *time.Time
	// Large is set when Rows reaches Options.LargeRows.
	Large bool
	// Columns are the statistics of the columns the plan filters or joins this table on.
	Columns []Column
}

// Column is one column's planner statistics (pg_stats).
type Column struct {
	Name string
	// NDistinct is pg_stats.n_distinct: distinct values, or minus their share of the rows when negative.
	NDistinct *float64
	// Correlation is how closely the column's order follows the table's physical order (-1..1).
	Correlation *float64
	// Indexed is set when some index of the table starts with this column.
	Indexed bool
}

// Qualified is "schema.name".
func (t Table) Qualified() string { return t.Schema + "." + t.Name }

// LastAnalyzed is the later of the last manual and automatic analyze, nil when never analyzed.
func (t Table) LastAnalyzed() *time.Time {
	switch {
	case t.LastAnalyze == nil:
		return t.LastAutoanalyze
	case t.LastAutoanalyze == nil || t.LastAnalyze.After(*t.LastAutoanalyze):
		return t.LastAnalyze
	}
	return t.LastAutoanalyze
}

// readTables reads size and statistics of each table the plan scans.
func (e *Explanation) readTables(ctx context.Context, tx pgx.Tx, largeRows int64) error {
	filters := map[[2]string][]string{}
	var order [][2]string
	var joins []string // conditions of nodes without a relation (joins): alias.column names the table
	e.Root.Walk(func(n Node, _ int) {
		if n.Relation == "" || n.Schema == "" {
			joins = append(joins, n.Filter)
			return
		}
		k := [2]string{n.Schema, n.Relation}
		if _, ok := filters[k]; !ok {
			order = append(order, k)
		}
		filters[k] = append(filters[k], n.Filter)
		filters[k] = append(filters[k], qualified(joins, n.Alias, n.Relation)...)
	})
	for _, k := range order {
		t, ok, err := readTable(ctx, tx, k[0], k[1])
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		t.Large = largeRows > 0 && t.Rows >= float64(largeRows)
		if t.Columns, err = readColumns(ctx, tx, t, filters[k]); err != nil {
			return err
		}
		e.Tables = append(e.Tables, t)
	}
	return nil
}

func readTable(ctx context.Context, tx pgx.Tx, schema, name string) (Table, bool, error) {
	t := Table{Schema: schema, Name: name}
	err := tx.QueryRow(ctx, `SELECT greatest(c.reltuples, coalesce(s.n_live_tup, 0))::float8, pg_relation_size(c.oid),
			pg_total_relation_size(c.oid), coalesce(s.n_mod_since_analyze, 0), s.last_analyze, s.last_autoanalyze
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid
		WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'm')`, schema, name).
		Scan(&t.Rows, &t.Size, &t.TotalSize, &t.Modified, &t.LastAnalyze, &t.LastAutoanalyze)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, false, nil
	}
	if err != nil {
		return t, false, fmt.Errorf("read the size of %s.%s: %w", schema, name, err)
	}
	return t, true, nil
}

// readColumns returns pg_stats of the table's columns that appear in the plan's conditions on it.
func readColumns(ctx context.Context, tx pgx.Tx, t Table, conds []string) ([]Column, error) {
	words := map[string]bool{}
	for _, c := range conds {
		for _, w := range scan(c).tokens {
			words[w] = true
		}
	}
	rows, err := tx.Query(ctx, `SELECT a.attname::text, s.n_distinct::float8, s.correlation::float8,
			EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indkey[0] = a.attnum)
		FROM pg_attribute a
		JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = a.attname
		WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY a.attnum`, t.Schema, t.Name)
	if err != nil {
		return nil, fmt.Errorf("read the column statistics of %s: %w", t.Qualified(), err)
	}
	var out []Column
	var c Column
	_, err = pgx.ForEachRow(rows, []any{&c.Name, &c.NDistinct, &c.Correlation, &c.Indexed}, func() error {
		if words[c.Name] && !slices.ContainsFunc(out, func(o Column) bool { return o.Name == c.Name }) {
			out = append(out, Column{Name: c.Name, NDistinct: copyOf(c.NDistinct), Correlation: copyOf(c.Correlation), Indexed: c.Indexed})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the column statistics of %s: %w", t.Qualified(), err)
	}
	return out, nil
}

func copyOf(p *float64) *float64 {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// qualified picks from conditions the columns written as alias.column or relation.column.
func qualified(conds []string, alias, relation string) []string {
	var out []string
	for _, c := range conds {
		tk := scan(c).tokens
		for i := 0; i+2 < len(tk); i++ {
			if (tk[i] == alias || tk[i] == relation) && tk[i+1] == "." {
				out = append(out, tk[i+2])
			}
		}
	}
	return out
}
