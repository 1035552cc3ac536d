package slackserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// ErrNotAcked is returned when an envelope was not acknowledged in time.
var ErrNotAcked = errors.New("envelope not acknowledged")

// envelope is one Socket Mode envelope and its delivery state (guarded by hub.pmu).
type envelope struct {
	id, typ         string
	payload         json.RawMessage
	acceptsResponse bool
	retries         bool // events_api envelopes are redelivered when not acked
	attempt         int
	sentAt          time.Time
	acked           chan struct{}
	failed          chan struct{}
	ack             Ack
	ackSeen         bool
	onAck           func(*Ack)
}

func newEnvelope(typ string, payload json.RawMessage) *envelope {
	return &envelope{
		id:      uuid.NewString(),
		typ:     typ,
		payload: payload,
		retries: typ == "events_api",
		acked:   make(chan struct{}),
		failed:  make(chan struct{}),
	}
}

// wire renders the envelope as Slack sends it for the current attempt.
func (e *envelope) wire() []byte {
	m := map[string]any{
		"envelope_id":              e.id,
		"type":                     e.typ,
		"payload":                  e.payload,
		"accepts_response_payload": e.acceptsResponse,
	}
	if e.typ == "events_api" {
		m["retry_attempt"] = e.attempt
		m["retry_reason"] = ""
		if e.attempt > 0 {
			m["retry_reason"] = "timeout"
		}
	}
	b, _ := json.Marshal(m)
	return b
}

// register makes the envelope known so that its ack is matched.
func (h *hub) register(e *envelope) {
	h.pmu.Lock()
	h.pending[e.id] = e
	h.pmu.Unlock()
}

// deliver sends the envelope's current attempt to one socket, waiting for one if needed.
func (h *hub) deliver(ctx context.Context, e *envelope) error {
	for {
		sk, err := h.waitSocket(ctx)
		if err != nil {
			return fmt.Errorf("deliver %s envelope %s: %w", e.typ, e.id, err)
		}
		h.pmu.Lock()
		msg := e.wire()
		e.sentAt = time.Now()
		h.pmu.Unlock()
		if h.sendTo(sk, msg) {
			if e.retries {
				time.AfterFunc(h.s.opts.RedeliveryTimeout, func() { h.redeliver(e) })
			}
			return nil
		}
	}
}

// redeliver retries an unacked events_api envelope after its next delay, or gives up.
func (h *hub) redeliver(e *envelope) {
	h.pmu.Lock()
	if e.ackSeen {
		h.pmu.Unlock()
		return
	}
	delays := h.s.opts.RedeliveryDelays
	if e.attempt >= len(delays) {
		close(e.failed)
		h.pmu.Unlock()
		return
	}
	delay := delays[e.attempt]
	e.attempt++
	h.pmu.Unlock()
	time.AfterFunc(delay, func() {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			select {
			case <-h.s.closed:
				cancel()
			case <-ctx.Done():
			}
		}()
		if err := h.deliver(ctx, e); err != nil {
			h.s.log.Debug("redeliver envelope", "err", err)
		}
	})
}

// handleAck matches an ack from a socket to its envelope.
func (h *hub) handleAck(data []byte) {
	var in struct {
		EnvelopeID string          `json:"envelope_id"`
		Payload    json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(data, &in); err != nil || in.EnvelopeID == "" {
		h.s.log.Warn("unreadable socket message", "err", err, "bytes", len(data))
		return
	}
	h.pmu.Lock()
	e := h.pending[in.EnvelopeID]
	if e == nil || e.ackSeen {
		h.pmu.Unlock()
		h.s.log.Debug("ack for unknown or already acked envelope", "envelope_id", in.EnvelopeID)
		return
	}
	e.ackSeen = true
	e.ack = Ack{
		EnvelopeID: e.id, Type: e.typ, Payload: in.Payload, Attempt: e.attempt,
		Latency: time.Since(e.sentAt), At: h.s.clock.Now(),
	}
	ack, onAck := e.ack, e.onAck
	h.pmu.Unlock()
	if onAck != nil {
		onAck(&ack)
	}
	h.s.mu.Lock()
	h.s.ws.acks = append(h.s.ws.acks, ack)
	h.s.mu.Unlock()
	h.pmu.Lock()
	e.ack = ack
	close(e.acked)
	h.pmu.Unlock()
	h.s.notify()
}

// WaitAck waits for the ack of an envelope the server sent (on any attempt).
func (s *Server) WaitAck(ctx context.Context, envelopeID string) (Ack, error) {
	s.hub.pmu.Lock()
	e := s.hub.pending[envelopeID]
	s.hub.pmu.Unlock()
	if e == nil {
		return Ack{}, fmt.Errorf("wait for ack of %s: unknown envelope", envelopeID)
	}
	select {
	case <-e.acked:
		s.hub.pmu.Lock()
		defer s.hub.pmu.Unlock()
		return e.ack, nil
	case <-e.failed:
		return Ack{}, fmt.Errorf("envelope %s after %d retries: %w", envelopeID, e.attempt, ErrNotAcked)
	case <-ctx.Done():
		return Ack{}, fmt.Errorf("envelope %s: %w (%w)", envelopeID, ErrNotAcked, context.Cause(ctx))
	}
}

// sendAndWait delivers e and waits for its ack within Options.AckTimeout.
func (s *Server) sendAndWait(ctx context.Context, e *envelope) error {
	ctx, cancel := context.WithTimeoutCause(ctx, s.opts.AckTimeout,
		fmt.Errorf("no ack within %s", s.opts.AckTimeout))
	defer cancel()
	s.hub.register(e)
	if err := s.hub.deliver(ctx, e); err != nil {
		return err
	}
	_, err := s.WaitAck(ctx, e.id)
	return err
}

// SendRaw sends one Socket Mode message verbatim to one socket (for fixtures and
// hostile input); a message with an envelope_id can then be awaited with WaitAck.
func (s *Server) SendRaw(ctx context.Context, msg json.RawMessage) error {
	var head struct {
		EnvelopeID string `json:"envelope_id"`
		Type       string `json:"type"`
	}
	if err := json.Unmarshal(msg, &head); err != nil {
		return fmt.Errorf("send raw socket message: %w", err)
	}
	if head.EnvelopeID != "" {
		e := newEnvelope(head.Type, nil)
		e.id, e.retries = head.EnvelopeID, false
		e.sentAt = time.Now()
		s.hub.register(e)
	}
	sk, err := s.hub.waitSocket(ctx)
	if err != nil {
		return fmt.Errorf("send raw socket message: %w", err)
	}
	if head.Type == "disconnect" {
		sk.draining.Store(true) // the app will drop this socket; send nothing more to it
		time.AfterFunc(s.opts.DisconnectGrace, func() { s.hub.closeSocket(sk, true) })
	}
	if !s.hub.sendTo(sk, msg) {
		return errors.New("send raw socket message: socket closed")
	}
	return nil
}
