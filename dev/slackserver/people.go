package slackserver

import (
	"fmt"
	"slices"
	"strings"
)

// What people do in the workspace besides commands and clicks: write messages (in a channel or a
// thread) and react to them. The web view uses these; tests may too.

// PostAsUser writes text as userID in channelID, in the thread of threadTS when it is set, and
// returns the new message's timestamp. Like Slack, it delivers a message event only to apps that
// subscribe to it; perfbot does not, so the message is only stored and shown.
func (s *Server) PostAsUser(userID, channelID, threadTS, text string) (string, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return "", fmt.Errorf("post: the message is empty")
	}
	if len([]rune(text)) > 4000 {
		return "", fmt.Errorf("post: the message is longer than 4000 characters")
	}
	s.mu.Lock()
	ch := s.ws.channelByRef(channelID)
	if ch == nil || !s.canSee(ch, userID) {
		s.mu.Unlock()
		return "", fmt.Errorf("post: no channel %s for %s", channelID, userID)
	}
	parent, err := s.threadParent(ch, threadTS)
	if err != nil {
		s.mu.Unlock()
		return "", fmt.Errorf("post: %w", err)
	}
	m := s.appendMessage(ch, userID, content{text: text, threadTS: parent})
	s.mu.Unlock()
	s.notify()
	return m.TS, nil
}

// canSee tells whether userID may read and write in ch: public channels, and the rest when a member.
func (s *Server) canSee(ch *Channel, userID string) bool {
	if _, ok := s.ws.users[userID]; !ok {
		return false
	}
	return (!ch.IsPrivate && !ch.IM) || ch.isMember(userID)
}

// React adds the emoji name (e.g. "pushpin") to a message as userID and sends the reaction_added
// event Slack sends, so an app hears of it. Reacting twice with the same emoji is an error.
func (s *Server) React(userID, channelID, ts, name string) error {
	name = strings.Trim(strings.TrimSpace(name), ":")
	if name == "" || strings.ContainsAny(name, " :") {
		return fmt.Errorf("react: %q is not an emoji name", name)
	}
	s.mu.Lock()
	ch := s.ws.channelByRef(channelID)
	var m *Message
	if ch != nil && s.canSee(ch, userID) {
		m = s.ws.findMessage(ch.ID, ts)
	}
	if m == nil {
		s.mu.Unlock()
		return fmt.Errorf("react: no message %s in %s", ts, channelID)
	}
	i := slices.IndexFunc(m.Reactions, func(r Reaction) bool { return r.Name == name })
	if i >= 0 && slices.Contains(m.Reactions[i].Users, userID) {
		s.mu.Unlock()
		return fmt.Errorf("react: already_reacted")
	}
	if i < 0 {
		m.Reactions = append(m.Reactions, Reaction{Name: name})
		i = len(m.Reactions) - 1
	}
	m.Reactions[i].Users = append(m.Reactions[i].Users, userID)
	author := m.User
	s.mu.Unlock()
	s.notify()
	_, err := s.PostEvent(map[string]any{
		"type": "reaction_added", "user": userID, "reaction": name, "item_user": author,
		"item": map[string]any{"type": "message", "channel": ch.ID, "ts": ts},
	})
	return err
}
