package slackserver

import (
	"slices"
)

// AddUser adds (or renames) a workspace member.
func (s *Server) AddUser(id, name string) {
	s.mu.Lock()
	s.ws.users[id] = &User{ID: id, Name: name, RealName: name}
	s.mu.Unlock()
	s.notify()
}

// AddChannel creates a public channel with the bot as a member and returns its ID;
// an existing channel of that name is returned as is.
func (s *Server) AddChannel(name string) string {
	s.mu.Lock()
	defer s.notify()
	defer s.mu.Unlock()
	if c := s.ws.channelByRef(name); c != nil {
		return c.ID
	}
	c := s.createChannel(name, false, s.opts.BotUserID)
	return c.ID
}

// createChannel adds a channel with creator as its first member; s.mu must be held.
func (s *Server) createChannel(name string, private bool, creator string) *Channel {
	c := &Channel{
		ID:        s.ws.nextID('C'),
		Name:      name,
		IsPrivate: private,
		Creator:   creator,
		Created:   s.clock.Now(),
		Members:   []string{creator},
	}
	s.ws.channels[c.ID] = c
	s.ws.chanOrder = append(s.ws.chanOrder, c.ID)
	return c
}

// AddMember puts a user (or the bot) into a channel.
func (s *Server) AddMember(channelID, userID string) {
	s.mu.Lock()
	if c := s.ws.channels[channelID]; c != nil {
		c.addMember(userID)
	}
	s.mu.Unlock()
	s.notify()
}

// RemoveMember takes a user (or the bot) out of a channel.
func (s *Server) RemoveMember(channelID, userID string) {
	s.mu.Lock()
	if c := s.ws.channels[channelID]; c != nil {
		c.Members = slices.DeleteFunc(c.Members, func(m string) bool { return m == userID })
	}
	s.mu.Unlock()
	s.notify()
}

// AddUserGroup creates (or replaces) a user group with the given members.
func (s *Server) AddUserGroup(id string, users ...string) {
	s.mu.Lock()
	s.ws.groups[id] = &UserGroup{ID: id, Handle: id, Users: slices.Clone(users)}
	s.mu.Unlock()
	s.notify()
}

// Messages returns the channel's messages (thread replies and file shares included),
// oldest first.
func (s *Server) Messages(channelID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, 0, len(s.ws.messages[channelID]))
	for _, m := range s.ws.messages[channelID] {
		out = append(out, copyMessage(m))
	}
	return out
}

// Message returns one message of a channel by its timestamp.
func (s *Server) Message(channelID, ts string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.ws.findMessage(channelID, ts); m != nil {
		return copyMessage(m), true
	}
	return Message{}, false
}

// Ephemerals returns the ephemeral messages a user saw in a channel, oldest first
// (chat.postEphemeral, and slash-command or response_url replies not sent in_channel).
func (s *Server) Ephemerals(channelID, userID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.ws.ephemerals[channelID] {
		if m.Recipient == userID {
			out = append(out, copyMessage(m))
		}
	}
	return out
}

// Files returns the files shared into a channel, in upload order.
func (s *Server) Files(channelID string) []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []File
	for _, id := range s.ws.fileOrder {
		f := s.ws.files[id]
		if f.Completed && f.ChannelID == channelID {
			c := *f
			c.Bytes = slices.Clone(f.Bytes)
			out = append(out, c)
		}
	}
	return out
}

// Canvases returns the canvases attached to a channel (its channel canvas and any
// canvas created with that channel_id), in creation order.
func (s *Server) Canvases(channelID string) []Canvas {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Canvas
	for _, id := range s.ws.canvasList {
		c := s.ws.canvases[id]
		if c.ChannelID == channelID {
			cp := *c
			cp.History = slices.Clone(c.History)
			out = append(out, cp)
		}
	}
	return out
}

// Canvas returns one canvas by ID.
func (s *Server) Canvas(id string) (Canvas, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.ws.canvases[id]
	if !ok {
		return Canvas{}, false
	}
	cp := *c
	cp.History = slices.Clone(c.History)
	return cp, true
}

// Channel returns a channel by ID (or name).
func (s *Server) Channel(id string) (Channel, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.ws.channelByRef(id)
	if c == nil {
		return Channel{}, false
	}
	return copyChannel(c), true
}

// Channels returns every channel, in creation order.
func (s *Server) Channels() []Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Channel, 0, len(s.ws.chanOrder))
	for _, id := range s.ws.chanOrder {
		out = append(out, copyChannel(s.ws.channels[id]))
	}
	return out
}

// Acks returns every ack received, in order.
func (s *Server) Acks() []Ack {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ws.acks)
}

// Calls returns how many times a Web API method was called (accepted or not).
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// Refusals returns how many calls of a Web API method were answered with the error code
// (e.g. "conversations.invite", "already_in_channel"; "ratelimited" for HTTP 429).
func (s *Server) Refusals(method, code string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refusals[method+" "+code]
}

// DirectChannel returns the ID of the bot's direct-message conversation with a user
// (opened as chat.postMessage to a user ID opens it), or "" for an unknown user.
func (s *Server) DirectChannel(userID string) string {
	s.mu.Lock()
	defer s.notify()
	defer s.mu.Unlock()
	if s.ws.users[userID] == nil {
		return ""
	}
	return s.directChannel(userID).ID
}

// FileCount returns how many files are shared into a channel (uploads completed), without copying them.
func (s *Server) FileCount(channelID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, id := range s.ws.fileOrder {
		if f := s.ws.files[id]; f.Completed && f.ChannelID == channelID {
			n++
		}
	}
	return n
}
