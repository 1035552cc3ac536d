// Package slackserver is a local Slack server: it speaks Slack's Socket Mode and Web API
// wire protocol to the real slack-go client, checks every call the way Slack does, and
// records what a user would see so tests, benchmarks and the demo can read it.
//
// A test starts one, points slack-go at it and drives it like a user:
//
//	srv := slackserver.NewTestServer(t)
//	srv.AddUser("U0ALICE001", "alice")
//	ch := srv.AddChannel("perf") // the bot is a member
//	api := slack.New(srv.BotToken(), slack.OptionAPIURL(srv.APIURL()),
//		slack.OptionAppLevelToken(srv.AppToken()))
//	go socketmode.New(api).RunContext(ctx) // the bot under test
//	srv.SlashCommand(ctx, "U0ALICE001", ch, "/perf", "assess") // waits for the ack
//	srv.WaitFor(ctx, func() bool { return len(srv.Messages(ch)) > 0 })
//
// What Slack checks and this server checks too: token kinds (xoxb- for the Web API,
// xapp- for apps.connections.open), required arguments and error codes from Slack's
// method references (methods_gen.go), Block Kit limits (ValidateBlocks), channel
// membership (a user who types or clicks in a public channel joins it; a private channel
// or DM needs AddMember first), and rate limits (HTTP 429 with Retry-After; every method by its
// documented tier with RateLimits.Tiers). Known simplifications: the
// bot must be a member to post in public channels (no chat:write.public), canvases
// have no sections, and a thread_ts that names no message is refused.
package slackserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// Clock tells the server the current time; tests inject a fixed or stepped clock.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// RateLimits configures the Web API rate limits; the zero value means Slack's defaults.
type RateLimits struct {
	// Disabled turns every rate limit off.
	Disabled bool
	// PostMessagePerSecond is the sustained chat.postMessage rate per channel (default 1).
	PostMessagePerSecond float64
	// PostMessageBurst is how many chat.postMessage calls a channel may burst (default 4).
	PostMessageBurst int
	// Tiers limits every Web API method by the tier Slack's reference gives it (tier 1:
	// 1 call a minute, tier 2: 20, tier 3: 50, tier 4: 100, workspace-wide, a minute's
	// worth at once), on top of chat.postMessage's per-channel limit. Without it only
	// chat.update, conversations.create, the canvas creations and the two file upload
	// steps are limited.
	Tiers bool
	// PerMinute overrides the per-method (workspace-wide) limit in calls per minute;
	// a method not listed keeps its Slack tier default, a value <= 0 removes its limit.
	PerMinute map[string]int
	// Burst caps how many calls of one method may go at once before its per-minute rate
	// applies (default: a whole minute's worth, as Slack tolerates); tests make it small
	// to meet the limits with a few calls.
	Burst int
}

// Options configures a Server; the zero value gives Slack's behaviour on a random port.
type Options struct {
	// Addr is the listen address (default 127.0.0.1:0).
	Addr string
	// BotToken and AppToken are the accepted tokens (default: random xoxb-/xapp- tokens).
	BotToken, AppToken string
	// TeamID, TeamName, BotUserID, BotName, AppID name the workspace and the app.
	TeamID, TeamName, BotUserID, BotName, AppID string
	// PingInterval is how often each socket is pinged (default 10 s).
	PingInterval time.Duration
	// AckTimeout is how long slash commands and interactions wait for an ack (default 3 s).
	AckTimeout time.Duration
	// RedeliveryTimeout is how long an events_api envelope may stay unacked (default 3 s).
	RedeliveryTimeout time.Duration
	// RedeliveryDelays are the waits before each retry after a timeout
	// (default 0, 1 min, 5 min, like Slack); their count is the number of retries.
	RedeliveryDelays []time.Duration
	// DisconnectGrace is how long a socket stays open after a disconnect message (default 2 s).
	DisconnectGrace time.Duration
	// MaxSockets is how many sockets the app may hold at once (default 10).
	MaxSockets int
	// RateLimits configures Web API rate limiting.
	RateLimits RateLimits
	// FreePlan makes the workspace a free one (no user groups, channel canvases only).
	FreePlan bool
	// Clock is the time source for timestamps and rate limits (default: system clock).
	Clock Clock
	// Logger receives the server's log (default: discarded).
	Logger *slog.Logger
}

// Server is a running local Slack workspace with one installed app.
type Server struct {
	opts    Options
	log     *slog.Logger
	clock   Clock
	mux     *http.ServeMux
	httpSrv *http.Server
	ln      net.Listener
	closed  chan struct{}
	once    sync.Once

	hub     *hub
	limiter *limiter

	mu       sync.Mutex // guards ws and everything below
	ws       *workspace
	calls    map[string]int
	refusals map[string]int // "method code" → how many calls were answered with that error

	notifyMu sync.Mutex
	changed  chan struct{}
	faults   FaultPanel // the web view's fault panel; nil for none
}

// New builds a Server from opts; call Start to serve it, or use Handler directly.
func New(opts Options) *Server {
	opts = withDefaults(opts)
	s := &Server{
		opts:     opts,
		log:      opts.Logger,
		clock:    opts.Clock,
		closed:   make(chan struct{}),
		calls:    map[string]int{},
		refusals: map[string]int{},
		changed:  make(chan struct{}),
	}
	s.ws = newWorkspace(opts)
	s.hub = newHub(s)
	s.limiter = newLimiter(opts.RateLimits)
	s.mux = http.NewServeMux()
	s.routes()
	return s
}

func withDefaults(o Options) Options {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.BotToken == "" {
		o.BotToken = "xoxb-" + randomDigits(10) + "-" + randomDigits(13) + "-" + randomHex(12)
	}
	if o.AppToken == "" {
		o.AppToken = "xapp-1-A0LOCAL0001-" + randomDigits(13) + "-" + randomHex(32)
	}
	setDefault(&o.TeamID, "T0LOCAL0001")
	setDefault(&o.TeamName, "perfbot-local")
	setDefault(&o.BotUserID, "U0BOT00001")
	setDefault(&o.BotName, "perfbot")
	setDefault(&o.AppID, "A0LOCAL0001")
	setDuration(&o.PingInterval, 10*time.Second)
	setDuration(&o.AckTimeout, 3*time.Second)
	setDuration(&o.RedeliveryTimeout, 3*time.Second)
	setDuration(&o.DisconnectGrace, 2*time.Second)
	if o.RedeliveryDelays == nil {
		o.RedeliveryDelays = []time.Duration{0, time.Minute, 5 * time.Minute}
	}
	if o.MaxSockets <= 0 {
		o.MaxSockets = 10
	}
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return o
}

func setDefault(p *string, v string) {
	if *p == "" {
		*p = v
	}
}

func setDuration(p *time.Duration, v time.Duration) {
	if *p <= 0 {
		*p = v
	}
}

// NewTestServer starts a Server for a test with fast timings and stops it when the test ends.
func NewTestServer(t testing.TB, opts ...Options) *Server {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	setDuration(&o.PingInterval, time.Second)
	setDuration(&o.DisconnectGrace, 200*time.Millisecond)
	s := New(o)
	if err := s.Start(); err != nil {
		t.Fatalf("start local slack server: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start listens on Options.Addr and serves in the background.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.opts.Addr, err)
	}
	s.ln = ln
	s.httpSrv = &http.Server{Handler: s.mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serve local slack", "err", err)
		}
	}()
	s.log.Info("local slack server listening", "api_url", s.APIURL())
	return nil
}

// Close stops the server, its sockets and its timers.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.closed)
		s.hub.closeAll()
		if s.httpSrv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = s.httpSrv.Shutdown(ctx)
		}
	})
}

// Handler returns the server's HTTP handler (Web API, upload URLs, WebSocket, response URLs).
func (s *Server) Handler() http.Handler { return s.mux }

// Addr returns the address the server listens on, or "" before Start.
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// APIURL returns the Web API base URL with its trailing slash, for slack.OptionAPIURL.
func (s *Server) APIURL() string { return "http://" + s.Addr() + "/api/" }

// BotToken returns the bot token (xoxb-) the Web API accepts.
func (s *Server) BotToken() string { return s.opts.BotToken }

// AppToken returns the app-level token (xapp-) apps.connections.open accepts.
func (s *Server) AppToken() string { return s.opts.AppToken }

// BotUserID returns the bot's user ID.
func (s *Server) BotUserID() string { return s.opts.BotUserID }

// TeamID returns the workspace ID.
func (s *Server) TeamID() string { return s.opts.TeamID }

// notify wakes everyone waiting in WaitFor.
func (s *Server) notify() {
	s.notifyMu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.notifyMu.Unlock()
}

func (s *Server) changes() <-chan struct{} {
	s.notifyMu.Lock()
	defer s.notifyMu.Unlock()
	return s.changed
}

// WaitFor blocks until cond returns true (re-checked after every change the server
// records) or ctx ends; cond may call the server's read methods.
func (s *Server) WaitFor(ctx context.Context, cond func() bool) error {
	for {
		ch := s.changes()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("wait for condition: %w", context.Cause(ctx))
		case <-s.closed:
			return errors.New("wait for condition: server closed")
		}
	}
}

func randomHex(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

func randomDigits(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b)
}
