package studiosim

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// faultSetupTimeout bounds how long taking a lock or a pool connection for a fault may take.
const faultSetupTimeout = 10 * time.Second

// lockAppName is the application_name of the session that holds the lock fault's row locks,
// so that pg_stat_activity tells it apart from the app's own pool.
const lockAppName = "studiosim-batch"

// holdLock opens its own session (a stand-in for a stuck batch job), locks every row of
// projects in an open transaction and keeps it open; /api/projects updates then wait on it.
func (s *Server) holdLock(ctx context.Context) (func(context.Context) error, error) {
	ctx, cancel := context.WithTimeout(ctx, faultSetupTimeout)
	defer cancel()
	cfg := s.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = lockAppName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect lock session: %w", err)
	}
	tx, err := conn.Begin(ctx)
	if err == nil {
		_, err = tx.Exec(ctx, `SELECT id FROM projects ORDER BY id FOR UPDATE`)
	}
	if err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("lock projects rows: %w", err)
	}
	return func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, faultSetupTimeout)
		defer cancel()
		rbErr := tx.Rollback(ctx)
		return errors.Join(rbErr, conn.Close(ctx))
	}, nil
}

// holdIdle takes n connections out of the app's own pool, begins a transaction on each, runs a
// statement and leaves them idle in transaction: the leak that exhausts a connection pool.
func (s *Server) holdIdle(ctx context.Context, n int) (func(context.Context) error, error) {
	ctx, cancel := context.WithTimeout(ctx, faultSetupTimeout)
	defer cancel()
	var txs []pgx.Tx
	release := func(ctx context.Context) error {
		var errs []error
		for _, tx := range txs {
			if err := tx.Rollback(ctx); err != nil && !errors.Is(err, pgx.ErrTxClosed) {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
	for i := 0; i < n; i++ {
		tx, err := s.pool.Begin(ctx)
		if err == nil {
			txs = append(txs, tx)
			_, err = tx.Exec(ctx, `SELECT count(*) FROM ideas WHERE status = 'open'`)
		}
		if err != nil {
			release(context.WithoutCancel(ctx))
			return nil, fmt.Errorf("hold connection %d of %d idle in transaction: %w", i+1, n, err)
		}
	}
	return func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, faultSetupTimeout)
		defer cancel()
		return release(ctx)
	}, nil
}
