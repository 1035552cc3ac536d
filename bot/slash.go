package bot

import (
	"context"
	"math/rand/v2"
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
		b.busy(req.channel, req.user)
	}
}

// busy tells a user their command was not queued, without holding up the loop that acks envelopes.
func (b *Bot) busy(channel, user string) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), slackCallTimeout)
		defer cancel()
		b.ephemeral(ctx, channel, user, ":hourglass: perfbot is busy with other commands; try again in a few seconds.")
	}()
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
	live.ts = live.stop()
	rec := handlers.CommandRecord{User: req.user, Channel: req.channel, Text: req.text, Report: rep, Err: err, At: time.Now().UTC()}
	switch {
	case err != nil:
		b.showError(ctx, req, err, live)
	case rep.Approval != nil:
		if ts := b.postApproval(ctx, req, *rep.Approval); ts != "" {
			rec.ID = req.channel + ":" + ts // where the approval message is, so it can be updated later
		}
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
		err := b.update(ctx, live.channel, live.ts, opts...)
		if err == nil {
			return live.ts
		}
		// The report must arrive: post it as a new message when the placeholder cannot be updated.
		b.log.Warn("final chat.update failed; posting the report instead", "channel", live.channel, "err", err)
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
	text := errorText(err, ref, maxSectionText)
	if errs.KindOf(err) == errs.Internal {
		b.log.Error("command failed", "ref", ref, "user", req.user, "channel", req.channel, "err", err)
	} else {
		b.log.Info("command refused", "user", req.user, "kind", errs.KindOf(err), "err", err)
	}
	if live.ts != "" {
		block := slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, true), nil, nil)
		if err := b.update(ctx, live.channel, live.ts, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(block)); err == nil {
			return
		}
	}
	b.ephemeral(ctx, req.channel, req.user, text)
}

func (b *Bot) ephemeralReport(ctx context.Context, req commandRequest, rep handlers.Report) {
	text, blocks := RenderReport(rep)
	if _, err := b.api.PostEphemeralContext(ctx, req.channel, req.user, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...)); err != nil {
		b.log.Warn("ephemeral report failed", "channel", req.channel, "err", err)
	}
}

func (b *Bot) ephemeral(ctx context.Context, channel, user, text string) {
	ctx, cancel := context.WithTimeout(ctx, slackCallTimeout)
	defer cancel()
	if _, err := b.api.PostEphemeralContext(ctx, channel, user, slack.MsgOptionText(text, false)); err != nil {
		b.log.Warn("ephemeral message failed", "channel", channel, "err", err)
	}
}

// post sends a message, joining a public channel once when Slack says the bot is not in it, and
// waiting out rate limits (Retry-After) until ctx ends: in a busy incident channel many reports queue
// behind chat.postMessage's one message per second.
func (b *Bot) post(ctx context.Context, channel, threadTS string, opts ...slack.MsgOption) (string, error) {
	if threadTS != "" {
		opts = append(opts, slack.MsgOptionTS(threadTS))
	}
	joined := false
	for attempt := 0; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, slackCallTimeout)
		_, ts, err := b.api.PostMessageContext(cctx, channel, opts...)
		cancel()
		if err == nil || attempt == 30 {
			return ts, err
		}
		var rl *slack.RateLimitedError
		switch {
		case asRateLimit(err, &rl):
			select {
			case <-time.After(rl.RetryAfter + jitter()):
			case <-ctx.Done():
				return "", err
			}
		case strings.Contains(err.Error(), "not_in_channel") && !joined:
			joined = true
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

// jitter spreads retries of many waiting posts over a second, so they do not all return at once.
func jitter() time.Duration { return time.Duration(rand.Int64N(int64(time.Second))) }
