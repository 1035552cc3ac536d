package slackserver

import (
	"regexp"
	"slices"
	"strings"
)

func (s *Server) pinsAdd(c *call) (map[string]any, error) {
	ch, err := s.memberChannel(c.arg("channel"))
	if err != nil {
		return nil, err
	}
	ts := c.arg("timestamp")
	if ts == "" {
		return nil, errCode("no_item_specified")
	}
	if s.ws.findMessage(ch.ID, ts) == nil {
		return nil, errCode("message_not_found")
	}
	if slices.Contains(ch.Pins, ts) {
		return nil, errCode("already_pinned")
	}
	if len(ch.Pins) >= 100 {
		return nil, errCode("too_many_pins")
	}
	ch.Pins = append(ch.Pins, ts)
	return map[string]any{}, nil
}

func (s *Server) pinsList(c *call) (map[string]any, error) {
	ch := s.ws.channelByRef(c.arg("channel"))
	if ch == nil {
		return nil, errCode("channel_not_found")
	}
	items := []any{}
	for _, ts := range ch.Pins {
		if m := s.ws.findMessage(ch.ID, ts); m != nil {
			items = append(items, map[string]any{
				"type": "message", "channel": ch.ID, "created_by": s.opts.BotUserID,
				"message": s.messageJSON(m),
			})
		}
	}
	return map[string]any{"items": items}, nil
}

var emojiName = regexp.MustCompile(`^[a-z0-9_+'-]+(::skin-tone-[2-6])?$`)

func (s *Server) reactionsAdd(c *call) (map[string]any, error) {
	ch := s.ws.channelByRef(c.arg("channel"))
	if ch == nil {
		return nil, errCode("channel_not_found")
	}
	name := strings.Trim(c.arg("name"), ":")
	if !emojiName.MatchString(name) {
		return nil, errCode("invalid_name")
	}
	m := s.ws.findMessage(ch.ID, c.arg("timestamp"))
	if m == nil {
		return nil, errCode("message_not_found")
	}
	for i, r := range m.Reactions {
		if r.Name != name {
			continue
		}
		if slices.Contains(r.Users, s.opts.BotUserID) {
			return nil, errCode("already_reacted")
		}
		m.Reactions[i].Users = append(m.Reactions[i].Users, s.opts.BotUserID)
		return map[string]any{}, nil
	}
	if len(m.Reactions) >= 50 {
		return nil, errCode("too_many_emoji")
	}
	m.Reactions = append(m.Reactions, Reaction{Name: name, Users: []string{s.opts.BotUserID}})
	return map[string]any{}, nil
}

func (s *Server) reactionsGet(c *call) (map[string]any, error) {
	if c.arg("channel") == "" || c.arg("timestamp") == "" {
		return nil, errCode("no_item_specified")
	}
	ch := s.ws.channelByRef(c.arg("channel"))
	if ch == nil {
		return nil, errCode("channel_not_found")
	}
	m := s.ws.findMessage(ch.ID, c.arg("timestamp"))
	if m == nil {
		return nil, errCode("message_not_found")
	}
	return map[string]any{"type": "message", "channel": ch.ID, "message": s.messageJSON(m)}, nil
}

func (s *Server) usersInfo(c *call) (map[string]any, error) {
	u := s.ws.users[c.arg("user")]
	if u == nil {
		return nil, errCode("user_not_found")
	}
	return map[string]any{"user": s.userJSON(u)}, nil
}

func (s *Server) usergroupsUsersList(c *call) (map[string]any, error) {
	if s.opts.FreePlan {
		return nil, errCode("plan_upgrade_required")
	}
	g := s.ws.groups[c.arg("usergroup")]
	if g == nil {
		return nil, errCode("no_such_subteam")
	}
	return map[string]any{"users": slices.Clone(g.Users)}, nil
}

func (s *Server) bookmarksAdd(c *call) (map[string]any, error) {
	ch := s.ws.channelByRef(c.arg("channel_id"))
	if ch == nil {
		return nil, errCode("channel_not_found")
	}
	if c.arg("type") != "link" {
		return nil, errCode("invalid_bookmark_type")
	}
	link := c.arg("link")
	if !strings.HasPrefix(link, "http://") && !strings.HasPrefix(link, "https://") {
		return nil, errCode("invalid_link")
	}
	if len(ch.Bookmarks) >= 100 {
		return nil, errCode("too_many_bookmarks")
	}
	b := Bookmark{
		ID: "Bk" + s.ws.nextID('K')[1:], ChannelID: ch.ID, Title: c.arg("title"),
		Type: "link", Link: link, Emoji: c.arg("emoji"),
	}
	ch.Bookmarks = append(ch.Bookmarks, b)
	return map[string]any{"bookmark": map[string]any{
		"id": b.ID, "channel_id": b.ChannelID, "title": b.Title, "link": b.Link,
		"emoji": b.Emoji, "type": b.Type, "date_created": s.clock.Now().Unix(),
	}}, nil
}
