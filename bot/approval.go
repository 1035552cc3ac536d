package bot

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/slack-go/slack"

	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/handlers"
	"github.com/perfbot/perfbot/internal/textfmt"
)

// Decider applies Approve/Deny clicks.
type Decider interface {
	Decide(ctx context.Context, id, user string, approve bool) (handlers.Report, error)
}

// HandleApprovals routes the approval buttons ("approve:<id>", "deny:<id>") to d.
func (b *Bot) HandleApprovals(d Decider) {
	decide := func(approve bool) ActionHandler {
		return func(ctx context.Context, cb slack.InteractionCallback, a slack.BlockAction) {
			b.decide(ctx, d, cb, a, approve)
		}
	}
	b.HandleAction("approve", decide(true))
	b.HandleAction("deny", decide(false))
}

func (b *Bot) decide(ctx context.Context, d Decider, cb slack.InteractionCallback, a slack.BlockAction, approve bool) {
	_, id, _ := strings.Cut(a.ActionID, ":")
	channel, ts := channelOf(cb), cb.Container.MessageTs
	rep, err := d.Decide(ctx, id, cb.User.ID, approve)
	if err != nil {
		ref := uuid.NewString()[:8]
		if errs.KindOf(err) == errs.Internal {
			b.log.Error("approval failed", "ref", ref, "request", id, "user", cb.User.ID, "err", err)
		} else {
			b.log.Info("approval refused", "request", id, "user", cb.User.ID, "err", err)
		}
		req := commandRequest{user: cb.User.ID, channel: channel, responseURL: cb.ResponseURL}
		b.tell(ctx, req, errorText(err, ref, maxSectionText))
		return
	}
	ctx, cancel := context.WithTimeout(ctx, replyBudget)
	defer cancel()
	text, blocks := RenderApproval(*rep.Approval)
	if err := b.update(ctx, channel, ts, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...)); err != nil {
		b.log.Warn("approval message update failed", "request", id, "err", err)
	}
	if rep.Approval.Result != "" {
		_, _ = b.post(ctx, channel, ts, slack.MsgOptionText(fmt.Sprintf("%s %s: %s", statusMark(rep.Approval.Status),
			escapeTrunc(rep.Approval.Summary, 500), escapeTrunc(rep.Approval.Result, 2500)), false))
	}
}

// RenderApproval shows who asks for what, the change and its dry run, who may approve and until when,
// with Approve (confirmed) and Deny buttons while the request is pending, and the outcome after.
func RenderApproval(ap handlers.Approval) (string, []slack.Block) {
	var b strings.Builder
	fmt.Fprintf(&b, "*%s* requested by %s\n", escapeTrunc(ap.Summary, 500), userMention(ap.RequestedBy))
	for _, c := range ap.Changes {
		fmt.Fprintf(&b, "• %s: %s → *%s*\n", escapeTrunc(c.What, 200), escapeTrunc(c.From, 200), escapeTrunc(c.To, 200))
	}
	if ap.DryRun != "" {
		fmt.Fprintf(&b, "Dry run: %s\n", escapeTrunc(ap.DryRun, 600))
	}
	for _, w := range ap.Warnings {
		fmt.Fprintf(&b, ":warning: %s\n", escapeTrunc(w, 400))
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, plain(statusMark(ap.Status)+" Approval: "+ap.Summary, 150), true, false)),
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, textfmt.Truncate(b.String(), 3000), false, false), nil, nil),
	}
	ctxText := fmt.Sprintf("Status: *%s*", escapeLine(ap.Status, 40))
	if ap.DecidedBy != "" {
		ctxText += " by " + userMention(ap.DecidedBy)
	}
	if ap.Status == "pending" {
		ctxText += fmt.Sprintf(" · may approve: %s · expires <!date^%d^{time}|%s UTC>", approverList(ap), ap.ExpiresAt.Unix(), ap.ExpiresAt.UTC().Format("15:04"))
	}
	if ap.Result != "" {
		ctxText += " · " + escapeTrunc(ap.Result, 1500)
	}
	blocks = append(blocks, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, textfmt.Truncate(ctxText, 3000), false, false)))
	if ap.Status == "pending" {
		approve := slack.NewButtonBlockElement("approve:"+ap.ID, ap.ID, slack.NewTextBlockObject(slack.PlainTextType, "Approve", false, false)).WithStyle(slack.StylePrimary)
		approve.Confirm = slack.NewConfirmationBlockObject(
			slack.NewTextBlockObject(slack.PlainTextType, "Approve this change?", false, false),
			slack.NewTextBlockObject(slack.MarkdownType, escapeTrunc(ap.Summary, 250), false, false),
			slack.NewTextBlockObject(slack.PlainTextType, "Approve", false, false),
			slack.NewTextBlockObject(slack.PlainTextType, "Cancel", false, false))
		deny := slack.NewButtonBlockElement("deny:"+ap.ID, ap.ID, slack.NewTextBlockObject(slack.PlainTextType, "Deny", false, false)).WithStyle(slack.StyleDanger)
		blocks = append(blocks, slack.NewActionBlock("approval", approve, deny))
	}
	return plain(fmt.Sprintf("Approval %s: %s", ap.Status, ap.Summary), 3000), blocks
}

func statusMark(status string) string {
	switch status {
	case "succeeded":
		return "✅"
	case "failed":
		return "❌"
	case "denied", "expired":
		return "⛔"
	case "pending":
		return "⏳"
	}
	return "⚙️"
}

// userMention mentions a Slack user ID; anything that is not one is shown as escaped text.
func userMention(id string) string {
	if m := mention(handlers.PieceUser, id); m != "" {
		return m
	}
	return escapeLine(id, 60)
}

// approverList names who may approve: the listed users and the group, as mentions. The requester
// is left out (nobody approves their own change); a group they belong to is "other members".
func approverList(ap handlers.Approval) string {
	var parts []string
	others := slices.DeleteFunc(slices.Clone(ap.Approvers), func(id string) bool { return id == ap.RequestedBy })
	for i, id := range others {
		if i == 10 {
			parts = append(parts, fmt.Sprintf("and %d more", len(others)-10))
			break
		}
		parts = append(parts, userMention(id))
	}
	if m := mention(handlers.PieceGroup, ap.ApproverGroup); m != "" {
		parts = append(parts, "members of "+m+" but the requester")
	}
	if len(parts) == 0 {
		return "nobody is configured (actions.approvers)"
	}
	return strings.Join(parts, ", ")
}
