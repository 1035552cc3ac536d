// Package bot is perfbot's Slack front end: Socket Mode in, Block Kit and files out.
// It is the only package that speaks Slack.
package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"

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
	// Workers is how many commands run at once (default 8); QueueSize how many more may wait
	// for a worker (default 4 per worker) before users are told that perfbot is busy.
	Workers   int
	QueueSize int
	Log       *slog.Logger
	// UpdateEvery is the least time between two chat.update calls on one message (Slack: tier 3).
	UpdateEvery time.Duration
	// Hooks receive what the bot sees and does, e.g. for an incident timeline. May be nil.
	Hooks Hooks
	// TrimAfter is how long the bot waits, idle after a burst of work, before it returns the memory
	// the burst used to the operating system (default 10 s).
	TrimAfter time.Duration
	// Journal keeps acked work until it is done, for another replica to finish if this one dies.
	// May be nil.
	Journal Journal
}

// Hooks is told about commands run and events seen, so incidents can keep their timeline.
type Hooks interface {
	CommandDone(ctx context.Context, d handlers.CommandRecord)
	EventSeen(ctx context.Context, e handlers.EventRecord)
}

// Bot is a running Socket Mode connection with its worker pool.
type Bot struct {
	api      *slack.Client
	apiHost  string
	cmds     Commander
	log      *slog.Logger
	jobs     chan job
	opts     Options
	botID    string
	teamURL  string
	teamID   string
	wg       sync.WaitGroup
	seen     seenSet
	actions  map[string]ActionHandler
	render   chan struct{} // one slot per chart being rendered
	messages messageLocks
	act      activity

	stopMu   sync.RWMutex // held for writing only to set stopping
	stopping bool

	// connected is true from Slack's hello on a Socket Mode connection until that connection ends.
	connected atomic.Bool

	dropMu      sync.Mutex
	dropsWaited bool           // shutdown waits for drops no more; later ones go untracked
	drops       sync.WaitGroup // drops being told to their users
	dropSlot    chan struct{}
}

// job is queued work: run does it; drop tells whoever asked for it that it will not run.
type job struct {
	run  func(ctx context.Context)
	drop func(ctx context.Context)
	what string // for the log, e.g. "/perf assess by U123 in C456"
	// entry is the job's journal entry ("" when not journaled): done when run returns, released
	// for another replica when the job is dropped.
	entry string
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
	if o.QueueSize <= 0 {
		o.QueueSize = 4 * o.Workers
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.TrimAfter <= 0 {
		o.TrimAfter = defaultTrimAfter
	}
	if o.UpdateEvery <= 0 {
		o.UpdateEvery = time.Second
	}
	apiURL := slack.APIURL
	if o.APIURL != "" {
		apiURL = strings.TrimSuffix(o.APIURL, "/") + "/"
	}
	apiOpts := []slack.Option{slack.OptionAppLevelToken(o.AppToken), slack.OptionAPIURL(apiURL),
		slack.OptionHTTPClient(&http.Client{Transport: newThrottle(o.Log)})}
	host := ""
	if u, err := url.Parse(apiURL); err == nil {
		host = u.Host
	}
	return &Bot{
		api: slack.New(o.BotToken, apiOpts...), apiHost: host, cmds: o.Commands, log: o.Log, opts: o,
		jobs:   make(chan job, o.QueueSize),
		render: make(chan struct{}, renderSlots()), dropSlot: make(chan struct{}, 8),
	}, nil
}

// renderSlots is how many charts render at once: fewer than the cores, so that reading and acking
// envelopes always finds one free.
func renderSlots() int { return max(1, runtime.GOMAXPROCS(0)-1) }

// Connected reports whether a Socket Mode connection is open: Slack said hello on it and it has
// not ended since. While it is false Slack cannot deliver commands to this replica.
func (b *Bot) Connected() bool { return b.connected.Load() }

// API is the Web API client, for the packages that post on the bot's behalf.
func (b *Bot) API() *slack.Client { return b.api }

// Run checks the bot token, connects over Socket Mode and serves until ctx ends. Then it stops taking
// envelopes, tells the users of commands that were acked but not started that perfbot is restarting,
// and lets running commands finish (at most shutdownGrace).
func (b *Bot) Run(ctx context.Context) error {
	auth, err := b.api.AuthTestContext(ctx)
	if err != nil {
		return fmt.Errorf("slack auth.test with SLACK_BOT_TOKEN: %w", err)
	}
	b.botID, b.teamURL, b.teamID = auth.UserID, auth.URL, auth.TeamID
	b.log.Info("slack connected", "team", auth.Team, "bot_user", auth.UserID)
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	for range b.opts.Workers {
		b.wg.Add(1)
		go b.worker(workCtx)
	}
	inbox := make(chan inbound, 1024)
	sock := newSocket(b, inbox)
	sockErr := make(chan error, 1)
	go func() { sockErr <- sock.run(ctx) }()
	if b.opts.Journal != nil {
		go b.recover(workCtx)
	}
	go b.trimWhenIdle(workCtx)
	dispatched := make(chan struct{})
	go func() {
		defer close(dispatched)
		for in := range inbox {
			b.dispatch(in)
		}
	}()
	select {
	case <-ctx.Done():
	case err = <-sockErr:
		if err != nil {
			err = fmt.Errorf("socket mode: %w", err)
		}
	}
	b.shutdown(sock, inbox, dispatched, stopWork)
	return err
}

// shutdown stops in this order: no new work is queued or started, the socket closes (Slack sends new
// envelopes to other connections), envelopes already read are handled as dropped, every queued job is
// dropped (its user told), and running jobs get shutdownGrace to finish.
func (b *Bot) shutdown(sock *socket, inbox chan inbound, dispatched chan struct{}, stopWork func()) {
	b.stopMu.Lock()
	b.stopping = true
	b.stopMu.Unlock()
	stopWork()
	sock.close()
	close(inbox)
	<-dispatched
	dropped := 0
	for {
		select {
		case j := <-b.jobs:
			b.drop(j)
			dropped++
			continue
		default:
		}
		break
	}
	if dropped > 0 {
		b.log.Warn("shutdown: queued work not run; its users were told to try again", "dropped", dropped)
	}
	b.dropMu.Lock()
	b.dropsWaited = true
	b.dropMu.Unlock()
	b.waitFor(&b.drops, "telling users about dropped work")
	b.waitFor(&b.wg, "running commands")
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
		case j := <-b.jobs:
			if ctx.Err() != nil {
				b.drop(j)
				return
			}
			b.runJob(jobCtx, j.run)
			b.finish(j.entry, true)
		}
	}
}

func (b *Bot) runJob(ctx context.Context, run func(context.Context)) {
	b.act.start()
	defer b.act.end()
	defer func() {
		if v := recover(); v != nil {
			b.log.Error("job panicked", "panic", v, "stack", string(debug.Stack()))
		}
	}()
	run(ctx)
}

// waitFor waits for a group, at most shutdownGrace.
func (b *Bot) waitFor(wg *sync.WaitGroup, what string) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(shutdownGrace):
		b.log.Warn("shutdown: still "+what+" after the grace period", "grace", shutdownGrace)
	}
}

// shutdownGrace is how long a stopping bot lets running commands finish.
const shutdownGrace = 20 * time.Second

// isStopping reports whether the bot has begun to shut down.
func (b *Bot) isStopping() bool {
	b.stopMu.RLock()
	defer b.stopMu.RUnlock()
	return b.stopping
}

// submit queues a job after its envelope was acked; a full queue is told to the caller (false) rather
// than blocking acks. Once the bot is stopping, the job is dropped at once (its user told).
func (b *Bot) submit(j job) bool {
	b.stopMu.RLock()
	defer b.stopMu.RUnlock()
	if b.stopping {
		b.drop(j)
		return true
	}
	select {
	case b.jobs <- j:
		return true
	default:
		return false
	}
}

// drop logs a job that will not run and tells its user, in the background (a few at a time).
func (b *Bot) drop(j job) {
	if j.entry != "" {
		b.log.Info("not run here: perfbot is stopping; left in the journal for the next replica", "work", j.what)
		b.finish(j.entry, false)
		return
	}
	b.log.Warn("not run: perfbot is stopping", "work", j.what)
	if j.drop == nil {
		return
	}
	b.dropMu.Lock()
	tracked := !b.dropsWaited
	if tracked {
		b.drops.Add(1)
	}
	b.dropMu.Unlock()
	go func() {
		if tracked {
			defer b.drops.Done()
		}
		b.dropSlot <- struct{}{}
		defer func() { <-b.dropSlot }()
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		j.drop(ctx)
	}()
}
