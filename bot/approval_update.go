package bot

import (
	"context"

	"github.com/slack-go/slack"

	"github.com/perfbot/perfbot/handlers"
)

// UpdateApproval shows ap in place in the approval message posted at channel and ts: its status
// and outcome, with the Approve and Deny buttons only while it is pending. The action clock calls
// it for outcomes nobody clicked for (an expiry, a recovery after a process stopped).
func (b *Bot) UpdateApproval(ctx context.Context, channel, ts string, ap handlers.Approval) error {
	text, blocks := RenderApproval(ap)
	return b.update(ctx, channel, ts, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
}
