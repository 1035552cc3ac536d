// Package app wires perfbot together: from one config it builds the backend clients, the command
// handlers, the incident store and timeline, the pager, the approval-gated actions and the Slack bot,
// and runs them. cmd/perfbot calls it; end-to-end tests start it too.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/perfbot/perfbot/actions"
	"github.com/perfbot/perfbot/bot"
	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/handlers"
	"github.com/perfbot/perfbot/incidents"
	"github.com/perfbot/perfbot/journal"
	"github.com/perfbot/perfbot/probes"
)

// App is a running perfbot: the bot, its HTTP listener and the escalation clock. Tests start it too.
type App struct {
	Addr    string // the HTTP listener's address
	Bot     *bot.Bot
	Store   *incidents.Store
	Actions *actions.Service
	cancel  context.CancelFunc
	errc    chan error
	close   []func()
	// bg tracks the bot and the clocks, which still use the pools while they wind down.
	bg sync.WaitGroup
	// shutdownWait bounds how long Close waits for running actions (actions.shutdown_wait).
	shutdownWait time.Duration
	// ready answers GET /readyz.
	ready Readiness
}

// Option changes how Start wires perfbot (tests inject a clock and a faster escalation tick).
type Option func(*startOptions)

type startOptions struct {
	now             func() time.Time
	escalationEvery time.Duration
	actionsEvery    time.Duration
	commands        []handlers.Command
}

// WithClock makes incidents and escalations read time from now.
func WithClock(now func() time.Time) Option { return func(o *startOptions) { o.now = now } }

// WithEscalationEvery sets how often due escalations are looked for.
func WithEscalationEvery(d time.Duration) Option {
	return func(o *startOptions) { o.escalationEvery = d }
}

// WithActionClockEvery sets how often the action clock expires requests, recovers lapsed leases
// and tells the outcomes it decided.
func WithActionClockEvery(d time.Duration) Option {
	return func(o *startOptions) { o.actionsEvery = d }
}

// WithCommands adds commands to the /perf command set (perfbot demo adds its fault switch).
func WithCommands(cmds ...handlers.Command) Option {
	return func(o *startOptions) { o.commands = append(o.commands, cmds...) }
}

// Start wires perfbot from cfg and starts it; Wait blocks until it stops, Close stops it.
func Start(ctx context.Context, cfg *config.Config, log *slog.Logger, opts ...Option) (*App, error) {
	so := startOptions{now: time.Now, escalationEvery: 5 * time.Second, actionsEvery: 5 * time.Second}
	for _, o := range opts {
		o(&so)
	}
	ctx, cancel := context.WithCancel(ctx)
	a := &App{cancel: cancel, errc: make(chan error, 4), shutdownWait: cfg.Actions.ShutdownWait.D()}
	pool, err := openState(ctx, cfg.State.PostgresDSN)
	if err != nil {
		cancel()
		return nil, err
	}
	a.close = append(a.close, pool.Close)
	if err := errors.Join(incidents.Migrate(ctx, pool), actions.Migrate(ctx, pool), journal.Migrate(ctx, pool)); err != nil {
		a.Close()
		return nil, fmt.Errorf("migrate state database: %w", err)
	}
	iopts, err := incidents.OptionsFrom(cfg)
	if err != nil {
		a.Close()
		return nil, err
	}
	iopts.Log, iopts.Now = log, incidents.Clock(so.now)
	a.Store = incidents.New(pool, iopts)
	backends := NewBackends(cfg, nil)
	a.close = append(a.close, backends.Close)
	h := handlers.New(cfg, backends, log)
	a.ready = Readiness{State: pool}
	if cfg.State.ShareProbes == config.ShareRedis && cfg.State.RedisAddr != "" {
		// A claim outlives a probe's own timeout, so a live runner always publishes first.
		share := probes.NewRedisShare(cfg.State.RedisAddr, cfg.Commands.ProbeTimeout.D()+time.Second, handlers.ShareBucket, log)
		a.close = append(a.close, func() { _ = share.Close() })
		h.ShareAcross(share)
		a.ready.Sharing = share.Status
	}
	hooks := &botHooks{Timeline: Timeline{Store: a.Store, Log: log}}
	a.Bot, err = bot.New(bot.Options{AppToken: cfg.Slack.AppToken, BotToken: cfg.Slack.BotToken, APIURL: cfg.Slack.APIURL,
		Commands: h, Workers: cfg.Slack.Workers, Log: log, Hooks: hooks,
		Journal: journal.New(pool, replicaName(), cfg.State.WorkLease.D())})
	if err != nil {
		a.Close()
		return nil, err
	}
	a.ready.Connected = a.Bot.Connected
	ws := a.Bot.Workspace()
	inc := handlers.NewIncidents(a.Store, ws, cfg, log, so.now)
	hooks.Timeline.Pinned = inc.Pinned
	h.KnowIncidentChannels(func(ctx context.Context, channel string) bool {
		_, err := a.Store.ByChannel(ctx, channel)
		return err == nil
	})
	h.Add(inc.Commands()...)
	act, err := a.actions(cfg, pool, backends, log, so.now)
	if err != nil {
		a.Close()
		return nil, err
	}
	h.Add(act.Commands()...)
	h.Add(so.commands...)
	a.Bot.HandleApprovals(act)
	hooks.actions = a.Actions
	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("http listener: %w", err)
	}
	a.Addr = ln.Addr().String()
	routes, on, off := a.routes(cfg, inc.OnAlert)
	log.Info("http listening", "addr", a.Addr, "on", strings.Join(on, ", "), "off", strings.Join(off, ", "))
	srv := &http.Server{Handler: routes, ReadHeaderTimeout: 5 * time.Second}
	a.close = append(a.close, func() { _ = srv.Close() })
	go func() { a.errc <- ignoreClosed(srv.Serve(ln)) }()
	a.bg.Add(4)
	go func() { // overdue status updates, and what was done from the terminal while Slack was down
		defer a.bg.Done()
		a.errc <- ignoreCanceled(inc.RunReminders(ctx, so.escalationEvery))
	}()
	go func() { defer a.bg.Done(); a.errc <- a.Bot.Run(ctx) }()
	go func() {
		defer a.bg.Done()
		a.errc <- ignoreCanceled(a.Store.RunEscalations(ctx, so.escalationEvery, inc.Pager()))
	}()
	go func() { // its first tick, at start-up, recovers what a stopped process left executing
		defer a.bg.Done()
		a.errc <- ignoreCanceled(a.Actions.RunClock(ctx, so.actionsEvery))
	}()
	return a, nil
}

// actions builds the approval-gated changes over the first service's Kubernetes and database
// clients; the outcomes its clock decides are shown in the approval messages.
func (a *App) actions(cfg *config.Config, pool *pgxpool.Pool, backends *Backends, log *slog.Logger, now func() time.Time) (*handlers.Actions, error) {
	env, err := backends.Env("", 0)
	if err != nil {
		return nil, err
	}
	msgs := &ApprovalMessages{Bot: a.Bot}
	opts := actions.Options{Config: cfg, State: pool, Kube: env.Kube, DB: env.Postgres, Log: log, Now: now,
		Recorder: ActionRecorder{Store: a.Store}, Incidents: IncidentFor{Store: a.Store}, Messages: msgs}
	if cfg.Actions.ApproverGroup != "" {
		opts.Approvers = a.Bot.Approvers(cfg.Actions.ApproverGroup)
	}
	a.Actions, err = actions.New(opts)
	if err != nil {
		return nil, err
	}
	msgs.Actions = handlers.NewActions(a.Actions, cfg.Actions.Approvers, cfg.Actions.ApproverGroup)
	return msgs.Actions, nil
}

// openState connects to perfbot's own database, naming the connections so actions never cancel them.
func openState(ctx context.Context, dsn string) (*pgxpool.Pool, error) {
	pcfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("state database dsn: %w", err)
	}
	if pcfg.ConnConfig.RuntimeParams["application_name"] == "" {
		pcfg.ConnConfig.RuntimeParams["application_name"] = "perfbot"
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("state database: %w", err)
	}
	return pool, nil
}

// routes are the HTTP endpoints. An endpoint guarded by a token is mounted only when its token is
// set: without one it is off (404), never open. It returns which endpoints are on and which off, and why.
func (a *App) routes(cfg *config.Config, onAlert func(context.Context, incidents.Alert) error) (h http.Handler, on, off []string) {
	mux := http.NewServeMux()
	guarded := []struct {
		pattern, token, setting string
		h                       http.Handler
	}{
		{"POST /alertmanager", cfg.HTTP.AlertmanagerToken, "http.alertmanager_token",
			incidents.AlertHandler(a.Store, incidents.AlertOptions{Token: cfg.HTTP.AlertmanagerToken, OnAlert: onAlert})},
		{"GET /incidents/{id}/postmortem", cfg.HTTP.PostmortemToken, "http.postmortem_token",
			incidents.PostmortemHandler(a.Store, nil, cfg.HTTP.PostmortemToken)},
	}
	for _, g := range guarded {
		if g.token == "" {
			off = append(off, g.pattern+" ("+g.setting+" is empty)")
			continue
		}
		mux.Handle(g.pattern, g.h)
		on = append(on, g.pattern)
	}
	mux.Handle("GET /metrics", promhttp.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.Handle("GET /readyz", a.ready)
	return mux, append(on, "GET /metrics", "GET /healthz", "GET /readyz"), off
}

// Wait returns when the first part of the app stops (an error, or nil when ctx ended).
func (a *App) Wait() error { return <-a.errc }

// Close stops everything Start started. New approvals are refused at once; running actions get
// actions.shutdown_wait to finish, and those still running then are left to lease recovery rather
// than have the pools closed under them.
func (a *App) Close() {
	a.cancel()
	actionsDone := make(chan struct{})
	go func() {
		defer close(actionsDone)
		if a.Actions == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), a.shutdownWait)
		defer cancel()
		_ = a.Actions.Shutdown(ctx)
	}()
	a.bg.Wait() // running commands finish (bounded by the bot's shutdown grace) before the pools close
	<-actionsDone
	for i := len(a.close) - 1; i >= 0; i-- {
		a.close[i]()
	}
}

func ignoreClosed(err error) error {
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func ignoreCanceled(err error) error {
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// OpenIncidents connects to the state database, applies the incident migrations and returns the
// incident store, for terminal commands that need no bot (perfbot postmortem); close releases it.
func OpenIncidents(ctx context.Context, cfg *config.Config) (store *incidents.Store, close func(), err error) {
	pool, err := openState(ctx, cfg.State.PostgresDSN)
	if err != nil {
		return nil, nil, err
	}
	if err := incidents.Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, nil, fmt.Errorf("migrate incidents: %w", err)
	}
	opts, err := incidents.OptionsFrom(cfg)
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	return incidents.New(pool, opts), pool.Close, nil
}

// replicaName names this process among the replicas sharing a state database: host, process and a
// random part (a restarted process with the same PID is another replica).
func replicaName() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), uuid.NewString()[:8])
}
