// Package bot is perfbot's Slack front end: Socket Mode in, Block Kit and files out.
// It is the only package that speaks Slack.
package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/perfbot/perfbot/handlers"
)

// Commander runs one /perf command.
type Commander interface {
	Handle(ctx context.Context, req handlers.Request) (handlers.Report, error)
}

// Options configure a Bot.
type Options struct {
	AppToken string // xapp-…, for Socket Mode
	BotToken string // xoxb-…, for the Web API
	// APIURL points at another Slack API (the local Slack server); empty means Slack itself.
	APIURL   string
	Commands Commander
	Workers  int
	Log      *slog.Logger
	// UpdateEvery is the least time between two chat.update calls on one message (Slack: tier 3).
	UpdateEvery time.Duration
	// Hooks receive what the bot sees and does, e.g. for an incident timeline. May be nil.
	Hooks Hooks
}

// Hooks is told about commands run and events seen, so incidents can keep their timeline.
type Hooks interface {
	CommandDone(ctx context.Context, d handlers.CommandRecord)
	EventSeen(ctx context.Context, e handlers.EventRecord)
}

// Bot is a running Socket Mode connection with its worker pool.
type Bot struct {
	api     *slack.Client
	sm      *socketmode.Client
	cmds    Commander
	log     *slog.Logger
	jobs    chan func(context.Context)
	opts    Options
	botID   string
	teamURL string
	wg      sync.WaitGroup
	seen    seenSet
	actions map[string]ActionHandler
}

// CheckTokens says clearly what is wrong with the tokens, before anything connects.
func CheckTokens(app, bot string) error {
	var errs []error
	if !strings.HasPrefix(app, "xapp-") {
		errs = append(errs, errors.New("SLACK_APP_TOKEN must be an app-level token (xapp-…) with connections:write"))
	}
	if !strings.HasPrefix(bot, "xoxb-") {
		errs = append(errs, errors.New("SLACK_BOT_TOKEN must be a bot token (xoxb-…)"))
	}
	return errors.Join(errs...)
}

// New builds a Bot; nothing connects until Run.
func New(o Options) (*Bot, error) {
	if err := CheckTokens(o.AppToken, o.BotToken); err != nil {
		return nil, err
	}
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.UpdateEvery <= 0 {
		o.UpdateEvery = time.Second
	}
	apiOpts := []slack.Option{slack.OptionAppLevelToken(o.AppToken), slack.OptionHTTPClient(&http.Client{Timeout: 2 * slackCallTimeout})}
	if o.APIURL != "" {
		apiOpts = append(apiOpts, slack.OptionAPIURL(strings.TrimSuffix(o.APIURL, "/")+"/"))
	}
	api := slack.New(o.BotToken, apiOpts...)
	return &Bot{
		api: api, sm: socketmode.New(api, socketmode.OptionPingInterval(30*time.Second)),
		cmds: o.Commands, log: o.Log, opts: o, jobs: make(chan func(context.Context), o.Workers*4),
	}, nil
}

// API is the Web API client, for the packages that post on the bot's behalf.
func (b *Bot) API() *slack.Client { return b.api }

// Run checks the bot token, connects over Socket Mode and serves until ctx ends.
func (b *Bot) Run(ctx context.Context) error {
	auth, err := b.api.AuthTestContext(ctx)
	if err != nil {
		return fmt.Errorf("slack auth.test with SLACK_BOT_TOKEN: %w", err)
	}
	b.botID, b.teamURL = auth.UserID, auth.URL
	b.log.Info("slack connected", "team", auth.Team, "bot_user", auth.UserID)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range b.opts.Workers {
		b.wg.Add(1)
		go b.worker(ctx)
	}
	runErr := make(chan error, 1)
	go func() { runErr <- b.sm.RunContext(ctx) }()
	for {
		select {
		case <-ctx.Done():
			b.waitWorkers()
			return nil
		case err := <-runErr:
			cancel()
			b.waitWorkers()
			if ctx.Err() != nil || errors.Is(err, context.Canceled) {
				return nil
			}
			return fmt.Errorf("socket mode: %w", err)
		case evt, ok := <-b.sm.Events:
			if !ok {
				continue
			}
			b.dispatch(ctx, evt)
		}
	}
}

// worker runs queued jobs; the pool bounds how much work runs at once. A job started before shutdown
// finishes (its context is not cancelled with the bot's), and a job that panics is logged, not fatal.
func (b *Bot) worker(ctx context.Context) {
	defer b.wg.Done()
	jobCtx := context.WithoutCancel(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case job := <-b.jobs:
			b.runJob(jobCtx, job)
		}
	}
}

func (b *Bot) runJob(ctx context.Context, job func(context.Context)) {
	defer func() {
		if v := recover(); v != nil {
			b.log.Error("job panicked", "panic", v, "stack", string(debug.Stack()))
		}
	}()
	job(ctx)
}

// waitWorkers waits for running jobs to finish, at most shutdownGrace.
func (b *Bot) waitWorkers() {
	done := make(chan struct{})
	go func() { b.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(shutdownGrace):
		b.log.Warn("shutdown: jobs still running after the grace period", "grace", shutdownGrace)
	}
}

// shutdownGrace is how long a stopping bot lets running commands finish.
const shutdownGrace = 20 * time.Second

// submit queues work after the envelope was acked; a full queue is told to the user rather than blocking acks.
func (b *Bot) submit(ctx context.Context, job func(context.Context)) bool {
	select {
	case b.jobs <- job:
		return true
	case <-ctx.Done():
		return false
	default:
		return false
	}
}
