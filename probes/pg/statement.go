package pg

import (
	"strconv"
	"strings"

	"github.com/perfbot/perfbot/probes"
)

// statementPrefix starts the Evidence of a slow-statement finding, followed by its queryid.
const statementPrefix = "pg_stat_statements queryid "

func statementEvidence(queryID int64) string {
	if queryID == 0 {
		return "pg_stat_statements"
	}
	return statementPrefix + strconv.FormatInt(queryID, 10)
}

// StatementID returns the pg_stat_statements queryid a slow-statement finding is about, so a report
// can offer to explain it (`/perf explain <queryid>`).
func StatementID(f probes.Finding) (int64, bool) {
	s, ok := strings.CutPrefix(f.Evidence, statementPrefix)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id != 0
}
