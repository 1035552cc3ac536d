package actions

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// settler is an action that can tell, from what is there now, what became of it after the process
// running it stopped. It decides nothing (decided false) while it cannot tell yet, as while an index
// build is still running; an error means the target could not be read and it is asked again later.
type settler interface {
	settle(ctx context.Context, r Request) (settlement, error)
}

// lapsedNote starts every result recovery writes.
const lapsedNote = "the process running this stopped before recording the outcome; "

func succeeded(format string, a ...any) settlement {
	return settlement{decided: true, status: StatusSucceeded, result: lapsedNote + fmt.Sprintf(format, a...)}
}

func failed(format string, a ...any) settlement {
	return settlement{decided: true, status: StatusFailed, result: lapsedNote + fmt.Sprintf(format, a...)}
}

// settle: the scale happened when spec.replicas is the target.
func (a *scaleAction) settle(ctx context.Context, _ Request) (settlement, error) {
	ns, name, target := a.spec.Namespace, a.spec.Deployment, a.spec.Replicas
	sc, err := a.kube.AppsV1().Deployments(ns).GetScale(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return failed("deployment %s/%s no longer exists", ns, name), nil
	}
	if err != nil {
		return settlement{}, kubeErr(err, "read the scale of %s/%s", ns, name)
	}
	if sc.Spec.Replicas == target {
		return succeeded("spec.replicas of %s/%s is %d, as requested", ns, name, target), nil
	}
	return failed("spec.replicas of %s/%s is %d, not %d: the scale did not take effect; ask again", ns, name, sc.Spec.Replicas, target), nil
}

// settle: the patch happened when the container has every requested quantity.
func (a *limitsAction) settle(ctx context.Context, _ Request) (settlement, error) {
	ns, name := a.spec.Namespace, a.spec.Deployment
	d, err := a.kube.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return failed("deployment %s/%s no longer exists", ns, name), nil
	}
	if err != nil {
		return settlement{}, kubeErr(err, "read deployment %s/%s", ns, name)
	}
	if err := a.check(d); err != nil {
		return failed("container %s of %s/%s: %v: the patch did not take effect; ask again", a.container, ns, name, err), nil
	}
	return succeeded("container %s of %s/%s has %s, as requested", a.container, ns, name, quantities(a.spec)), nil
}

// settle: an ANALYZE ran when the table's statistics are newer than the approval; one still running
// is waited for. An index is there and valid (succeeded), being built (wait), left invalid by the
// stopped build (dropped, failed) or absent (failed).
func (a *tableAction) settle(ctx context.Context, r Request) (settlement, error) {
	if err := a.lookup(ctx); err != nil {
		return settlement{}, err
	}
	if a.spec.Kind == Index {
		return a.settleIndex(ctx)
	}
	var running bool
	var last *time.Time
	err := a.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_progress_analyze WHERE relid = $1),
		(SELECT greatest(last_analyze, last_autoanalyze) FROM pg_stat_all_tables WHERE relid = $1)`, a.tbl.oid).Scan(&running, &last)
	if err != nil {
		return settlement{}, fmt.Errorf("read the statistics of %s.%s: %w", a.spec.Schema, a.spec.Table, err)
	}
	switch {
	case last != nil && !last.Before(r.DecidedAt):
		return succeeded("the statistics of %s.%s were updated at %s", a.spec.Schema, a.spec.Table, last.UTC().Format(time.RFC3339)), nil
	case running:
		return settlement{}, nil
	}
	return failed("the statistics of %s.%s are older than the approval: ANALYZE did not finish; ask again", a.spec.Schema, a.spec.Table), nil
}

func (a *tableAction) settleIndex(ctx context.Context) (settlement, error) {
	s, name := a.spec, a.indexName()
	var valid, building bool
	err := a.db.QueryRow(ctx, `SELECT i.indisvalid, EXISTS (SELECT 1 FROM pg_stat_progress_create_index p
			WHERE p.datid = (SELECT oid FROM pg_database WHERE datname = current_database())
			  AND (p.index_relid = c.oid OR p.index_relid IS NULL OR p.relid IS NULL OR p.relid = i.indrelid))
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_index i ON i.indexrelid = c.oid
		WHERE n.nspname = $1 AND c.relname = $2`, s.Schema, name).Scan(&valid, &building)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return failed("index %s.%s does not exist: the build did not happen; ask again", s.Schema, name), nil
	case err != nil:
		return settlement{}, fmt.Errorf("look up index %s.%s: %w", s.Schema, name, err)
	case valid:
		return succeeded("index %s.%s exists and is valid", s.Schema, name), nil
	case building:
		return settlement{}, nil
	}
	note, err := a.dropFailedIndex(ctx)
	if err != nil {
		return settlement{}, fmt.Errorf("drop the invalid index %s.%s: %w", s.Schema, name, err)
	}
	if note != "" {
		return settlement{}, nil // a build may still own it: look again later
	}
	return failed("the build of index %s.%s stopped and left it invalid; it was dropped; ask again", s.Schema, name), nil
}

// settle: a cancel took effect when the pinned session no longer runs the pinned statement (for a
// terminate: the session is gone), whoever or whatever ended it.
func (a *cancelAction) settle(ctx context.Context, _ Request) (settlement, error) {
	var alive bool
	err := a.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND backend_start = $2
		AND ($3::boolean OR (state = 'active' AND query_start IS NOT DISTINCT FROM $4::timestamptz)))`,
		a.spec.PID, a.spec.BackendStart, a.spec.Terminate, a.spec.QueryStart).Scan(&alive)
	if err != nil {
		return settlement{}, fmt.Errorf("look up backend %d: %w", a.spec.PID, err)
	}
	if alive {
		return failed("backend %d still runs what was to be stopped: it was not signalled; ask again", a.spec.PID), nil
	}
	if a.spec.Terminate {
		return succeeded("backend %d has exited", a.spec.PID), nil
	}
	return succeeded("backend %d no longer runs that query", a.spec.PID), nil
}
