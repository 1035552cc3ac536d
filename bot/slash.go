package bot

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/slack-go/slack"

	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/handlers"
)

func (b *Bot) onSlash(ctx context.Context, cmd slack.SlashCommand) {
	req := commandRequest{user: cmd.UserID, channel: cmd.ChannelID, text: strings.TrimSpace(cmd.Text)}
	if !b.submit(ctx, func(ctx context.Context) { b.runCommand(ctx, req) }) {
		b.ephemeral(ctx, req.channel, req.user, ":hourglass: perfbot is busy with other commands; try again in a few seconds.")
	}
}

type commandRequest struct {
	user, channel, text string
	threadTS            string
}

// runCommand runs one command and shows its outcome: a live-updated message for reports,
// an ephemeral message for help, usage errors and refusals.
func (b *Bot) runCommand(ctx context.Context, req commandRequest) {
	live := &liveMessage{b: b, channel: req.channel, threadTS: req.threadTS, every: b.opts.UpdateEvery}
	rep, err := b.cmds.Handle(ctx, handlers.Request{Text: req.text, User: req.user, Channel: req.channel, Progress: live.progress})
	live.stop()
	rec := handlers.CommandRecord{User: req.user, Channel: req.channel, Text: req.text, Report: rep, Err: err, At: time.Now().UTC()}
	switch {
	case err != nil:
		b.showError(ctx, req, err, live)
	case rep.Approval != nil:
		b.postApproval(ctx, req, *rep.Approval)
	case rep.Markup:
		b.postMarkup(ctx, req, rep)
	case rep.Ephemeral:
		b.ephemeralReport(ctx, req, rep)
	default:
		ts := b.finish(ctx, live, rep)
		rec.ID, rec.Permalink = req.channel+":"+ts, b.permalink(req.channel, ts)
		rec.Charts = b.postCharts(ctx, req.channel, threadOf(live, req), rep)
		b.postOverflow(ctx, req.channel, threadOf(live, req), rep)
	}
	if b.opts.Hooks != nil {
		b.opts.Hooks.CommandDone(ctx, rec)
	}
}

func threadOf(live *liveMessage, req commandRequest) string {
	if req.threadTS != "" {
		return req.threadTS
	}
	return live.ts
}

// finish turns the placeholder into the final report, or posts the report when there was no placeholder.
func (b *Bot) finish(ctx context.Context, live *liveMessage, rep handlers.Report) string {
	text, blocks := RenderReport(rep)
	opts := []slack.MsgOption{slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...)}
	if live.ts != "" {
		if _, _, _, err := b.api.UpdateMessageContext(ctx, live.channel, live.ts, opts...); err != nil {
			b.log.Error("final chat.update failed", "channel", live.channel, "err", err)
		}
		return live.ts
	}
	ts, err := b.post(ctx, live.channel, live.threadTS, opts...)
	if err != nil {
		b.log.Error("posting report failed", "channel", live.channel, "err", err)
	}
	return ts
}

// showError answers privately: the user-facing message for known kinds, a reference for internal errors.
func (b *Bot) showError(ctx context.Context, req commandRequest, err error, live *liveMessage) {
	ref := uuid.NewString()[:8]
	msg := errs.UserMessage(err, ref)
	if errs.KindOf(err) == errs.Internal {
		b.log.Error("command failed", "ref", ref, "user", req.user, "channel", req.channel, "err", err)
	} else {
		b.log.Info("command refused", "user", req.user, "kind", errs.KindOf(err), "err", err)
	}
	if live.ts != "" {
		_, _, _, _ = b.api.UpdateMessageContext(ctx, live.channel, live.ts, slack.MsgOptionText(escapeMrkdwn(msg, 3000), false))
		return
	}
	b.ephemeral(ctx, req.channel, req.user, escapeMrkdwn(msg, 3000))
}

func (b *Bot) ephemeralReport(ctx context.Context, req commandRequest, rep handlers.Report) {
	text, blocks := RenderReport(rep)
	if _, err := b.api.PostEphemeralContext(ctx, req.channel, req.user, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...)); err != nil {
		b.log.Warn("ephemeral report failed", "channel", req.channel, "err", err)
	}
}

func (b *Bot) ephemeral(ctx context.Context, channel, user, text string) {
	if _, err := b.api.PostEphemeralContext(ctx, channel, user, slack.MsgOptionText(text, false)); err != nil {
		b.log.Warn("ephemeral message failed", "channel", channel, "err", err)
	}
}

// post sends a message, joining a public channel first when Slack says the bot is not in it,
// and waiting out a rate limit once.
func (b *Bot) post(ctx context.Context, channel, threadTS string, opts ...slack.MsgOption) (string, error) {
	if threadTS != "" {
		opts = append(opts, slack.MsgOptionTS(threadTS))
	}
	for attempt := 0; ; attempt++ {
		_, ts, err := b.api.PostMessageContext(ctx, channel, opts...)
		if err == nil || attempt == 2 {
			return ts, err
		}
		var rl *slack.RateLimitedError
		switch {
		case asRateLimit(err, &rl):
			select {
			case <-time.After(rl.RetryAfter):
			case <-ctx.Done():
				return "", ctx.Err()
			}
		case strings.Contains(err.Error(), "not_in_channel"):
			if _, _, _, jerr := b.api.JoinConversationContext(ctx, channel); jerr != nil {
				return "", err
			}
		default:
			return "", err
		}
	}
}

// permalink builds a message link from the workspace URL auth.test gave, without another API call.
func (b *Bot) permalink(channel, ts string) string {
	if ts == "" || b.teamURL == "" {
		return ""
	}
	return strings.TrimSuffix(b.teamURL, "/") + "/archives/" + channel + "/p" + strings.ReplaceAll(ts, ".", "")
}
