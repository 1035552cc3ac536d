// Package incidents keeps perfbot's incidents in PostgreSQL: their lifecycle, the timeline that
// collects itself, the runbook's escalation clock, Alertmanager intake and the generated postmortem.
// It knows nothing of Slack: the bot implements the small interfaces declared here (Pager, OnAlert).
package incidents

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/perfbot/perfbot/config"
)

// Clock tells the current time; tests inject a fixed or stepping one.
type Clock func() time.Time

// IDSource makes new identifiers; tests inject a deterministic one.
type IDSource func() uuid.UUID

// Options configures a Store. Zero values take the defaults noted on each field.
type Options struct {
	// Levels is the escalation ladder scheduled on every Open (default: DefaultLevels()).
	Levels []Level
	// Services are the services alerts may open incidents for; empty accepts any service.
	Services []string
	// ServiceLabels are the alert labels that name the service, tried in order (default service, job, app).
	ServiceLabels []string
	// AlertLease is how long a claimed alert receipt may stay uncompleted before a redelivery
	// may claim it again (default DefaultAlertLease). It should exceed how long OnAlert takes.
	AlertLease time.Duration
	// Location is the time zone shown next to UTC in postmortems (default UTC).
	Location *time.Location
	// Instance names this process in claimed_by (default host:pid).
	Instance string
	// Now is the clock (default time.Now).
	Now Clock
	// NewID makes IDs (default uuid.New).
	NewID IDSource
	// Via marks every event this store records that does not say otherwise: ViaTerminal for
	// perfbot exec and console, so the incident channel can catch up on them (default ViaChat).
	Via string
	// Log receives operational messages (default: discarded).
	Log *slog.Logger
}

// OptionsFrom fills Options from perfbot's configuration: the escalation ladder, the services
// alerts may open incidents for, and the time zone shown in postmortems.
func OptionsFrom(c *config.Config) (Options, error) {
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return Options{}, fmt.Errorf("time zone %q: %w", c.TimeZone, err)
	}
	return Options{Levels: LevelsFrom(c.Incidents), Services: c.ServiceNames(), Location: loc}, nil
}

// Store is the incident state in PostgreSQL and everything done with it.
type Store struct {
	pool *pgxpool.Pool
	opts Options
	log  *slog.Logger
}

// New returns a Store over pool. Call Migrate first, once per process start.
func New(pool *pgxpool.Pool, opts Options) *Store {
	if len(opts.Levels) == 0 {
		opts.Levels = DefaultLevels()
	}
	if len(opts.ServiceLabels) == 0 {
		opts.ServiceLabels = []string{"service", "job", "app"}
	}
	if opts.AlertLease <= 0 {
		opts.AlertLease = DefaultAlertLease
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Instance == "" {
		host, _ := os.Hostname()
		opts.Instance = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.NewID == nil {
		opts.NewID = uuid.New
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Store{pool: pool, opts: opts, log: log}
}

// now is the clock's time at PostgreSQL's precision, so what is stored reads back equal.
func (s *Store) now() time.Time { return s.opts.Now().UTC().Truncate(time.Microsecond) }

// Levels returns the escalation ladder this store schedules.
func (s *Store) Levels() []Level { return append([]Level(nil), s.opts.Levels...) }

// inTx runs fn in a transaction that commits when fn returns nil. The rollback does not use
// ctx: when ctx was cancelled (a shutdown mid-page) the locks must still be released at once,
// so another replica can take the escalation over.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() { // after a commit this is a no-op; after an error or a panic it releases the locks
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = tx.Rollback(rctx)
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// isNoRows reports whether err says a query found nothing.
func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }
