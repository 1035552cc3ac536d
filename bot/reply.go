package bot

import (
	"context"
	"net/url"
	"strings"
	"sync"

	"github.com/slack-go/slack"
)

// tell shows a message to the user of a command only. A command's response_url works in every
// channel, including direct messages and public channels the bot has not joined, so it comes first;
// chat.postEphemeral is the fallback for commands without one (those perfbot runs itself) and for a
// response_url Slack no longer accepts (used five times, or older than 30 minutes).
func (b *Bot) tell(ctx context.Context, req commandRequest, text string, blocks ...slack.Block) {
	ctx, cancel := context.WithTimeout(ctx, slackCallTimeout)
	defer cancel()
	opts := []slack.MsgOption{slack.MsgOptionText(text, false)}
	if len(blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(blocks...))
	}
	if req.responseURL != "" {
		if !b.slackURL(req.responseURL) {
			b.log.Warn("response_url ignored: not a Slack URL", "channel", req.channel)
		} else {
			ropts := append(opts, slack.MsgOptionResponseURL(req.responseURL, slack.ResponseTypeEphemeral))
			_, _, err := b.api.PostMessageContext(ctx, req.channel, ropts...)
			if err == nil {
				return
			}
			b.log.Warn("response_url failed; trying chat.postEphemeral", "channel", req.channel, "err", err)
		}
	}
	if _, err := b.api.PostEphemeralContext(ctx, req.channel, req.user, opts...); err != nil {
		b.log.Warn("ephemeral message failed", "channel", req.channel, "user", req.user, "err", err)
	}
}

// slackURL reports whether u may be posted to as a response_url: an https URL on slack.com, or a URL
// on the host of the configured Web API (the local Slack server).
func (b *Bot) slackURL(u string) bool {
	p, err := url.Parse(u)
	if err != nil || p.User != nil {
		return false
	}
	host := strings.ToLower(p.Hostname())
	switch {
	case p.Scheme == "https" && (host == "slack.com" || strings.HasSuffix(host, ".slack.com")):
		return true
	case b.apiHost != "" && p.Host == b.apiHost && (p.Scheme == "http" || p.Scheme == "https"):
		return true
	}
	return false
}

// update replaces a message. Updates to one message go one at a time, in the order they were asked
// for, so an older version never lands after a newer one; rate limits are waited out by the client's
// transport until ctx ends.
func (b *Bot) update(ctx context.Context, channel, ts string, opts ...slack.MsgOption) error {
	unlock := b.messages.lock(channel, ts)
	defer unlock()
	_, _, _, err := b.api.UpdateMessageContext(ctx, channel, ts, opts...)
	return err
}

// messageLocks serialises the changes to each message.
type messageLocks struct {
	mu    sync.Mutex
	locks map[string]*messageLock
}

type messageLock struct {
	mu   sync.Mutex
	refs int
}

// lock takes the lock of one message and returns its release.
func (m *messageLocks) lock(channel, ts string) func() {
	key := channel + "/" + ts
	m.mu.Lock()
	if m.locks == nil {
		m.locks = map[string]*messageLock{}
	}
	l := m.locks[key]
	if l == nil {
		l = &messageLock{}
		m.locks[key] = l
	}
	l.refs++
	m.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		m.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(m.locks, key)
		}
		m.mu.Unlock()
	}
}
