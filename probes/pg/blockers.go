package pg

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/perfbot/perfbot/internal/textfmt"
	"github.com/perfbot/perfbot/probes"
)

// lockEdge is one session waiting for a lock another holds.
type lockEdge struct {
	waiter, blocker int32
	waited          float64
}

// blockerTree is a root blocker (a session that blocks others and waits for nobody) with every
// session waiting on it, directly or behind another waiter.
type blockerTree struct {
	root    int32
	waiters []int32
	longest float64 // seconds, the longest wait among them
}

// rootBlockers walks the wait graph from each root blocker, largest tree first. A cycle (a deadlock
// the server has not broken yet) has no root and is left to the server's deadlock detector.
func rootBlockers(edges []lockEdge) []blockerTree {
	waiting := map[int32]bool{}
	behind := map[int32][]lockEdge{}
	for _, e := range edges {
		waiting[e.waiter] = true
		behind[e.blocker] = append(behind[e.blocker], e)
	}
	var trees []blockerTree
	for b := range behind {
		if waiting[b] {
			continue
		}
		t := blockerTree{root: b}
		seen := map[int32]bool{b: true}
		queue := []int32{b}
		for len(queue) > 0 {
			cur := queue[0]
			queue = queue[1:]
			for _, e := range behind[cur] {
				t.longest = max(t.longest, e.waited)
				if !seen[e.waiter] {
					seen[e.waiter] = true
					t.waiters = append(t.waiters, e.waiter)
					queue = append(queue, e.waiter)
				}
			}
		}
		trees = append(trees, t)
	}
	sort.Slice(trees, func(i, j int) bool {
		if len(trees[i].waiters) != len(trees[j].waiters) {
			return len(trees[i].waiters) > len(trees[j].waiters)
		}
		return trees[i].root < trees[j].root
	})
	return trees
}

// session is what pg_stat_activity says of one backend.
type session struct {
	pid         int32
	application string
	state       string
	open        float64 // seconds its transaction (or statement) has been open
	query       string
}

func readSessions(ctx context.Context, tx pgx.Tx, pids []int32) (map[int32]session, error) {
	rows, err := tx.Query(ctx, sqlSessions, pids)
	if err != nil {
		return nil, err
	}
	out := map[int32]session{}
	var s session
	_, err = pgx.ForEachRow(rows, []any{&s.pid, &s.application, &s.state, &s.open, &s.query}, func() error {
		out[s.pid] = s
		return nil
	})
	return out, err
}

func readLockEdges(ctx context.Context, tx pgx.Tx) ([]lockEdge, error) {
	rows, err := tx.Query(ctx, sqlLockEdges)
	if err != nil {
		return nil, err
	}
	var out []lockEdge
	var e lockEdge
	_, err = pgx.ForEachRow(rows, []any{&e.waiter, &e.blocker, &e.waited}, func() error {
		out = append(out, e)
		return nil
	})
	return out, err
}

// rootBlockerFinding names the session the waits come down to: who it is, what it holds the lock
// for, how many sessions wait on it and for how long. That is the cause; the waiters' long
// statements are its symptoms.
func rootBlockerFinding(t blockerTree, s session, limit float64) probes.Finding {
	who := fmt.Sprintf("pid %d", t.root)
	if t.root == 0 {
		who = "a prepared transaction"
	}
	var about []string
	if s.application != "" {
		about = append(about, fmt.Sprintf("application %q", textfmt.Truncate(s.application, 40)))
	}
	if s.state != "" {
		about = append(about, s.state)
	}
	if s.open > 0 {
		about = append(about, "transaction open "+textfmt.Seconds(s.open))
	}
	desc := who
	if len(about) > 0 {
		desc += " (" + strings.Join(about, ", ") + ")"
	}
	msg := fmt.Sprintf("%s blocks %d session(s), waiting up to %s", desc, len(t.waiters), textfmt.Seconds(t.longest))
	if s.query != "" {
		msg += "; its last statement: " + probes.RedactSQL(s.query)
	}
	st := probes.Warn
	if t.longest > limit {
		st = probes.Crit
	}
	return probes.Finding{Check: "DB blocking locks", Signal: probes.SigDBLock, Subject: who, Status: st,
		Value: t.longest, Threshold: limit, Unit: "s", Evidence: "pg_blocking_pids()", Message: msg}
}
