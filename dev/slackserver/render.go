package slackserver

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// messageJSON renders a message the way the Web API and interaction payloads show it;
// s.mu must be held.
func (s *Server) messageJSON(m *Message) map[string]any {
	out := map[string]any{"type": "message", "ts": m.TS, "text": m.Text, "user": m.User, "team": s.opts.TeamID}
	if m.BotID != "" {
		out["bot_id"] = m.BotID
		out["app_id"] = s.opts.AppID
		out["bot_profile"] = map[string]any{"id": m.BotID, "app_id": s.opts.AppID, "name": s.opts.BotName, "team_id": s.opts.TeamID, "deleted": false}
	}
	if len(m.Blocks) > 0 {
		out["blocks"] = m.Blocks
	}
	if len(m.Attachments) > 0 {
		out["attachments"] = m.Attachments
	}
	if len(m.Metadata) > 0 {
		out["metadata"] = m.Metadata
	}
	if m.Subtype != "" {
		out["subtype"] = m.Subtype
	}
	if m.ThreadTS != "" {
		out["thread_ts"] = m.ThreadTS
	}
	if n := s.replyCount(m); n > 0 {
		out["thread_ts"] = m.TS
		out["reply_count"] = n
	}
	if m.Edits > 0 && len(m.History) > 0 {
		out["edited"] = map[string]any{"user": m.User, "ts": tsOf(m.History[len(m.History)-1].At)}
	}
	if len(m.Files) > 0 {
		files := make([]any, 0, len(m.Files))
		for _, id := range m.Files {
			if f := s.ws.files[id]; f != nil {
				files = append(files, fileJSON(f))
			}
		}
		out["files"] = files
	}
	if len(m.Reactions) > 0 {
		rs := make([]any, 0, len(m.Reactions))
		for _, r := range m.Reactions {
			rs = append(rs, map[string]any{"name": r.Name, "users": r.Users, "count": len(r.Users)})
		}
		out["reactions"] = rs
	}
	return out
}

// replyCount counts the replies of a thread parent; s.mu must be held.
func (s *Server) replyCount(m *Message) int {
	if m.ThreadTS != "" {
		return 0
	}
	n := 0
	for _, x := range s.ws.messages[m.Channel] {
		if x.ThreadTS == m.TS {
			n++
		}
	}
	return n
}

func fileJSON(f *File) map[string]any {
	out := map[string]any{
		"id": f.ID, "name": f.Name, "title": f.Title, "size": len(f.Bytes), "user": f.User,
		"created": f.Created.Unix(), "timestamp": f.Created.Unix(), "filetype": fileType(f.Name),
		"mimetype": mimeType(f.Name),
	}
	if f.ChannelID != "" {
		out["channels"] = []string{f.ChannelID}
	}
	return out
}

func fileType(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return strings.ToLower(name[i+1:])
	}
	return "binary"
}

func mimeType(name string) string {
	switch fileType(name) {
	case "png":
		return "image/png"
	case "jpg", "jpeg":
		return "image/jpeg"
	case "txt", "log":
		return "text/plain"
	case "md":
		return "text/markdown"
	case "csv":
		return "text/csv"
	case "json":
		return "application/json"
	}
	return "application/octet-stream"
}

// channelJSON renders a conversation object; s.mu must be held.
func (s *Server) channelJSON(c *Channel) map[string]any {
	topic := map[string]any{"value": c.Topic, "creator": "", "last_set": 0}
	if c.Topic != "" {
		topic["creator"] = s.opts.BotUserID
		topic["last_set"] = c.Created.Unix()
	}
	out := map[string]any{
		"id": c.ID, "name": c.Name, "name_normalized": c.Name, "is_channel": !c.IsPrivate,
		"is_group": c.IsPrivate && !c.IM, "is_im": c.IM, "is_mpim": false, "is_private": c.IsPrivate,
		"created": c.Created.Unix(), "creator": c.Creator, "is_archived": false, "is_general": false,
		"unlinked": 0, "is_shared": false, "is_org_shared": false, "is_ext_shared": false,
		"is_member": c.isMember(s.opts.BotUserID), "num_members": len(c.Members),
		"topic": topic, "purpose": map[string]any{"value": "", "creator": "", "last_set": 0},
		"previous_names": []string{}, "context_team_id": s.opts.TeamID,
	}
	if c.CanvasID != "" {
		out["properties"] = map[string]any{"canvas": map[string]any{"file_id": c.CanvasID, "is_empty": false}}
	}
	return out
}

func (s *Server) userJSON(u *User) map[string]any {
	return map[string]any{
		"id": u.ID, "team_id": s.opts.TeamID, "name": u.Name, "real_name": u.RealName,
		"deleted": false, "is_bot": u.IsBot, "is_admin": false, "is_owner": false,
		"is_restricted": false, "is_ultra_restricted": false, "is_app_user": false,
		"tz": "UTC", "tz_label": "Coordinated Universal Time", "tz_offset": 0,
		"updated": 0,
		"profile": map[string]any{
			"real_name": u.RealName, "display_name": u.Name, "real_name_normalized": u.RealName,
			"display_name_normalized": u.Name, "team": s.opts.TeamID,
		},
	}
}

// tsOf formats a time as a Slack timestamp.
func tsOf(t time.Time) string {
	us := t.UnixMicro()
	return fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
}

// tsLess compares two Slack timestamps numerically.
func tsLess(a, b string) bool {
	fa, _ := strconv.ParseFloat(a, 64)
	fb, _ := strconv.ParseFloat(b, 64)
	if fa != fb {
		return fa < fb
	}
	return a < b
}
