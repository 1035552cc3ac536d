package app

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/perfbot/perfbot/actions"
	"github.com/perfbot/perfbot/incidents"
	"github.com/perfbot/perfbot/journal"
)

// readyTimeout bounds each readiness check: a hung database makes the replica unready, not /readyz slow.
const readyTimeout = 2 * time.Second

// Readiness answers GET /readyz: 200 while this replica can take work (its Socket Mode connection
// is open, the state database answers and its migrations are applied), 503 otherwise. The body has
// one line per check; probe sharing is reported but does not decide readiness (without Redis the
// replica still answers, sharing probe runs only inside its own process).
type Readiness struct {
	Connected func() bool
	State     *pgxpool.Pool
	// Pending lists the migrations not applied (default: incidents, actions and journal).
	Pending []func(context.Context, *pgxpool.Pool) ([]string, error)
	// Sharing, when set, reports whether probe runs are shared across replicas (nil error) or not.
	Sharing func(context.Context) error
}

// check is one line of the answer.
type check struct {
	name, detail string
	ok           bool
}

// Check runs every check and says whether the replica is ready.
func (r Readiness) Check(ctx context.Context) (ready bool, lines []check) {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	ready = true
	add := func(c check) {
		ready = ready && c.ok
		lines = append(lines, c)
	}
	switch {
	case r.Connected == nil || !r.Connected():
		add(check{"slack", "Socket Mode connection not open", false})
	default:
		add(check{"slack", "Socket Mode connection open", true})
	}
	if r.State == nil {
		add(check{"state database", "not opened", false})
	} else if err := r.State.Ping(ctx); err != nil {
		add(check{"state database", "does not answer: " + firstLine(err), false})
		add(check{"migrations", "unknown (the state database does not answer)", false})
	} else {
		add(check{"state database", "answers", true})
		add(r.migrations(ctx))
	}
	if r.Sharing != nil {
		if err := r.Sharing(ctx); err != nil {
			lines = append(lines, check{"probe sharing", "per-process only: redis does not answer: " + firstLine(err), true})
		} else {
			lines = append(lines, check{"probe sharing", "across replicas through redis", true})
		}
	}
	return ready, lines
}

func (r Readiness) migrations(ctx context.Context) check {
	pending := r.Pending
	if pending == nil {
		pending = []func(context.Context, *pgxpool.Pool) ([]string, error){incidents.Pending, actions.Pending, journal.Pending}
	}
	var missing []string
	for _, p := range pending {
		names, err := p(ctx, r.State)
		if err != nil {
			return check{"migrations", "unknown: " + firstLine(err), false}
		}
		missing = append(missing, names...)
	}
	if len(missing) > 0 {
		return check{"migrations", "not applied: " + strings.Join(missing, ", "), false}
	}
	return check{"migrations", "applied", true}
}

// ServeHTTP implements GET /readyz.
func (r Readiness) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	ready, lines := r.Check(req.Context())
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if ready {
		w.WriteHeader(http.StatusOK)
		fmt.Fprintln(w, "ready")
	} else {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "not ready")
	}
	for _, c := range lines {
		mark := "ok"
		if !c.ok {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "%-4s %s: %s\n", mark, c.name, c.detail)
	}
}

func firstLine(err error) string {
	line, _, _ := strings.Cut(err.Error(), "\n")
	return line
}
