package slackserver

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// User is a workspace member.
type User struct {
	ID, Name, RealName string
	IsBot              bool
}

// Channel is a conversation as the server holds it.
type Channel struct {
	ID, Name, Topic string
	IsPrivate       bool
	// IM is set on a direct-message conversation between the bot and one user.
	IM        bool
	Creator   string
	Created   time.Time
	Members   []string
	CanvasID  string
	Bookmarks []Bookmark
	Pins      []string
}

// Revision is one earlier version of a message, kept when chat.update replaces it.
type Revision struct {
	Text   string
	Blocks json.RawMessage
	At     time.Time
}

// Reaction is one emoji on a message and who added it.
type Reaction struct {
	Name  string
	Users []string
}

// Message is an accepted message as users see it.
type Message struct {
	Channel, TS, ThreadTS string
	User, BotID           string
	Text                  string
	Subtype               string
	Blocks                json.RawMessage
	Attachments           json.RawMessage
	Metadata              json.RawMessage
	Files                 []string
	ReplyBroadcast        bool
	// Edits counts accepted chat.update calls; History holds the versions they replaced.
	Edits     int
	History   []Revision
	Reactions []Reaction
	// Recipient is set on ephemeral messages: the only user who sees them.
	Recipient string
	Ephemeral bool
}

// File is an uploaded file and where it was shared.
type File struct {
	ID, Name, Title      string
	ChannelID, ThreadTS  string
	InitialComment, User string
	Length               int
	Bytes                []byte
	AltText, SnippetType string
	Uploaded, Completed  bool
	Created              time.Time
}

// Canvas is a canvas document with its edit history.
type Canvas struct {
	ID, Title, ChannelID string
	Markdown             string
	Edits                int
	History              []string
}

// UserGroup is a user group (for approvers and the like).
type UserGroup struct {
	ID, Handle string
	Users      []string
}

// Bookmark is a channel bookmark.
type Bookmark struct {
	ID, ChannelID, Title, Type, Link, Emoji string
}

// Ack is one acknowledgement an app sent over a socket.
type Ack struct {
	EnvelopeID string
	Type       string
	Payload    json.RawMessage
	Attempt    int
	// Latency is the time from the delivery of this attempt to the ack.
	Latency time.Duration
	At      time.Time
	// Problem says why Slack would not show the ack's payload (e.g. invalid_blocks), if so.
	Problem string
}

type workspace struct {
	users      map[string]*User
	channels   map[string]*Channel
	chanOrder  []string
	messages   map[string][]*Message
	ephemerals map[string][]*Message
	files      map[string]*File
	fileOrder  []string
	canvases   map[string]*Canvas
	canvasList []string
	groups     map[string]*UserGroup
	triggers   map[string]*trigger
	views      map[string]*View
	viewOrder  []string
	acks       []Ack
	responses  map[string]*responseTarget
	seq        map[byte]int
	lastTS     int64
}

func newWorkspace(o Options) *workspace {
	ws := &workspace{
		users:      map[string]*User{},
		channels:   map[string]*Channel{},
		messages:   map[string][]*Message{},
		ephemerals: map[string][]*Message{},
		files:      map[string]*File{},
		canvases:   map[string]*Canvas{},
		groups:     map[string]*UserGroup{},
		triggers:   map[string]*trigger{},
		views:      map[string]*View{},
		seq:        map[byte]int{},
	}
	ws.users[o.BotUserID] = &User{ID: o.BotUserID, Name: o.BotName, RealName: o.BotName, IsBot: true}
	return ws
}

// nextID returns a Slack-shaped ID with the given prefix (C, F, B, Ev...), unique per server.
func (ws *workspace) nextID(prefix byte) string {
	ws.seq[prefix]++
	return fmt.Sprintf("%c%010X", prefix, ws.seq[prefix])
}

// nextTS returns a message timestamp from now, strictly greater than every earlier one.
func (ws *workspace) nextTS(now time.Time) string {
	us := now.UnixMicro()
	if us <= ws.lastTS {
		us = ws.lastTS + 1
	}
	ws.lastTS = us
	return fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
}

// channelByRef finds a channel by ID, "#name" or name.
func (ws *workspace) channelByRef(ref string) *Channel {
	if c, ok := ws.channels[ref]; ok {
		return c
	}
	name := strings.TrimPrefix(ref, "#")
	for _, id := range ws.chanOrder {
		if ws.channels[id].Name == name {
			return ws.channels[id]
		}
	}
	return nil
}

func (c *Channel) isMember(userID string) bool { return slices.Contains(c.Members, userID) }

func (c *Channel) addMember(userID string) {
	if !c.isMember(userID) {
		c.Members = append(c.Members, userID)
	}
}

func (ws *workspace) findMessage(channelID, ts string) *Message {
	for _, m := range ws.messages[channelID] {
		if m.TS == ts {
			return m
		}
	}
	return nil
}

func (ws *workspace) findEphemeral(channelID, ts string) *Message {
	for _, m := range ws.ephemerals[channelID] {
		if m.TS == ts {
			return m
		}
	}
	return nil
}

func copyMessage(m *Message) Message {
	c := *m
	c.Files = slices.Clone(m.Files)
	c.History = slices.Clone(m.History)
	c.Reactions = make([]Reaction, len(m.Reactions))
	for i, r := range m.Reactions {
		c.Reactions[i] = Reaction{Name: r.Name, Users: slices.Clone(r.Users)}
	}
	return c
}

func copyChannel(c *Channel) Channel {
	out := *c
	out.Members = slices.Clone(c.Members)
	out.Bookmarks = slices.Clone(c.Bookmarks)
	out.Pins = slices.Clone(c.Pins)
	return out
}
