package actions

import (
	"testing"

	"github.com/perfbot/perfbot/errs"
)

// TestParseRemedies: rollback, restart and explain-analyze parse into specs, and bad input is a usage error.
func TestParseRemedies(t *testing.T) {
	for text, want := range map[string]string{
		"rollback agentic-studio":          "roll back agentic-studio to its previous revision",
		"rollback studio/agentic-studio 3": "roll back studio/agentic-studio to revision 3",
		"restart agentic-studio":           "rolling restart of agentic-studio",
		"explain-analyze -42":              "EXPLAIN ANALYZE statement -42 of pg_stat_statements",
	} {
		s, err := ParseRequest(text)
		if err != nil || s.Summary() != want {
			t.Errorf("%s: %q, %v; want %q", text, s.Summary(), err, want)
		}
	}
	for _, text := range []string{"rollback", "rollback a 0", "rollback a b", "rollback a 1 2", "restart", "restart a b",
		"explain-analyze", "explain-analyze x", "explain-analyze 0"} {
		if _, err := ParseRequest(text); errs.KindOf(err) != errs.Invalid {
			t.Errorf("%s: %v, want a usage error", text, err)
		}
	}
}
