package bot

import (
	"context"
	"strings"

	"github.com/slack-go/slack"
)

// nextActionPrefix marks the buttons that run a follow-up /perf command.
const nextActionPrefix = "perf_next:"

// onInteraction routes block_actions; other interaction types are politely ignored.
func (b *Bot) onInteraction(cb slack.InteractionCallback) {
	if cb.Type == slack.InteractionTypeViewSubmission {
		b.onViewSubmission(cb)
		return
	}
	if cb.Type != slack.InteractionTypeBlockActions {
		b.log.Debug("interaction ignored", "type", cb.Type)
		return
	}
	for _, a := range cb.ActionCallback.BlockActions {
		switch {
		case strings.HasPrefix(a.ActionID, nextActionPrefix):
			text, ok := strings.CutPrefix(strings.TrimSpace(a.Value), "/perf")
			if !ok {
				continue
			}
			b.queueCommand(commandRequest{user: cb.User.ID, channel: channelOf(cb), text: strings.TrimSpace(text), responseURL: cb.ResponseURL})
		case strings.HasPrefix(a.ActionID, askActionPrefix):
			b.openAsk(cb, *a)
		default:
			if h, ok := b.actions[actionKind(a.ActionID)]; ok {
				req := commandRequest{user: cb.User.ID, channel: channelOf(cb), text: a.ActionID, responseURL: cb.ResponseURL}
				j := job{run: func(ctx context.Context) { h(ctx, cb, *a) }, what: "button " + a.ActionID + " by " + req.user,
					drop: func(ctx context.Context) {
						b.tell(ctx, req, ":arrows_counterclockwise: perfbot is restarting and did not take your click. Please click again in a minute.")
					}}
				if !b.submit(j) {
					b.busy(req)
				}
				continue
			}
			b.log.Debug("button ignored", "action_id", a.ActionID)
		}
	}
}

func channelOf(cb slack.InteractionCallback) string {
	if cb.Channel.ID != "" {
		return cb.Channel.ID
	}
	return cb.Container.ChannelID
}

// actionKind is the part of an action_id before the first colon.
func actionKind(id string) string {
	kind, _, _ := strings.Cut(id, ":")
	return kind
}

// ActionHandler handles one kind of button (e.g. approve/deny), keyed by the action_id's prefix.
type ActionHandler func(ctx context.Context, cb slack.InteractionCallback, a slack.BlockAction)

// HandleAction registers a button handler for action_ids "<kind>:…". Call before Run.
func (b *Bot) HandleAction(kind string, h ActionHandler) {
	if b.actions == nil {
		b.actions = map[string]ActionHandler{}
	}
	b.actions[kind] = h
}
