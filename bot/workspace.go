package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/handlers"
	"github.com/perfbot/perfbot/internal/textfmt"
)

// Workspace is the bot's handlers.Workspace: channels, messages and documents in Slack.
type Workspace struct{ b *Bot }

// Workspace returns the Slack side that incident and action commands act through.
func (b *Bot) Workspace() Workspace { return Workspace{b} }

var _ handlers.Workspace = Workspace{}

// CreateChannel creates a public channel; Slack's name_taken becomes errs.Conflict.
func (w Workspace) CreateChannel(ctx context.Context, name string) (string, error) {
	ch, err := w.b.api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: name})
	if err != nil {
		if slackError(err, "name_taken") {
			return "", errs.Conflictf("channel #%s exists", name)
		}
		return "", fmt.Errorf("conversations.create %s: %w", name, err)
	}
	return ch.ID, nil
}

// Invite adds users to a channel one at a time: Slack rejects a whole batch when one of them is already
// there, which would leave the others uninvited. Users already there are fine.
func (w Workspace) Invite(ctx context.Context, channelID string, users []string) error {
	var errs []error
	for _, u := range users {
		_, err := w.b.api.InviteUsersToConversationContext(ctx, channelID, u)
		if err != nil && !slackError(err, "already_in_channel") && !slackError(err, "cant_invite_self") {
			errs = append(errs, fmt.Errorf("conversations.invite %s: %w", u, err))
		}
	}
	return errors.Join(errs...)
}

// SetTopic sets the channel topic (Slack allows 250 characters).
func (w Workspace) SetTopic(ctx context.Context, channelID, topic string) error {
	_, err := w.b.api.SetTopicOfConversationContext(ctx, channelID, textfmt.Truncate(topic, 250))
	return err
}

// Post writes text as a mrkdwn message: mentions and formatting in Slack's syntax, data escaped.
func (w Workspace) Post(ctx context.Context, channelID string, text handlers.Text) error {
	_, err := w.b.post(ctx, channelID, "", slack.MsgOptionText(orDefault(mrkdwnText(text, 3900), "—"), false))
	return err
}

// Publish shares a document as the channel's canvas (or a standalone canvas in the channel when it has one),
// where people are canvas mentions, and as a Markdown file, where they are plain text.
func (w Workspace) Publish(ctx context.Context, channelID string, doc handlers.Document) error {
	canvas := doc.Markdown
	if doc.WithPeople != nil {
		md, err := doc.WithPeople(canvasPerson)
		if err != nil {
			return fmt.Errorf("canvas: %w", err)
		}
		canvas = md
	}
	content := slack.DocumentContent{Type: "markdown", Markdown: canvas}
	_, err := w.b.api.CreateChannelCanvasContext(ctx, channelID, content)
	if slackError(err, "channel_canvas_already_exists") {
		_, err = w.b.api.CreateCanvasContext(ctx, textfmt.Truncate(doc.Title, 250), content, slack.CreateCanvasOptionChannelID(channelID))
	}
	if err != nil {
		return fmt.Errorf("canvas: %w", err)
	}
	_, err = w.b.api.UploadFileContext(ctx, slack.UploadFileParameters{
		Content: doc.Markdown, FileSize: len(doc.Markdown), Filename: doc.Filename, Title: textfmt.Truncate(doc.Title, 250),
		Channel: channelID, InitialComment: "Postmortem draft (Markdown): " + escape(doc.Title),
	})
	if err != nil {
		return fmt.Errorf("postmortem file: %w", err)
	}
	return nil
}

// Run runs a /perf command in a channel as if user had typed it there.
func (w Workspace) Run(ctx context.Context, channelID, user, text string) {
	req := commandRequest{user: user, channel: channelID, text: strings.TrimSpace(text)}
	if !w.b.submit(context.WithoutCancel(ctx), func(ctx context.Context) { w.b.runCommand(ctx, req) }) {
		w.b.log.Warn("command queue full; not run", "text", text, "channel", channelID)
	}
}

func slackError(err error, code string) bool {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err == code
	}
	return err != nil && err.Error() == code
}
