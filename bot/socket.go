package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
)

// inbound is one Socket Mode envelope, already acked, waiting to be decoded and handled.
type inbound struct {
	id, typ string
	raw     []byte
	// journaled: the work is in the journal under id and is closed there when done.
	journaled bool
	// replay holds what an earlier attempt recorded, for work claimed from the journal.
	replay map[string]string
}

// pingTimeout is how long a connection may stay silent (Slack pings every few seconds) before it is
// taken for dead and replaced.
const pingTimeout = 30 * time.Second

// fatalConnect are the apps.connections.open errors that no retry can fix.
var fatalConnect = []string{"invalid_auth", "not_authed", "token_revoked", "account_inactive", "not_allowed_token_type"}

// errDisconnect ends a connection that Slack asked the app to replace.
var errDisconnect = errors.New("slack asked to reconnect")

// socket keeps a Socket Mode connection open and reads it. The goroutine that reads an envelope acks
// it at once, before anything but its ID and type is decoded and before it waits for anything else,
// so acks never queue behind the work the envelopes start; the envelope then goes to inbox.
type socket struct {
	b     *Bot
	inbox chan<- inbound

	mu      sync.Mutex
	conn    *websocket.Conn
	closing bool
	closeBy time.Time     // when closing: the latest time to wait for Slack's answer to the close
	done    chan struct{} // closed when run returns
	hellos  int           // hello messages read; the first is logged at info, the rest at debug
}

func newSocket(b *Bot, inbox chan<- inbound) *socket {
	return &socket{b: b, inbox: inbox, done: make(chan struct{})}
}

// run connects and reads until close is called or the tokens turn out to be bad; it reconnects when
// Slack asks to (a disconnect message) or the connection drops, backing off while connecting fails.
func (s *socket) run(ctx context.Context) error {
	defer close(s.done)
	backoff := 100 * time.Millisecond
	for {
		conn, err := s.dial(ctx)
		switch {
		case s.isClosing() || ctx.Err() != nil:
			if conn != nil {
				_ = conn.Close()
			}
			return nil
		case err != nil && slices.Contains(fatalConnect, err.Error()):
			return fmt.Errorf("apps.connections.open: %w", err)
		case err != nil:
			wait := backoff
			var rl *slack.RateLimitedError
			if errors.As(err, &rl) {
				wait = max(wait, rl.RetryAfter)
			}
			s.b.log.Warn("socket mode connect failed; retrying", "err", err, "in", wait)
			if sleep(ctx, wait) != nil {
				return nil
			}
			backoff = min(2*backoff, 5*time.Minute)
			continue
		}
		backoff = 100 * time.Millisecond
		err = s.read(conn)
		s.b.connected.Store(false)
		_ = conn.Close()
		if s.isClosing() || ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, errDisconnect) {
			s.b.log.Info("slack asked to reconnect")
		} else {
			s.b.log.Warn("socket mode connection lost; reconnecting", "err", err)
		}
	}
}

// dial opens a connection: apps.connections.open with the app token, then the WebSocket it names.
func (s *socket) dial(ctx context.Context) (*websocket.Conn, error) {
	_, url, err := s.b.api.StartSocketModeContext(ctx)
	if err != nil {
		return nil, err
	}
	d := websocket.Dialer{Proxy: http.ProxyFromEnvironment, HandshakeTimeout: 10 * time.Second}
	conn, resp, err := d.DialContext(ctx, url, http.Header{"Origin": {"https://api.slack.com"}})
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("dial socket mode: %w", err)
	}
	conn.SetReadLimit(32 << 20)
	conn.SetPingHandler(func(data string) error {
		_ = conn.SetReadDeadline(s.readDeadline())
		err := conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(5*time.Second))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return conn, errors.New("socket closing")
	}
	s.conn = conn
	return conn, nil
}

// read reads envelopes until the connection ends, acking each as soon as it is read.
func (s *socket) read(conn *websocket.Conn) error {
	_ = conn.SetReadDeadline(s.readDeadline())
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return err
		}
		_ = conn.SetReadDeadline(s.readDeadline())
		var head struct {
			EnvelopeID string `json:"envelope_id"`
			Type       string `json:"type"`
			Reason     string `json:"reason"`
		}
		if err := json.Unmarshal(data, &head); err != nil {
			s.b.log.Warn("unreadable socket mode message", "err", err, "bytes", len(data))
			continue
		}
		switch {
		case head.Type == "hello":
			s.b.connected.Store(true)
			s.hellos++
			level := slog.LevelInfo
			if s.hellos > 1 {
				level = slog.LevelDebug
			}
			s.b.log.Log(context.Background(), level, "connected to Slack over Socket Mode; /perf commands are answered", "workspace", s.b.teamURL)
			continue
		case head.Type == "disconnect":
			s.b.log.Debug("disconnect message", "reason", head.Reason)
			return errDisconnect
		case head.EnvelopeID == "":
			s.b.log.Debug("socket mode message without an envelope", "type", head.Type)
			continue
		case head.Type == "events_api" && s.b.isStopping():
			continue // not acked: Slack delivers it again, to a connection that stays
		}
		// Work is journaled before it is acked: once Slack hears the ack it will not send it again.
		in := inbound{id: head.EnvelopeID, typ: head.Type, raw: data}
		handOn := s.b.accept(&in)
		// After the close frame nothing more may be sent; the envelope is still handed on, so its
		// user hears that perfbot is restarting.
		if err := ack(conn, head.EnvelopeID); err != nil && !errors.Is(err, websocket.ErrCloseSent) {
			s.b.log.Warn("ack failed", "envelope", head.EnvelopeID, "err", err)
		}
		if handOn { // else a delivery of work journaled before: it is done, or leased to a replica
			s.inbox <- in
		}
	}
}

// ack writes an envelope's acknowledgement; only the reading goroutine writes messages.
func ack(conn *websocket.Conn, envelopeID string) error {
	id, err := json.Marshal(envelopeID)
	if err != nil {
		return err
	}
	_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return conn.WriteMessage(websocket.TextMessage, append(append([]byte(`{"envelope_id":`), id...), '}'))
}

// readDeadline is how long the reader waits for the next message or ping.
func (s *socket) readDeadline() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return s.closeBy
	}
	return time.Now().Add(pingTimeout)
}

func (s *socket) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// close stops taking envelopes: it tells Slack the connection is closing (so Slack sends new
// envelopes to the app's other connections), acks and hands on what was already on the way, and
// returns once the reader has stopped.
func (s *socket) close() {
	s.mu.Lock()
	s.closing, s.closeBy = true, time.Now().Add(2*time.Second)
	conn := s.conn
	s.mu.Unlock()
	s.b.connected.Store(false) // closing: Slack is told to send new envelopes elsewhere
	if conn != nil {
		msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "shutting down")
		if err := conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second)); err != nil {
			_ = conn.Close()
		}
		// Slack's answer to the close ends the reader; if none comes, the deadline does. (The net.Conn's
		// deadline may be set from any goroutine.)
		_ = conn.NetConn().SetReadDeadline(s.closeBy)
	}
	<-s.done
}
