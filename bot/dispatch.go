package bot

import (
	"context"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// dispatch acks every envelope at once, before any work, then hands the work to the pool.
func (b *Bot) dispatch(ctx context.Context, evt socketmode.Event) {
	if evt.Request != nil && evt.Request.EnvelopeID != "" {
		if err := b.sm.AckCtx(ctx, evt.Request.EnvelopeID, nil); err != nil {
			b.log.Warn("ack failed", "envelope", evt.Request.EnvelopeID, "err", err)
		}
	}
	switch evt.Type {
	case socketmode.EventTypeSlashCommand:
		if cmd, ok := evt.Data.(slack.SlashCommand); ok {
			b.onSlash(ctx, cmd)
		}
	case socketmode.EventTypeInteractive:
		if cb, ok := evt.Data.(slack.InteractionCallback); ok {
			b.onInteraction(ctx, cb)
		}
	case socketmode.EventTypeEventsAPI:
		if ev, ok := evt.Data.(slackevents.EventsAPIEvent); ok {
			b.onEventsAPI(ctx, ev, evt.Request)
		}
	case socketmode.EventTypeDisconnect:
		b.log.Info("slack asked to reconnect")
	case socketmode.EventTypeConnectionError, socketmode.EventTypeErrorBadMessage, socketmode.EventTypeIncomingError:
		b.log.Warn("socket mode trouble", "type", evt.Type, "data", evt.Data)
	default:
		b.log.Debug("socket mode event", "type", evt.Type)
	}
}
