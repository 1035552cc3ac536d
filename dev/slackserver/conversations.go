package slackserver

import (
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// maxChannelName and maxTopic are Slack's limits on channel names and topics.
const (
	maxChannelName = 80
	maxTopic       = 250
)

// checkChannelName applies Slack's channel name rules: lowercase letters, digits,
// hyphens and underscores (and non-ASCII letters), at most 80 characters, not only punctuation.
func checkChannelName(name string) error {
	if name == "" {
		return errCode("invalid_name_required")
	}
	if runeLen(name) > maxChannelName {
		return errCode("invalid_name_maxlength")
	}
	onlyPunct := true
	for _, r := range name {
		switch {
		case r == '-' || r == '_':
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			onlyPunct = false
		case r > unicode.MaxASCII && unicode.IsLetter(r) && !unicode.IsUpper(r):
			onlyPunct = false
		default:
			return errCode("invalid_name_specials")
		}
	}
	if onlyPunct {
		return errCode("invalid_name_punctuation")
	}
	return nil
}

func (s *Server) conversationsCreate(c *call) (map[string]any, error) {
	name := c.arg("name")
	if err := checkChannelName(name); err != nil {
		return nil, err
	}
	for _, id := range s.ws.chanOrder {
		if s.ws.channels[id].Name == name {
			return nil, errCode("name_taken")
		}
	}
	ch := s.createChannel(name, c.arg("is_private") == "true", s.opts.BotUserID)
	return map[string]any{"channel": s.channelJSON(ch)}, nil
}

// memberChannel resolves a channel the bot must be a member of.
func (s *Server) memberChannel(ref string) (*Channel, error) {
	ch := s.ws.channelByRef(ref)
	if ch == nil {
		return nil, errCode("channel_not_found")
	}
	if !ch.isMember(s.opts.BotUserID) {
		return nil, errCode("not_in_channel")
	}
	return ch, nil
}

func (s *Server) conversationsInvite(c *call) (map[string]any, error) {
	ch, err := s.memberChannel(c.arg("channel"))
	if err != nil {
		return nil, err
	}
	users := strings.Split(c.arg("users"), ",")
	for _, u := range users {
		u = strings.TrimSpace(u)
		switch {
		case u == s.opts.BotUserID:
			return nil, errCode("cant_invite_self")
		case s.ws.users[u] == nil:
			return nil, errCode("user_not_found")
		case ch.isMember(u) && c.arg("force") != "true":
			return nil, errCode("already_in_channel")
		}
	}
	for _, u := range users {
		ch.addMember(strings.TrimSpace(u))
	}
	return map[string]any{"channel": s.channelJSON(ch)}, nil
}

func (s *Server) conversationsSetTopic(c *call) (map[string]any, error) {
	ch, err := s.memberChannel(c.arg("channel"))
	if err != nil {
		return nil, err
	}
	if runeLen(c.arg("topic")) > maxTopic {
		return nil, errCode("too_long")
	}
	ch.Topic = c.arg("topic")
	return map[string]any{"channel": s.channelJSON(ch)}, nil
}

func (s *Server) conversationsInfo(c *call) (map[string]any, error) {
	ch := s.ws.channelByRef(c.arg("channel"))
	if ch == nil {
		return nil, errCode("channel_not_found")
	}
	return map[string]any{"channel": s.channelJSON(ch)}, nil
}

func (s *Server) conversationsJoin(c *call) (map[string]any, error) {
	ch := s.ws.channelByRef(c.arg("channel"))
	if ch == nil {
		return nil, errCode("channel_not_found")
	}
	if ch.IsPrivate && !ch.isMember(s.opts.BotUserID) {
		return nil, errCode("method_not_supported_for_channel_type")
	}
	ch.addMember(s.opts.BotUserID)
	return map[string]any{"channel": s.channelJSON(ch)}, nil
}

// page cuts items by cursor (an offset) and limit, Slack-style.
func page[T any](items []T, cursor, limit string) ([]T, string, error) {
	start := 0
	if cursor != "" {
		n, err := strconv.Atoi(cursor)
		if err != nil || n < 0 || n > len(items) {
			return nil, "", errCode("invalid_cursor")
		}
		start = n
	}
	n, err := strconv.Atoi(limit)
	if err != nil || n <= 0 {
		n = 100
	}
	n = min(n, 1000)
	end := min(start+n, len(items))
	next := ""
	if end < len(items) {
		next = strconv.Itoa(end)
	}
	return items[start:end], next, nil
}

func (s *Server) conversationsMembers(c *call) (map[string]any, error) {
	ch := s.ws.channelByRef(c.arg("channel"))
	if ch == nil {
		return nil, errCode("channel_not_found")
	}
	members, next, err := page(slices.Clone(ch.Members), c.arg("cursor"), c.arg("limit"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"members": members, "response_metadata": map[string]any{"next_cursor": next}}, nil
}

func (s *Server) conversationsHistory(c *call) (map[string]any, error) {
	ch, err := s.memberChannel(c.arg("channel"))
	if err != nil {
		return nil, err
	}
	var msgs []*Message
	for _, m := range slices.Backward(s.ws.messages[ch.ID]) {
		if (m.ThreadTS == "" || m.ReplyBroadcast) && inWindow(m.TS, c) {
			msgs = append(msgs, m)
		}
	}
	return s.messagePage(msgs, c)
}

func (s *Server) conversationsReplies(c *call) (map[string]any, error) {
	ch := s.ws.channelByRef(c.arg("channel"))
	if ch == nil {
		return nil, errCode("channel_not_found")
	}
	parent := s.ws.findMessage(ch.ID, c.arg("ts"))
	if parent == nil {
		return nil, errCode("thread_not_found")
	}
	root := parent.TS
	if parent.ThreadTS != "" {
		root = parent.ThreadTS
	}
	var msgs []*Message
	for _, m := range s.ws.messages[ch.ID] {
		if (m.TS == root || m.ThreadTS == root) && inWindow(m.TS, c) {
			msgs = append(msgs, m)
		}
	}
	return s.messagePage(msgs, c)
}

func inWindow(ts string, c *call) bool {
	if o := c.arg("oldest"); o != "" && tsLess(ts, o) {
		return false
	}
	if l := c.arg("latest"); l != "" && tsLess(l, ts) {
		return false
	}
	return true
}

func (s *Server) messagePage(msgs []*Message, c *call) (map[string]any, error) {
	part, next, err := page(msgs, c.arg("cursor"), c.arg("limit"))
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(part))
	for _, m := range part {
		out = append(out, s.messageJSON(m))
	}
	return map[string]any{
		"messages": out, "has_more": next != "", "pin_count": 0,
		"response_metadata": map[string]any{"next_cursor": next},
	}, nil
}
