package bot

import (
	"encoding/json"
	"runtime/debug"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// dispatch decodes an acked envelope and hands its work to the pool.
func (b *Bot) dispatch(in inbound) {
	defer func() {
		if v := recover(); v != nil {
			b.log.Error("envelope handling panicked", "type", in.typ, "panic", v, "stack", string(debug.Stack()))
		}
	}()
	var env struct {
		Payload      json.RawMessage `json:"payload"`
		RetryAttempt int             `json:"retry_attempt"`
	}
	if err := json.Unmarshal(in.raw, &env); err != nil {
		b.log.Warn("unreadable envelope", "type", in.typ, "envelope", in.id, "err", err)
		b.finish(entryOf(in), true)
		return
	}
	switch in.typ {
	case "slash_commands":
		var cmd slack.SlashCommand
		if err := json.Unmarshal(env.Payload, &cmd); err != nil {
			b.log.Warn("unreadable slash command", "envelope", in.id, "err", err)
			b.finish(entryOf(in), true)
			return
		}
		b.onSlash(cmd, in)
		return
	case "interactive":
		var cb slack.InteractionCallback
		if err := json.Unmarshal(env.Payload, &cb); err != nil {
			b.log.Warn("unreadable interaction", "envelope", in.id, "err", err)
			return
		}
		b.onInteraction(cb)
	case "events_api":
		ev, err := slackevents.ParseEvent(env.Payload, slackevents.OptionNoVerifyToken())
		if err != nil {
			b.log.Warn("unreadable event", "envelope", in.id, "err", err)
			b.finish(entryOf(in), true)
			return
		}
		if b.onEventsAPI(ev, env.RetryAttempt, entryOf(in)) {
			return
		}
	default:
		b.log.Debug("socket mode envelope ignored", "type", in.typ)
	}
	b.finish(entryOf(in), true) // nothing was queued for it: it is done
}

// entryOf is an envelope's journal entry, "" when it is not journaled.
func entryOf(in inbound) string {
	if !in.journaled {
		return ""
	}
	return in.id
}
