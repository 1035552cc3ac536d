package bot

import (
	"context"

	"github.com/slack-go/slack"

	"github.com/perfbot/perfbot/handlers"
)

// postMarkup shows a report whose Text is perfbot's own markup (mentions kept, data already escaped).
func (b *Bot) postMarkup(ctx context.Context, req commandRequest, rep handlers.Report) {
	text := truncate(rep.Text, 3000)
	block := slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, true), nil, nil)
	opts := []slack.MsgOption{slack.MsgOptionText(truncate(rep.Text, 3900), false), slack.MsgOptionBlocks(block)}
	var err error
	if rep.Ephemeral {
		_, err = b.api.PostEphemeralContext(ctx, req.channel, req.user, opts...)
	} else {
		_, err = b.post(ctx, req.channel, req.threadTS, opts...)
	}
	if err != nil {
		b.log.Warn("message failed", "channel", req.channel, "err", err)
	}
}
