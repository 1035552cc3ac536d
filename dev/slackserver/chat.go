package slackserver

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
)

// content is the visible part of a message as a method received it.
type content struct {
	text, threadTS      string
	hasText, hasBlocks  bool
	blocks, attachments json.RawMessage
	metadata            json.RawMessage
	broadcast           bool
	markdownConflict    bool
}

func parseContent(c *call) content {
	ct := content{
		text:      c.arg("text"),
		hasText:   c.has("text"),
		threadTS:  c.arg("thread_ts"),
		broadcast: c.arg("reply_broadcast") == "true",
	}
	if b := strings.TrimSpace(c.arg("blocks")); b != "" && b != "null" {
		ct.blocks, ct.hasBlocks = json.RawMessage(b), true
	}
	if md := c.arg("markdown_text"); md != "" {
		ct.markdownConflict = ct.hasText || ct.hasBlocks
		ct.text, ct.hasText = md, true
	}
	if a := strings.TrimSpace(c.arg("attachments")); a != "" && a != "null" {
		ct.attachments = json.RawMessage(a)
	}
	if m := strings.TrimSpace(c.arg("metadata")); m != "" && m != "null" {
		ct.metadata = json.RawMessage(m)
	}
	return ct
}

// check applies Slack's message checks: text length, Block Kit, attachments, no_text.
func (ct content) check() error {
	if ct.markdownConflict {
		return errCode("markdown_text_conflict")
	}
	if runeLen(ct.text) > MaxMessageText {
		return errCode("msg_too_long")
	}
	if ct.hasBlocks {
		if err := ValidateBlocks(ct.blocks); err != nil {
			var be *BlockError
			if errors.As(err, &be) {
				return &apiError{code: be.Code, messages: be.Messages}
			}
			return errCode("invalid_blocks", err.Error())
		}
	}
	if len(ct.attachments) > 0 {
		if err := checkAttachments(ct.attachments); err != nil {
			return err
		}
	}
	if strings.TrimSpace(ct.text) == "" && !ct.hasBlocks && len(ct.attachments) == 0 {
		return errCode("no_text")
	}
	return nil
}

func checkAttachments(raw json.RawMessage) error {
	var atts []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &atts); err != nil {
		return errCode("invalid_attachments")
	}
	if len(atts) > 100 {
		return errCode("too_many_attachments")
	}
	for _, a := range atts {
		if b, ok := a["blocks"]; ok {
			if err := ValidateBlocks(b); err != nil {
				var be *BlockError
				errors.As(err, &be)
				return &apiError{code: "invalid_attachments", messages: be.Messages}
			}
		}
	}
	return nil
}

// postingChannel resolves the channel argument and checks the bot may post there.
func (s *Server) postingChannel(ref string) (*Channel, error) {
	ch := s.ws.channelByRef(ref)
	if ch == nil && s.ws.users[ref] != nil {
		ch = s.directChannel(ref)
	}
	if ch == nil {
		return nil, errCode("channel_not_found")
	}
	if !ch.isMember(s.opts.BotUserID) {
		return nil, errCode("not_in_channel")
	}
	return ch, nil
}

// threadParent resolves thread_ts to the thread's parent message timestamp.
func (s *Server) threadParent(ch *Channel, ts string) (string, error) {
	if ts == "" {
		return "", nil
	}
	m := s.ws.findMessage(ch.ID, ts)
	if m == nil {
		return "", errCode("invalid_arguments", "thread_ts "+ts+" does not name a message in "+ch.ID+" [json-pointer:/thread_ts]")
	}
	if m.ThreadTS != "" {
		return m.ThreadTS, nil
	}
	return m.TS, nil
}

// appendMessage records a message from userID in ch; s.mu must be held.
func (s *Server) appendMessage(ch *Channel, userID string, ct content) *Message {
	m := &Message{
		Channel: ch.ID, TS: s.ws.nextTS(s.clock.Now()), ThreadTS: ct.threadTS, User: userID,
		Text: ct.text, Blocks: ct.blocks, Attachments: ct.attachments, Metadata: ct.metadata,
		ReplyBroadcast: ct.broadcast,
	}
	if userID == s.opts.BotUserID {
		m.BotID = botID(s.opts)
	}
	s.ws.messages[ch.ID] = append(s.ws.messages[ch.ID], m)
	return m
}

// appendEphemeral records an ephemeral message from the bot to recipient; s.mu must be held.
func (s *Server) appendEphemeral(ch *Channel, recipient string, ct content) *Message {
	m := &Message{
		Channel: ch.ID, TS: s.ws.nextTS(s.clock.Now()), ThreadTS: ct.threadTS, User: s.opts.BotUserID,
		BotID: botID(s.opts), Text: ct.text, Blocks: ct.blocks, Attachments: ct.attachments,
		Recipient: recipient, Ephemeral: true,
	}
	s.ws.ephemerals[ch.ID] = append(s.ws.ephemerals[ch.ID], m)
	return m
}

func (s *Server) postMessage(c *call) (map[string]any, error) {
	ch, err := s.postingChannel(c.arg("channel"))
	if err != nil {
		return nil, err
	}
	ct := parseContent(c)
	if err := ct.check(); err != nil {
		return nil, err
	}
	if ct.threadTS, err = s.threadParent(ch, ct.threadTS); err != nil {
		return nil, err
	}
	m := s.appendMessage(ch, s.opts.BotUserID, ct)
	return map[string]any{"channel": ch.ID, "ts": m.TS, "message": s.messageJSON(m)}, nil
}

func (s *Server) chatUpdate(c *call) (map[string]any, error) {
	ch := s.ws.channelByRef(c.arg("channel"))
	if ch == nil {
		return nil, errCode("channel_not_found")
	}
	m := s.ws.findMessage(ch.ID, c.arg("ts"))
	if m == nil {
		return nil, errCode("message_not_found")
	}
	if m.User != s.opts.BotUserID {
		return nil, errCode("cant_update_message")
	}
	ct := parseContent(c)
	if !ct.hasText && !ct.hasBlocks && len(ct.attachments) == 0 {
		return nil, errCode("no_text")
	}
	next := content{text: m.Text, blocks: m.Blocks, attachments: m.Attachments, hasBlocks: len(m.Blocks) > 0}
	if ct.hasText {
		next.text = ct.text
	}
	if ct.hasBlocks {
		next.blocks, next.hasBlocks = ct.blocks, string(ct.blocks) != "[]"
	}
	if len(ct.attachments) > 0 {
		next.attachments = ct.attachments
	}
	if err := next.check(); err != nil {
		return nil, err
	}
	m.History = append(m.History, Revision{Text: m.Text, Blocks: m.Blocks, At: s.clock.Now()})
	m.Edits++
	m.Text, m.Blocks, m.Attachments = next.text, next.blocks, next.attachments
	if !next.hasBlocks {
		m.Blocks = nil
	}
	return map[string]any{"channel": ch.ID, "ts": m.TS, "text": m.Text, "message": s.messageJSON(m)}, nil
}

func (s *Server) postEphemeral(c *call) (map[string]any, error) {
	ch, err := s.postingChannel(c.arg("channel"))
	if err != nil {
		return nil, err
	}
	if !ch.isMember(c.arg("user")) || s.ws.users[c.arg("user")] == nil {
		return nil, errCode("user_not_in_channel")
	}
	ct := parseContent(c)
	if err := ct.check(); err != nil {
		return nil, err
	}
	if ct.threadTS, err = s.threadParent(ch, ct.threadTS); err != nil {
		return nil, err
	}
	m := s.appendEphemeral(ch, c.arg("user"), ct)
	return map[string]any{"message_ts": m.TS}, nil
}

func (s *Server) chatDelete(c *call) (map[string]any, error) {
	ch := s.ws.channelByRef(c.arg("channel"))
	if ch == nil {
		return nil, errCode("channel_not_found")
	}
	ts := c.arg("ts")
	m := s.ws.findMessage(ch.ID, ts)
	if m == nil {
		return nil, errCode("message_not_found")
	}
	if m.User != s.opts.BotUserID {
		return nil, errCode("cant_delete_message")
	}
	s.ws.messages[ch.ID] = slices.DeleteFunc(s.ws.messages[ch.ID], func(x *Message) bool { return x == m })
	return map[string]any{"channel": ch.ID, "ts": ts}, nil
}

// directChannel returns (opening it if needed) the bot's DM with a user; s.mu must be held.
func (s *Server) directChannel(userID string) *Channel {
	for _, id := range s.ws.chanOrder {
		if c := s.ws.channels[id]; c.IM && c.isMember(userID) {
			return c
		}
	}
	c := &Channel{
		ID: s.ws.nextID('D'), IM: true, IsPrivate: true, Creator: s.opts.BotUserID,
		Created: s.clock.Now(), Members: []string{s.opts.BotUserID, userID},
	}
	s.ws.channels[c.ID] = c
	s.ws.chanOrder = append(s.ws.chanOrder, c.ID)
	return c
}
