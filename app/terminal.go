package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/perfbot/perfbot/actions"
	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/handlers"
	"github.com/perfbot/perfbot/incidents"
	"github.com/perfbot/perfbot/internal/textfmt"
)

// TerminalUser is who runs perfbot exec or console: the Slack user terminal.users maps the
// operating-system user to, or the OS user's name when it is not mapped (and may then only read).
func TerminalUser(cfg *config.Config, osUser string) string {
	if id, ok := cfg.Terminal.Users[osUser]; ok {
		return id
	}
	if osUser == "" {
		return "console"
	}
	return osUser
}

// stateCommands are the commands that change or read perfbot's shared state as a person: from
// the terminal they need a user mapped in terminal.users.
var stateCommands = map[string]bool{"incident": true, "postmortem": true, "actions": true, "approve": true, "deny": true,
	"scale": true, "limits": true, "analyze": true, "index": true, "cancel": true}

// Commands builds the command handlers for the terminal (exec, console): the probe commands, and
// the incident and action commands over the same state database as perfbot run, without Slack.
// What is done there is marked as from the terminal, so the incident channel catches up on it when
// the bot next runs. close releases the clients.
func Commands(ctx context.Context, cfg *config.Config, log *slog.Logger) (h *handlers.Handlers, close func()) {
	b := NewBackends(cfg, nil)
	h = handlers.New(cfg, b, log)
	closers := []func(){b.Close}
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	pool, err := openState(ctx, cfg.State.PostgresDSN)
	if err == nil {
		closers = append(closers, pool.Close)
		err = errors.Join(incidents.Migrate(ctx, pool), actions.Migrate(ctx, pool))
	}
	var iopts incidents.Options
	if err == nil {
		iopts, err = incidents.OptionsFrom(cfg)
	}
	if err != nil {
		h.Add(unavailable(err)...)
		return h, closeAll
	}
	iopts.Log, iopts.Via = log, incidents.ViaTerminal
	store := incidents.New(pool, iopts)
	h.Add(handlers.NewIncidents(store, nil, cfg, log, time.Now).Commands()...)
	env, err := b.Env("", 0)
	if err != nil {
		h.Add(unavailable(err)...)
		return h, closeAll
	}
	opts := actions.Options{Config: cfg, State: pool, Kube: env.Kube, DB: env.Postgres, Log: log,
		Recorder: ActionRecorder{Store: store}, Incidents: terminalIncident{store: store}}
	svc, err := actions.New(opts)
	if err != nil {
		h.Add(unavailable(err)...)
		return h, closeAll
	}
	act := handlers.NewActions(svc, cfg.Actions.Approvers, cfg.Actions.ApproverGroup)
	h.Add(act.Commands()...)
	h.Add(act.DecisionCommands()...)
	return h, closeAll
}

// unavailable stands in for the state commands when the state database cannot be reached: each
// says so, instead of "unknown command".
func unavailable(cause error) []handlers.Command {
	var out []handlers.Command
	names := make([]string, 0, len(stateCommands))
	for name := range stateCommands {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		out = append(out, handlers.Command{Name: name, Usage: name, Summary: "needs the state database",
			Run: func(context.Context, handlers.Request, []string) (handlers.Report, error) {
				return handlers.Report{}, errs.Unavailablef("the state database is unreachable (%s); incidents and changes need it", textfmt.Truncate(cause.Error(), 200))
			}})
	}
	return out
}

// terminalIncident maps a terminal request to its incident: the one named (perfbot exec -incident
// N), else the only open incident, else none.
type terminalIncident struct{ store *incidents.Store }

// IncidentFor returns the incident id a terminal request belongs to, or "".
func (t terminalIncident) IncidentFor(ctx context.Context, channel string) (string, error) {
	if channel != "" && channel != handlers.TerminalChannel {
		inc, err := t.store.Lookup(ctx, channel)
		if err != nil {
			return "", err
		}
		return inc.ID.String(), nil
	}
	open, err := t.store.ListOpen(ctx)
	if err != nil || len(open) != 1 {
		return "", err
	}
	return open[0].ID.String(), nil
}

// Terminal runs commands as a terminal user: Slack ID when mapped; the state commands are refused
// to users terminal.users does not map, since they act as a Slack user.
type Terminal struct {
	H    *handlers.Handlers
	Name string // the operating-system user
	cfg  *config.Config
}

// NewTerminal wraps h for the terminal user osUser.
func NewTerminal(cfg *config.Config, h *handlers.Handlers, osUser string) Terminal {
	return Terminal{H: h, Name: osUser, cfg: cfg}
}

// Handle runs req as the terminal user.
func (t Terminal) Handle(ctx context.Context, req handlers.Request) (handlers.Report, error) {
	req.User = TerminalUser(t.cfg, t.Name)
	if name := firstWord(req.Text); stateCommands[name] && !textfmt.IsUserID(req.User) {
		return handlers.Report{}, errs.Forbiddenf("terminal user %q is not in terminal.users, so it cannot act as a Slack user: "+
			"map it to your Slack user ID in the configuration (terminal.users: {%s: U…})", t.Name, t.Name)
	}
	return t.H.Handle(ctx, req)
}

func firstWord(s string) string {
	var w string
	_, _ = fmt.Sscan(s, &w)
	return w
}
