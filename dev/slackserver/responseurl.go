package slackserver

import (
	"encoding/json"
	"io"
	"net/http"
	"path"
	"slices"
	"time"
)

// response_url limits, as Slack documents them.
const (
	responseURLUses = 5
	responseURLTTL  = 30 * time.Minute
)

// responseTarget is where a response_url posts: the channel and user of the command or
// click, and for a click the message that carried the button.
type responseTarget struct {
	channelID, userID, messageTS string
	ephemeral                    bool
	uses                         int
	expires                      time.Time
}

// newResponseURL issues a response_url of the given kind (commands, actions); s.mu must be held.
func (s *Server) newResponseURL(kind string, t responseTarget) string {
	if s.ws.responses == nil {
		s.ws.responses = map[string]*responseTarget{}
	}
	id := randomHex(24)
	t.expires = s.clock.Now().Add(responseURLTTL)
	s.ws.responses[id] = &t
	return "http://" + s.Addr() + "/" + kind + "/" + s.opts.TeamID + "/" + randomDigits(12) + "/" + id
}

// responseMessage is the JSON body apps POST to a response_url.
type responseMessage struct {
	Text            string          `json:"text"`
	Blocks          json.RawMessage `json:"blocks"`
	ResponseType    string          `json:"response_type"`
	ReplaceOriginal bool            `json:"replace_original"`
	DeleteOriginal  bool            `json:"delete_original"`
	ThreadTS        string          `json:"thread_ts"`
}

func (s *Server) handleResponseURL(w http.ResponseWriter, r *http.Request) {
	var msg responseMessage
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil || json.Unmarshal(body, &msg) != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"ok": false, "error": "invalid_payload"})
		return
	}
	s.mu.Lock()
	code := s.applyResponse(path.Base(r.URL.Path), msg)
	s.mu.Unlock()
	if code != "" {
		status := http.StatusOK
		if code == "used_url" || code == "expired_url" {
			status = http.StatusNotFound
		}
		writeJSON(w, status, map[string]any{"ok": false, "error": code})
		return
	}
	s.notify()
	writeJSON(w, http.StatusOK, map[string]any{"ok": true})
}

// applyResponse shows a response_url message and returns an error code or ""; s.mu must be held.
// Only a message Slack accepts spends one of the URL's uses.
func (s *Server) applyResponse(id string, msg responseMessage) string {
	t := s.ws.responses[id]
	switch {
	case t == nil:
		return "invalid_url"
	case s.clock.Now().After(t.expires):
		return "expired_url"
	case t.uses >= responseURLUses:
		return "used_url"
	}
	code := s.showResponse(t, msg)
	if code == "" {
		t.uses++
	}
	return code
}

// showResponse checks and shows one response_url message; s.mu must be held.
func (s *Server) showResponse(t *responseTarget, msg responseMessage) string {
	if msg.DeleteOriginal {
		return s.deleteOriginal(t)
	}
	ct := content{text: msg.Text, hasText: msg.Text != "", threadTS: msg.ThreadTS}
	if len(msg.Blocks) > 0 && string(msg.Blocks) != "null" {
		ct.blocks, ct.hasBlocks = msg.Blocks, true
	}
	if err := ct.check(); err != nil {
		return err.(*apiError).code
	}
	if msg.ReplaceOriginal && t.messageTS != "" {
		return s.replaceOriginal(t, ct)
	}
	ch := s.ws.channels[t.channelID]
	if ch == nil {
		return "channel_not_found"
	}
	var err error
	if ct.threadTS, err = s.threadParent(ch, ct.threadTS); err != nil {
		return err.(*apiError).code
	}
	if msg.ResponseType == "in_channel" {
		s.appendMessage(ch, s.opts.BotUserID, ct)
	} else {
		s.appendEphemeral(ch, t.userID, ct)
	}
	return ""
}

func (s *Server) replaceOriginal(t *responseTarget, ct content) string {
	m := s.ws.findMessage(t.channelID, t.messageTS)
	if t.ephemeral {
		m = s.ws.findEphemeral(t.channelID, t.messageTS)
	}
	if m == nil {
		return "message_not_found"
	}
	m.History = append(m.History, Revision{Text: m.Text, Blocks: m.Blocks, At: s.clock.Now()})
	m.Edits++
	m.Text, m.Blocks = ct.text, ct.blocks
	return ""
}

func (s *Server) deleteOriginal(t *responseTarget) string {
	list := &s.ws.messages
	if t.ephemeral {
		list = &s.ws.ephemerals
	}
	before := len((*list)[t.channelID])
	(*list)[t.channelID] = slices.DeleteFunc((*list)[t.channelID], func(m *Message) bool { return m.TS == t.messageTS })
	if len((*list)[t.channelID]) == before {
		return "message_not_found"
	}
	return ""
}

// showAckPayload shows a slash command's ack payload (if it has text or blocks) and
// returns why Slack would refuse it, or "".
func (s *Server) showAckPayload(channelID, userID string, payload json.RawMessage) string {
	if len(payload) == 0 || string(payload) == "null" {
		return ""
	}
	var msg responseMessage
	if err := json.Unmarshal(payload, &msg); err != nil {
		return "invalid_payload"
	}
	if msg.Text == "" && len(msg.Blocks) == 0 {
		return ""
	}
	ct := content{text: msg.Text, hasText: msg.Text != ""}
	if len(msg.Blocks) > 0 && string(msg.Blocks) != "null" {
		ct.blocks, ct.hasBlocks = msg.Blocks, true
	}
	if err := ct.check(); err != nil {
		return err.(*apiError).Error()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.ws.channels[channelID]
	switch {
	case ch == nil:
		return "channel_not_found"
	case msg.ResponseType == "in_channel":
		s.appendMessage(ch, s.opts.BotUserID, ct)
	default:
		s.appendEphemeral(ch, userID, ct)
	}
	return ""
}
