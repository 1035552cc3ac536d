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

// replyBudget bounds how long one command's answer may wait for Slack (rate limits included): in a busy
// channel many reports queue behind chat.postMessage's one message per second.
const replyBudget = 3 * time.Minute

// commandRequest is one /perf command and where its answer goes.
type commandRequest struct {
	user, channel, text string
	threadTS            string
	// responseURL answers the user privately in any channel, also where the bot is not a member;
	// empty for commands perfbot runs itself.
	responseURL string
	// entry is the command's journal entry ("" when not journaled); replay what an earlier,
	// interrupted run of it recorded there (where its placeholder and answer are).
	entry  string
	replay map[string]string
}

func (r commandRequest) String() string {
	return "/perf " + r.text + " by " + r.user + " in " + r.channel
}

func (b *Bot) onSlash(cmd slack.SlashCommand, in inbound) {
	b.queueCommand(commandRequest{user: cmd.UserID, channel: cmd.ChannelID, text: strings.TrimSpace(plainMentions(cmd.Text)),
		responseURL: cmd.ResponseURL, entry: entryOf(in), replay: in.replay})
}

// queueCommand queues a command to run; when the queue is full or the bot is stopping, the user is told.
func (b *Bot) queueCommand(req commandRequest) {
	j := job{
		run:   func(ctx context.Context) { b.runCommand(ctx, req) },
		drop:  func(ctx context.Context) { b.tell(ctx, req, restartingText(req.text)) },
		what:  req.String(),
		entry: req.entry,
	}
	if !b.submit(j) {
		b.busy(req)
	}
}

// restartingText tells a user their command was acknowledged but will not run: perfbot is stopping.
func restartingText(command string) string {
	return ":arrows_counterclockwise: perfbot is restarting and did not run " + code("/perf "+command, 300) +
		". Please run it again in a minute."
}

// busy tells a user their command was not queued, without holding up the envelopes behind it.
func (b *Bot) busy(req commandRequest) {
	text := ":hourglass: perfbot is busy with other commands; try again in a few seconds."
	if req.entry != "" {
		// Journaled: whichever replica has room first takes it up, this one included.
		b.log.Warn("command left in the journal: queue full", "work", req.String())
		b.finish(req.entry, false)
		text = ":hourglass: perfbot is busy with other commands; yours is queued and runs as soon as there is room."
	} else {
		b.log.Warn("command not queued: queue full", "work", req.String())
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), slackCallTimeout)
		defer cancel()
		b.tell(ctx, req, text)
	}()
}

// runCommand runs one command and shows its outcome in one place: the report in the message that
// showed its progress (or a new one), help, usage errors and refusals privately to the user.
func (b *Bot) runCommand(ctx context.Context, req commandRequest) {
	live := b.newLive(req)
	rep, err := b.cmds.Handle(ctx, handlers.Request{Text: req.text, User: req.user, Channel: req.channel, Progress: live.progress,
		ID: req.entry})
	placeholder := live.stop()
	rep.AskedBy = req.user
	rec := handlers.CommandRecord{User: req.user, Channel: req.channel, Text: req.text, Report: rep, Err: err, At: time.Now().UTC()}
	switch {
	case err != nil:
		b.showError(ctx, req, err, placeholder)
	case rep.Approval != nil:
		text, blocks := RenderApproval(*rep.Approval)
		if ts := b.settle(ctx, req, placeholder, text, blocks); ts == "" {
			b.log.Error("approval request not posted", "request", rep.Approval.ID, "work", req.String())
		} else {
			b.mark(req.entry, markAnswer, ts)
			rec.ID = req.channel + ":" + ts // where the approval message is, so it can be updated later
		}
	case rep.Ephemeral:
		b.ephemeralReport(ctx, req, rep)
		b.discard(ctx, req.channel, placeholder)
	default:
		text, blocks := RenderReport(rep)
		ts := b.settle(ctx, req, placeholder, text, blocks)
		if ts == "" {
			b.log.Error("report not posted; its files are not posted either", "work", req.String())
			break
		}
		b.mark(req.entry, markAnswer, ts)
		// Files go to the thread of the message that holds the report, whichever message that is.
		rec.ID, rec.Permalink = req.channel+":"+ts, b.permalink(req.channel, ts)
		thread := ts
		if req.threadTS != "" {
			thread = req.threadTS
		}
		if req.replay[markFiles] != "" {
			break // an earlier run posted them; the timeline has them
		}
		fctx, cancel := context.WithTimeout(ctx, replyBudget)
		rec.Charts = b.postCharts(fctx, req.channel, thread, rep)
		b.postOverflow(fctx, req.channel, thread, rep)
		cancel()
		b.mark(req.entry, markFiles, "posted")
	}
	if b.opts.Hooks != nil {
		b.opts.Hooks.CommandDone(ctx, rec)
	}
}

// settle puts a command's answer in its one message: the placeholder when there is one, else a new
// message (in the command's thread, if any). A placeholder that cannot be updated is replaced by a new
// message and deleted, so no "working on it" message stays behind. It returns the answer's ts ("" when
// it could not be posted).
func (b *Bot) settle(ctx context.Context, req commandRequest, placeholder, text string, blocks []slack.Block) string {
	ctx, cancel := context.WithTimeout(ctx, replyBudget)
	defer cancel()
	opts := []slack.MsgOption{slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...)}
	if placeholder != "" {
		err := b.update(ctx, req.channel, placeholder, opts...)
		if err == nil {
			return placeholder
		}
		b.log.Warn("final chat.update failed; posting a new message instead", "channel", req.channel, "err", err)
	}
	ts, err := b.post(ctx, req.channel, req.threadTS, opts...)
	if err != nil {
		b.log.Error("posting the answer failed", "channel", req.channel, "err", err)
		return ""
	}
	b.discard(ctx, req.channel, placeholder)
	return ts
}

// discard deletes a placeholder that no longer holds anything ("" is nothing to delete).
func (b *Bot) discard(ctx context.Context, channel, ts string) {
	if ts == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, replyBudget)
	defer cancel()
	unlock := b.messages.lock(channel, ts)
	defer unlock()
	if _, _, err := b.api.DeleteMessageContext(ctx, channel, ts); err != nil {
		b.log.Warn("deleting a placeholder failed", "channel", channel, "ts", ts, "err", err)
	}
}

// showError answers privately: the user-facing message for known kinds, a reference for internal
// errors. A command that already showed progress in the channel shows its failure there instead.
func (b *Bot) showError(ctx context.Context, req commandRequest, err error, placeholder string) {
	ref := uuid.NewString()[:8]
	text := errorText(err, ref, maxSectionText)
	if errs.KindOf(err) == errs.Internal {
		b.log.Error("command failed", "ref", ref, "user", req.user, "channel", req.channel, "err", err)
	} else {
		b.log.Info("command refused", "user", req.user, "kind", errs.KindOf(err), "err", err)
	}
	if placeholder != "" {
		block := slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, true), nil, nil)
		if b.settle(ctx, req, placeholder, text, []slack.Block{block}) != "" {
			return
		}
	}
	b.tell(ctx, req, text)
}

func (b *Bot) ephemeralReport(ctx context.Context, req commandRequest, rep handlers.Report) {
	text, blocks := RenderReport(rep)
	b.tell(ctx, req, text, blocks...)
}

// post sends a message, joining a public channel once when Slack says the bot is not in it. Rate
// limits are waited out by the client's transport (see throttle) until ctx ends.
func (b *Bot) post(ctx context.Context, channel, threadTS string, opts ...slack.MsgOption) (string, error) {
	if threadTS != "" {
		opts = append(opts, slack.MsgOptionTS(threadTS))
	}
	_, ts, err := b.api.PostMessageContext(ctx, channel, opts...)
	if slackError(err, "not_in_channel") {
		if _, _, _, jerr := b.api.JoinConversationContext(ctx, channel); jerr != nil {
			return "", err
		}
		_, ts, err = b.api.PostMessageContext(ctx, channel, opts...)
	}
	return ts, err
}

// permalink builds a message link from the workspace URL auth.test gave, without another API call.
func (b *Bot) permalink(channel, ts string) string {
	if ts == "" || b.teamURL == "" {
		return ""
	}
	return strings.TrimSuffix(b.teamURL, "/") + "/archives/" + channel + "/p" + strings.ReplaceAll(ts, ".", "")
}
