package handlers

import (
	"context"

	"github.com/perfbot/perfbot/incidents"
)

// Workspace is what incident and action commands need from the chat platform; the Slack bot implements it.
type Workspace interface {
	// CreateChannel makes a channel; a taken name is an errs.Conflict.
	CreateChannel(ctx context.Context, name string) (id string, err error)
	Invite(ctx context.Context, channelID string, users []string) error
	SetTopic(ctx context.Context, channelID, topic string) error
	// Post writes a message, rendered in the platform's own markup.
	Post(ctx context.Context, channelID string, text Text) error
	// Publish shares a document in a channel (in Slack: a canvas and a Markdown file).
	Publish(ctx context.Context, channelID string, doc Document) error
	// Run runs a /perf command in a channel as if user had typed it there, without waiting for it.
	Run(ctx context.Context, channelID, user, text string)
}

// Document is a generated document, such as a postmortem.
type Document struct {
	Title string
	// Markdown is the document for any reader: people appear as plain "@U…" text.
	Markdown string
	Filename string
	// WithPeople renders the document again with each person's user ID shown by person, so a
	// platform can put its own mentions in; nil when the document names nobody.
	WithPeople func(person incidents.Person) (string, error)
}
