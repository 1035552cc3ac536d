package slackserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// hub holds the app's Socket Mode connections and the envelopes waiting for acks.
type hub struct {
	s        *Server
	upgrader websocket.Upgrader

	mu      sync.Mutex // guards the fields below
	sockets []*socket
	next    int
	seq     int
	tickets map[string]time.Time
	changed chan struct{}

	pmu     sync.Mutex // guards pending and every envelope's mutable fields
	pending map[string]*envelope
}

// socket is one WebSocket connection; only its writer goroutine writes to conn.
type socket struct {
	id        int
	conn      *websocket.Conn
	out       chan []byte
	done      chan struct{}
	closeOnce sync.Once
	draining  atomic.Bool
}

func newHub(s *Server) *hub {
	return &hub{
		s:        s,
		upgrader: websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }},
		tickets:  map[string]time.Time{},
		changed:  make(chan struct{}),
		pending:  map[string]*envelope{},
	}
}

// newTicket issues a one-time ticket for the WebSocket URL, valid for 30 s.
func (h *hub) newTicket() string {
	t := randomHex(32)
	h.mu.Lock()
	h.tickets[t] = time.Now().Add(30 * time.Second)
	h.mu.Unlock()
	return t
}

func (h *hub) takeTicket(t string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	exp, ok := h.tickets[t]
	delete(h.tickets, t)
	return ok && time.Now().Before(exp)
}

// handleLink upgrades a ticketed request to a Socket Mode connection.
func (h *hub) handleLink(w http.ResponseWriter, r *http.Request) {
	if !h.takeTicket(r.URL.Query().Get("ticket")) {
		http.Error(w, "invalid or expired ticket", http.StatusUnauthorized)
		return
	}
	conn, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		h.s.log.Warn("upgrade socket mode connection", "err", err)
		return
	}
	sk := &socket{conn: conn, out: make(chan []byte, 256), done: make(chan struct{})}
	h.mu.Lock()
	full := len(h.sockets) >= h.s.opts.MaxSockets
	if !full {
		h.seq++
		sk.id = h.seq
		h.sockets = append(h.sockets, sk)
	}
	n := len(h.sockets)
	h.mu.Unlock()
	go h.writeLoop(sk)
	if full {
		sk.draining.Store(true)
		h.sendTo(sk, h.controlMessage("disconnect", "too_many_websockets", n))
		time.AfterFunc(100*time.Millisecond, func() { h.closeSocket(sk, true) })
		return
	}
	go h.readLoop(sk)
	h.sendTo(sk, h.controlMessage("hello", "", n))
	h.s.log.Debug("socket connected", "socket", sk.id, "num_connections", n)
	h.signal()
}

// controlMessage builds a hello or disconnect message shaped like Slack's.
func (h *hub) controlMessage(typ, reason string, n int) []byte {
	m := map[string]any{
		"type":            typ,
		"num_connections": n,
		"debug_info":      map[string]any{"host": "applink-local", "build_number": 1, "approximate_connection_time": 18060},
		"connection_info": map[string]any{"app_id": h.s.opts.AppID},
	}
	if reason != "" {
		m["reason"] = reason
	}
	b, _ := json.Marshal(m)
	return b
}

func (h *hub) writeLoop(sk *socket) {
	ticker := time.NewTicker(h.s.opts.PingInterval)
	defer ticker.Stop()
	pings := 0
	for {
		select {
		case msg := <-sk.out:
			_ = sk.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := sk.conn.WriteMessage(websocket.TextMessage, msg); err != nil {
				h.closeSocket(sk, false)
				return
			}
		case <-ticker.C:
			pings++
			if err := sk.conn.WriteControl(websocket.PingMessage, fmt.Appendf(nil, "ping-%d", pings), time.Now().Add(5*time.Second)); err != nil {
				h.closeSocket(sk, false)
				return
			}
		case <-sk.done:
			return
		}
	}
}

func (h *hub) readLoop(sk *socket) {
	defer h.closeSocket(sk, false)
	for {
		_, data, err := sk.conn.ReadMessage()
		if err != nil {
			return
		}
		h.handleAck(data)
	}
}

// sendTo queues msg on sk; it reports false when the socket is gone.
func (h *hub) sendTo(sk *socket, msg []byte) bool {
	select {
	case <-sk.done:
		return false
	default:
	}
	select {
	case sk.out <- msg:
		return true
	case <-sk.done:
		return false
	}
}

// closeSocket removes sk; graceful sends a close frame first.
func (h *hub) closeSocket(sk *socket, graceful bool) {
	sk.closeOnce.Do(func() {
		if graceful {
			msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
			_ = sk.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		}
		close(sk.done)
		_ = sk.conn.Close()
		h.mu.Lock()
		for i, x := range h.sockets {
			if x == sk {
				h.sockets = append(h.sockets[:i], h.sockets[i+1:]...)
				break
			}
		}
		h.mu.Unlock()
		h.s.log.Debug("socket closed", "socket", sk.id)
		h.signal()
	})
}

// signal wakes goroutines waiting for a socket.
func (h *hub) signal() {
	h.mu.Lock()
	close(h.changed)
	h.changed = make(chan struct{})
	h.mu.Unlock()
	h.s.notify()
}

// pick returns the next open, non-draining socket round-robin, or nil.
func (h *hub) pick() (*socket, <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for range h.sockets {
		h.next = (h.next + 1) % len(h.sockets)
		if sk := h.sockets[h.next]; !sk.draining.Load() {
			return sk, h.changed
		}
	}
	return nil, h.changed
}

// waitSocket waits until a socket can take an envelope.
func (h *hub) waitSocket(ctx context.Context) (*socket, error) {
	for {
		sk, changed := h.pick()
		if sk != nil {
			return sk, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, fmt.Errorf("no socket mode connection: %w", context.Cause(ctx))
		case <-h.s.closed:
			return nil, errors.New("no socket mode connection: server closed")
		}
	}
}

// disconnect asks every socket to reconnect and closes it after the grace period.
func (h *hub) disconnect(reason string) {
	h.mu.Lock()
	socks := append([]*socket(nil), h.sockets...)
	n := len(socks)
	h.mu.Unlock()
	for _, sk := range socks {
		sk.draining.Store(true)
		h.sendTo(sk, h.controlMessage("disconnect", reason, n))
		time.AfterFunc(h.s.opts.DisconnectGrace, func() { h.closeSocket(sk, true) })
	}
	h.signal()
}

func (h *hub) closeAll() {
	h.mu.Lock()
	socks := append([]*socket(nil), h.sockets...)
	h.mu.Unlock()
	for _, sk := range socks {
		h.closeSocket(sk, true)
	}
}

// count returns how many sockets are open and not draining.
func (h *hub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, sk := range h.sockets {
		if !sk.draining.Load() {
			n++
		}
	}
	return n
}

// Sockets returns how many Socket Mode connections are open and taking envelopes.
func (s *Server) Sockets() int { return s.hub.count() }

// Disconnect sends a disconnect message with reason (warning, refresh_requested,
// link_disabled, ...) to every socket and closes them after Options.DisconnectGrace.
func (s *Server) Disconnect(reason string) { s.hub.disconnect(reason) }

// DropConnection closes one open socket at once, with no disconnect message and no close frame, as a
// network failure would. Envelopes sent on it and not acked are delivered again like any unacked
// envelope. It reports false when no socket is open.
func (s *Server) DropConnection() bool {
	sk, _ := s.hub.pick()
	if sk == nil {
		return false
	}
	s.hub.closeSocket(sk, false)
	return true
}
