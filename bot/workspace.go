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

// Invite adds users to a channel, each once: those already in it (the channel's members are read
// first) and the bot itself are left out, and the rest are invited one at a time, since Slack rejects
// a whole batch when one of them is already there, which would leave the others uninvited.
func (w Workspace) Invite(ctx context.Context, channelID string, users []string) error {
	members, err := w.members(ctx, channelID)
	if err != nil {
		return err
	}
	var errs []error
	for _, u := range users {
		if members[u] || u == w.b.botID {
			continue
		}
		members[u] = true
		_, err := w.b.api.InviteUsersToConversationContext(ctx, channelID, u)
		if err != nil && !slackError(err, "already_in_channel") && !slackError(err, "cant_invite_self") {
			errs = append(errs, fmt.Errorf("conversations.invite %s: %w", u, err))
		}
	}
	return errors.Join(errs...)
}

// members returns the users in a channel (conversations.members, every page).
func (w Workspace) members(ctx context.Context, channelID string) (map[string]bool, error) {
	out := map[string]bool{}
	params := &slack.GetUsersInConversationParameters{ChannelID: channelID, Limit: 1000}
	for {
		ids, cursor, err := w.b.api.GetUsersInConversationContext(ctx, params)
		if err != nil {
			return nil, fmt.Errorf("conversations.members %s: %w", channelID, err)
		}
		for _, id := range ids {
			out[id] = true
		}
		if cursor == "" {
			return out, nil
		}
		params.Cursor = cursor
	}
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

// Publish shares a document as the channel's canvas, where people are canvas mentions, and as a
// Markdown file, where they are plain text. A channel that has its canvas already (a document published
// again, e.g. a regenerated postmortem) gets that canvas edited, not a second one.
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
		err = w.editChannelCanvas(ctx, channelID, content)
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

// editChannelCanvas replaces the whole content of the channel's canvas (conversations.info names it).
func (w Workspace) editChannelCanvas(ctx context.Context, channelID string, content slack.DocumentContent) error {
	ch, err := w.b.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: channelID})
	if err != nil {
		return fmt.Errorf("conversations.info %s: %w", channelID, err)
	}
	id := ""
	if ch.Properties != nil {
		id = ch.Properties.Canvas.FileId
	}
	if id == "" {
		return fmt.Errorf("channel %s has a canvas, but conversations.info does not name it", channelID)
	}
	return w.b.api.EditCanvasContext(ctx, slack.EditCanvasParams{CanvasID: id,
		Changes: []slack.CanvasChange{{Operation: "replace", DocumentContent: content}}})
}

// Run runs a /perf command in a channel as if user had typed it there.
func (w Workspace) Run(_ context.Context, channelID, user, text string) {
	w.b.queueCommand(commandRequest{user: user, channel: channelID, text: strings.TrimSpace(text)})
}

func slackError(err error, code string) bool {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err == code
	}
	return err != nil && err.Error() == code
}
