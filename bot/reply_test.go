package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/perfbot/perfbot/app"
	"github.com/perfbot/perfbot/bot"
	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/dev/slackserver"
	"github.com/perfbot/perfbot/handlers"
)

// realHandlers are the /perf command handlers over the local stack's services.
func realHandlers(t *testing.T) *handlers.Handlers {
	cfg := config.Default()
	backends := app.NewBackends(cfg, nil)
	t.Cleanup(backends.Close)
	return handlers.New(cfg, backends, slog.New(slog.DiscardHandler))
}

// TestPrivateAnswersReachUsersInChannelsTheBotHasNotJoined: /perf help and a usage error in a public
// channel the bot is not a member of still reach the user (through the command's response_url);
// chat.postEphemeral there would fail with not_in_channel.
func TestPrivateAnswersReachUsersInChannelsTheBotHasNotJoined(t *testing.T) {
	srv := slackserver.NewTestServer(t)
	ch := srv.AddChannel("general")
	srv.RemoveMember(ch, srv.BotUserID())
	srv.AddUser("U0ALICE001", "alice")
	startBot(t, srv, bot.Options{Commands: realHandlers(t)})
	for _, tc := range []struct{ text, want string }{
		{"help", "/perf assess"},
		{"logs agentic-studio 1s", "out of range"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		if _, err := srv.SlashCommand(ctx, "U0ALICE001", ch, "/perf", tc.text); err != nil {
			t.Fatal(err)
		}
		shown := func() bool {
			for _, m := range srv.Ephemerals(ch, "U0ALICE001") {
				if strings.Contains(m.Text+string(m.Blocks), tc.want) {
					return true
				}
			}
			return false
		}
		if err := srv.WaitFor(ctx, shown); err != nil {
			t.Errorf("/perf %s: the user never saw an answer with %q", tc.text, tc.want)
		}
		cancel()
	}
	if n := srv.Refusals("chat.postEphemeral", "not_in_channel"); n > 0 {
		t.Errorf("%d ephemeral messages were refused with not_in_channel", n)
	}
	if msgs := srv.Messages(ch); len(msgs) != 0 {
		t.Errorf("private answers showed in the channel: %+v", msgs)
	}
}

// TestAnEnvelopeIsAckedBeforeItIsDecoded: the reader acks an envelope from its ID alone, so even one
// whose payload cannot be decoded is acked (Slack would otherwise show the user a timeout), and the
// next command still runs.
func TestAnEnvelopeIsAckedBeforeItIsDecoded(t *testing.T) {
	srv := slackserver.NewTestServer(t, slackserver.Options{RateLimits: slackserver.RateLimits{Disabled: true}})
	ch := srv.AddChannel("perf")
	srv.AddUser("U0A1", "a")
	startBot(t, srv, bot.Options{Commands: &slowCommands{}})
	for _, payload := range []string{`"not an object"`, `[1,2]`, `{"user_id":42}`} {
		for _, typ := range []string{"slash_commands", "interactive", "events_api"} {
			id := uuid.NewString()
			raw, _ := json.Marshal(map[string]any{"envelope_id": id, "type": typ, "accepts_response_payload": typ == "slash_commands",
				"payload": json.RawMessage(payload)})
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := srv.SendRaw(ctx, raw); err != nil {
				t.Fatal(err)
			}
			if _, err := srv.WaitAck(ctx, id); err != nil {
				t.Errorf("%s envelope with payload %s: %v", typ, payload, err)
			}
			cancel()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := srv.SlashCommand(ctx, "U0A1", ch, "/perf", "assess"); err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitFor(ctx, func() bool { return countWith(srv.Messages(ch), "WARN: done") == 1 }); err != nil {
		t.Fatal("no report after the unreadable envelopes")
	}
}

// TestEveryWebAPICallWaitsOutRateLimits: with every method limited to one call a second, calls made in
// a burst through the bot's workspace (topic, posts, invites, canvases) all succeed: each waits out
// Slack's Retry-After instead of failing.
func TestEveryWebAPICallWaitsOutRateLimits(t *testing.T) {
	per := map[string]int{}
	for _, m := range []string{"conversations.setTopic", "conversations.invite", "conversations.members",
		"conversations.info", "canvases.edit", "conversations.canvases.create", "files.getUploadURLExternal",
		"files.completeUploadExternal"} {
		per[m] = 60
	}
	srv := slackserver.NewTestServer(t, slackserver.Options{RateLimits: slackserver.RateLimits{
		Tiers: true, Burst: 1, PostMessageBurst: 1, PerMinute: per}})
	ch := srv.AddChannel("inc-1")
	for _, u := range []string{"U0A1", "U0A2", "U0A3"} {
		srv.AddUser(u, strings.ToLower(u))
	}
	b := startBot(t, srv, bot.Options{Commands: &slowCommands{}})
	ws := b.Workspace()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			if err := ws.SetTopic(ctx, ch, "topic"); err != nil {
				t.Errorf("set topic %d: %v", i, err)
			}
		})
		wg.Go(func() {
			if err := ws.Post(ctx, ch, handlers.T(handlers.Plain("note"))); err != nil {
				t.Errorf("post %d: %v", i, err)
			}
		})
		wg.Go(func() {
			if err := ws.Invite(ctx, ch, []string{[]string{"U0A1", "U0A2", "U0A3"}[i]}); err != nil {
				t.Errorf("invite %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	for i := range 2 {
		if err := ws.Publish(ctx, ch, handlers.Document{Title: "Postmortem", Markdown: "# v" + string(rune('1'+i)), Filename: "pm.md"}); err != nil {
			t.Errorf("publish %d: %v", i, err)
		}
	}
	for _, m := range []string{"conversations.setTopic", "chat.postMessage", "conversations.members"} {
		if srv.Refusals(m, "ratelimited") == 0 {
			t.Errorf("%s was never rate limited: the test did not test what it should", m)
		}
	}
	if got := countWith(srv.Messages(ch), "note"); got != 3 {
		t.Errorf("%d of 3 posts arrived", got)
	}
}

// TestThrottledProgressKeepsItsOrder: with chat.update limited to one a second, progress updates
// that Slack would refuse are skipped (the next one carries them), and every message's versions go
// forward: no progress lands after the report.
func TestThrottledProgressKeepsItsOrder(t *testing.T) {
	srv := slackserver.NewTestServer(t, slackserver.Options{RateLimits: slackserver.RateLimits{
		Burst: 1, PerMinute: map[string]int{"chat.update": 60}}})
	ch := srv.AddChannel("perf")
	users := []string{"U0A1", "U0A2", "U0A3", "U0A4"}
	for _, u := range users {
		srv.AddUser(u, strings.ToLower(u))
	}
	startBot(t, srv, bot.Options{Commands: &slowCommands{}, UpdateEvery: 100 * time.Millisecond})
	for _, u := range users {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if _, err := srv.SlashCommand(ctx, u, ch, "/perf", "assess"); err != nil {
			t.Fatal(err)
		}
		cancel()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.WaitFor(ctx, func() bool { return countWith(srv.Messages(ch), "WARN: done") == len(users) }); err != nil {
		t.Fatalf("%d of %d reports arrived", countWith(srv.Messages(ch), "WARN: done"), len(users))
	}
	for _, m := range srv.Messages(ch) {
		last := -1
		for _, r := range append(m.History, slackserver.Revision{Text: m.Text}) {
			n := progressOf(r.Text)
			if n < last {
				t.Errorf("message %s went back from %d to %d: %q", m.TS, last, n, r.Text)
			}
			last = n
		}
		if !strings.Contains(m.Text, "WARN: done") {
			t.Errorf("message %s ends as %q, not as its report", m.TS, m.Text)
		}
	}
}

// progressOf is how far a message's version is: checks done while in progress, 100 for the report.
func progressOf(text string) int {
	if strings.Contains(text, "WARN: done") {
		return 100
	}
	var done, total int
	if i := strings.LastIndex(text, "… "); i >= 0 {
		_, _ = fmt.Sscanf(text[i+len("… "):], "%d/%d", &done, &total)
	}
	return done
}
