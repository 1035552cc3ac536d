package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/perfbot/perfbot/handlers"
)

// askActionPrefix marks the buttons that ask for text in a modal before running their command.
const askActionPrefix = "perf_ask:"

// askCallbackID names the modal those buttons open; askBlockID and askInputID its one text field.
const (
	askCallbackID = "perf_ask"
	askBlockID    = "perf_ask_text"
	askInputID    = "text"
)

// askActionID is the action_id of the i-th button that asks before it runs.
func askActionID(i int) string { return fmt.Sprintf("%s%d", askActionPrefix, i) }

// askMeta is what the modal carries from the click to its submission (private_metadata).
type askMeta struct {
	Command string `json:"command"`
	Channel string `json:"channel"`
}

// openAsk opens the modal for an asking button: one multi-line text field; its submission runs
// the button's command with the text appended, in the channel of the click. The trigger_id is
// good for three seconds, so the modal opens straight from the socket reader.
func (b *Bot) openAsk(cb slack.InteractionCallback, a slack.BlockAction) {
	cmd := strings.TrimSpace(a.Value)
	if !strings.HasPrefix(cmd, "/perf") {
		return
	}
	meta, _ := json.Marshal(askMeta{Command: cmd, Channel: channelOf(cb)})
	label := "Text"
	if a.Text.Text != "" {
		label = a.Text.Text
	}
	input := slack.NewPlainTextInputBlockElement(nil, askInputID)
	input.Multiline = true
	input.MaxLength = 1000
	view := slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      askCallbackID,
		Title:           slack.NewTextBlockObject(slack.PlainTextType, plain(label, 24), false, false),
		Submit:          slack.NewTextBlockObject(slack.PlainTextType, "Post", false, false),
		Close:           slack.NewTextBlockObject(slack.PlainTextType, "Cancel", false, false),
		PrivateMetadata: string(meta),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock(askBlockID, slack.NewTextBlockObject(slack.PlainTextType, plain(label, 2000), false, false), nil, input),
		}},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := b.api.OpenViewContext(ctx, cb.TriggerID, view); err != nil {
		b.log.Warn("open modal", "action_id", a.ActionID, "user", cb.User.ID, "err", err)
		b.tell(ctx, commandRequest{user: cb.User.ID, channel: channelOf(cb), responseURL: cb.ResponseURL},
			":warning: Could not open the form ("+escape(err.Error())+"). Type `"+escape(cmd)+" <text>` instead.")
	}
}

// onViewSubmission runs the command of a submitted ask modal with the text that was typed.
func (b *Bot) onViewSubmission(cb slack.InteractionCallback) {
	if cb.View.CallbackID != askCallbackID {
		b.log.Debug("view submission ignored", "callback_id", cb.View.CallbackID)
		return
	}
	var meta askMeta
	if err := json.Unmarshal([]byte(cb.View.PrivateMetadata), &meta); err != nil || meta.Channel == "" {
		b.log.Warn("view submission without its command", "err", err)
		return
	}
	text := strings.Join(strings.Fields(cb.View.State.Values[askBlockID][askInputID].Value), " ")
	cmd := strings.TrimSpace(strings.TrimPrefix(meta.Command, "/perf"))
	b.queueCommand(commandRequest{user: cb.User.ID, channel: meta.Channel, text: strings.TrimSpace(cmd + " " + text)})
}

// Prompt posts text with buttons for steps: a section and an actions block.
func (w Workspace) Prompt(ctx context.Context, channelID string, text handlers.Text, steps []handlers.NextStep) error {
	blocks := []slack.Block{slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, orDefault(mrkdwnText(text, 2900), "—"), false, false), nil, nil)}
	if a := actionsBlock(steps); a != nil {
		blocks = append(blocks, a)
	}
	_, err := w.b.post(ctx, channelID, "", slack.MsgOptionText(orDefault(mrkdwnText(text, 3900), "—"), false), slack.MsgOptionBlocks(blocks...))
	return err
}

// GroupMembers lists a user group's members (usergroups.users.list).
func (w Workspace) GroupMembers(ctx context.Context, group string) ([]string, error) {
	return w.b.api.GetUserGroupMembersContext(ctx, group)
}

// UserExists reports whether id is a user of the workspace (users.info).
func (w Workspace) UserExists(ctx context.Context, id string) (bool, error) {
	_, err := w.b.api.GetUserInfoContext(ctx, id)
	if slackError(err, "user_not_found") {
		return false, nil
	}
	return err == nil, err
}

// DocumentLink links to the channel's canvas, where Publish put the document.
func (w Workspace) DocumentLink(ctx context.Context, channelID string) (string, error) {
	ch, err := w.b.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: channelID})
	if err != nil {
		return "", fmt.Errorf("conversations.info %s: %w", channelID, err)
	}
	if ch.Properties == nil || ch.Properties.Canvas.FileId == "" || w.b.teamURL == "" {
		return "", nil
	}
	return strings.TrimSuffix(w.b.teamURL, "/") + "/docs/" + w.b.teamID + "/" + ch.Properties.Canvas.FileId, nil
}
