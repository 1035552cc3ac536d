package handlers

import (
	"context"
	"regexp"
	"strings"
)

// Workspace is what incident and action commands need from the chat platform; the Slack bot implements it.
type Workspace interface {
	// CreateChannel makes a channel; a taken name is an errs.Conflict.
	CreateChannel(ctx context.Context, name string) (id string, err error)
	Invite(ctx context.Context, channelID string, users []string) error
	SetTopic(ctx context.Context, channelID, topic string) error
	// Post writes a message in chat markup; data inside it must have gone through Data.
	Post(ctx context.Context, channelID, text string) error
	// Publish shares a document in a channel (in Slack: a canvas and a Markdown file).
	Publish(ctx context.Context, channelID string, doc Document) error
	// Run runs a /perf command in a channel as if user had typed it there, without waiting for it.
	Run(ctx context.Context, channelID, user, text string)
}

// Document is a generated document, such as a postmortem.
type Document struct {
	Title    string
	Markdown string
	Filename string
}

var (
	// userID is a Slack user ID (U…, or W… in Enterprise Grid); groupID a user group ID.
	userID  = regexp.MustCompile(`^[UW][A-Z0-9]{2,30}$`)
	groupID = regexp.MustCompile(`^S[A-Z0-9]{2,30}$`)
	// broadcast finds the words that notify a whole channel or workspace.
	broadcast = regexp.MustCompile(`(?i)@(here|channel|everyone)`)
)

// Mention writes a user ID ("U…"/"W…") or user group ID ("S…") as a platform mention; anything else,
// including a string that merely starts like an ID, as plain data.
func Mention(id string) string {
	switch {
	case userID.MatchString(id):
		return "<@" + id + ">"
	case groupID.MatchString(id):
		return "<!subteam^" + id + ">"
	}
	return Data(id)
}

func mentions(ids []string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = Mention(id)
	}
	return strings.Join(out, " ")
}

// Data makes user or backend text safe inside chat markup: the characters that start mentions,
// links and entities become entities, and @here, @channel and @everyone get a zero-width space
// after the @, so data can never ping anyone or forge a link.
func Data(s string) string {
	s = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
	return broadcast.ReplaceAllString(s, "@\u200b$1")
}
