package actions

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/perfbot/perfbot/errs"
)

// cancelAction cancels a backend's running query (pg_cancel_backend) or, with Terminate, ends the
// backend (pg_terminate_backend). It never signals perfbot's own sessions or non-client processes.
type cancelAction struct {
	db        *pgxpool.Pool
	state     *pgxpool.Pool
	spec      Spec
	databases []string
	timeout   time.Duration
	backend   backendInfo
}

// backendInfo is what pg_stat_activity says about the target; its query text is never read.
type backendInfo struct {
	database, user, app, state, kind string
	backendStart                     time.Time
	queryStart                       *time.Time
	runningFor                       float64
	own, maySignal                   bool
}

const backendQuery = `SELECT coalesce(a.datname, ''), coalesce(a.usename, ''), a.application_name,
	coalesce(a.state, ''), a.backend_type, a.backend_start, a.query_start,
	coalesce(extract(epoch FROM clock_timestamp() - a.query_start), 0)::float8,
	a.pid = pg_backend_pid() OR (a.application_name <> '' AND a.application_name = ANY($2::text[])),
	(SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
	  OR (a.usesysid IS NOT NULL AND pg_has_role(current_user, a.usesysid, 'MEMBER'))
	  OR (pg_has_role(current_user, 'pg_signal_backend', 'MEMBER')
	      AND NOT coalesce((SELECT rolsuper FROM pg_roles WHERE oid = a.usesysid), false))
	FROM pg_stat_activity a WHERE a.pid = $1`

func (a *cancelAction) plan(ctx context.Context) (Plan, error) {
	pid := a.spec.PID
	own, err := a.ownApps(ctx)
	if err != nil {
		return Plan{}, err
	}
	b := &a.backend
	err = a.db.QueryRow(ctx, backendQuery, pid, own).Scan(&b.database, &b.user, &b.app, &b.state, &b.kind,
		&b.backendStart, &b.queryStart, &b.runningFor, &b.own, &b.maySignal)
	if errors.Is(err, pgx.ErrNoRows) {
		return Plan{}, errs.NotFoundf("there is no PostgreSQL backend with pid %d (see `/perf db` for long-running queries)", pid)
	}
	if err != nil {
		return Plan{}, fmt.Errorf("look up backend %d: %w", pid, err)
	}
	switch {
	case b.own:
		return Plan{}, errs.Forbiddenf("backend %d is one of perfbot's own sessions", pid)
	case b.kind != "client backend":
		return Plan{}, errs.Forbiddenf("backend %d is a %s, not a client session; only client sessions can be cancelled", pid, b.kind)
	case !slices.Contains(a.databases, b.database):
		return Plan{}, errs.Forbiddenf("backend %d is connected to database %s, which is not on the allow-list: %s",
			pid, b.database, listOrNone(a.databases, "none"))
	case !b.maySignal:
		return Plan{}, errs.Forbiddenf("perfbot's database role may not signal backend %d of user %s", pid, b.user)
	}
	if err := a.samePinned(); err != nil {
		return Plan{}, err
	}
	from := fmt.Sprintf("%s for %.0fs", b.state, b.runningFor)
	to := "query cancelled"
	if a.spec.Terminate {
		to = "session terminated"
	}
	return Plan{
		Summary: fmt.Sprintf("%s (user %s, application %q, database %s)", a.spec.Summary(), b.user, b.app, b.database),
		Changes: []Change{{What: fmt.Sprintf("backend %d", pid), From: from, To: to}},
		DryRun:  "the backend exists, is a client session of an allowed database, and perfbot's role may signal it",
	}, nil
}

// ownApps returns the application names of perfbot's own connections, whose backends are never signalled.
func (a *cancelAction) ownApps(ctx context.Context) ([]string, error) {
	var out []string
	for _, p := range []*pgxpool.Pool{a.db, a.state} {
		var name string
		if err := p.QueryRow(ctx, "SELECT current_setting('application_name')").Scan(&name); err != nil {
			return nil, fmt.Errorf("read perfbot's application_name: %w", err)
		}
		if name != "" {
			out = append(out, name)
		}
	}
	return out, nil
}

// samePinned checks that the backend is still the session (and, for a cancel, runs the statement)
// that the spec pinned, when it pinned one: at approval, and at request time if the caller pinned it.
func (a *cancelAction) samePinned() error {
	s, b := a.spec, a.backend
	switch {
	case s.BackendStart == nil:
		return nil
	case !s.BackendStart.Equal(b.backendStart):
		return errs.Conflictf("pid %d now belongs to a session that started at %s, not the one requested: "+
			"the session changed since the request; ask again", s.PID, b.backendStart.UTC().Format(time.RFC3339))
	case !s.Terminate && !sameTime(s.QueryStart, b.queryStart):
		return errs.Conflictf("backend %d runs another statement than the one requested: "+
			"the session changed since the request; ask again", s.PID)
	}
	return nil
}

// pin records in spec the identity of the backend the plan found, so that approval signals that
// session and statement or nothing.
func (a *cancelAction) pin(spec Spec) Spec {
	start := a.backend.backendStart
	spec.BackendStart, spec.QueryStart = &start, nil
	if !spec.Terminate {
		spec.QueryStart = a.backend.queryStart
	}
	return spec
}

// signalQuery signals the backend only if it is still the pinned session and, for a cancel, still runs
// the pinned statement; it returns no row otherwise. %s is pg_cancel_backend or pg_terminate_backend.
const signalQuery = `SELECT %s(pid) FROM pg_stat_activity
	WHERE pid = $1 AND backend_start = $2 AND ($3::boolean OR query_start IS NOT DISTINCT FROM $4::timestamptz)`

func (a *cancelAction) execute(ctx context.Context) (string, error) {
	fn, verb := "pg_cancel_backend", "cancelled the query of"
	if a.spec.Terminate {
		fn, verb = "pg_terminate_backend", "terminated"
	}
	var ok bool
	err := a.db.QueryRow(ctx, fmt.Sprintf(signalQuery, fn), a.spec.PID, a.spec.BackendStart, a.spec.Terminate,
		a.spec.QueryStart).Scan(&ok)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", errs.Conflictf("backend %d has ended, or is no longer the session or statement requested: "+
			"the session changed since the request; ask again", a.spec.PID)
	}
	if err != nil {
		return "", dbErr(err, "%s(%d)", fn, a.spec.PID)
	}
	if !ok {
		return "", errs.Conflictf("backend %d could not be signalled; it has probably ended", a.spec.PID)
	}
	return fmt.Sprintf("%s backend %d", verb, a.spec.PID), nil
}

// verify waits until the backend is gone (terminate) or no longer runs the query it ran (cancel).
func (a *cancelAction) verify(ctx context.Context) (string, error) {
	pid := a.spec.PID
	deadline := time.Now().Add(a.timeout)
	for {
		var state string
		var start *time.Time
		err := a.db.QueryRow(ctx, "SELECT coalesce(state, ''), query_start FROM pg_stat_activity WHERE pid = $1",
			pid).Scan(&state, &start)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return fmt.Sprintf("backend %d has exited", pid), nil
		case err != nil:
			return "", fmt.Errorf("read back backend %d: %w", pid, err)
		case !a.spec.Terminate && (state != "active" || !sameTime(start, a.backend.queryStart)):
			return fmt.Sprintf("backend %d no longer runs that query (now %s)", pid, state), nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("backend %d still runs the same query %s after the signal", pid, a.timeout)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}
