package slackserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/perfbot/perfbot/dev/slackserver"
)

// stepClock is a clock tests move by hand.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *stepClock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func slackErr(t *testing.T, err error) slack.SlackErrorResponse {
	t.Helper()
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) {
		t.Fatalf("err = %v (%T), want a Slack error response", err, err)
	}
	return se
}

func TestPostUpdateEphemeralDeleteAreRecorded(t *testing.T) {
	srv := slackserver.NewTestServer(t)
	user, ch := workspace(srv)
	api, ctx := newAPI(srv), context.Background()

	blocks := slack.MsgOptionBlocks(slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", "Assessing… 0/9", false, false), nil, nil))
	gotCh, ts, err := api.PostMessageContext(ctx, ch, slack.MsgOptionText("Assessing", false), blocks)
	if err != nil || gotCh != ch || ts == "" {
		t.Fatalf("post: %q %q %v", gotCh, ts, err)
	}
	done := slack.MsgOptionBlocks(slack.NewHeaderBlock(slack.NewTextBlockObject("plain_text", "Done", false, false)))
	if _, _, _, err := api.UpdateMessageContext(ctx, ch, ts, slack.MsgOptionText("Done", false), done); err != nil {
		t.Fatalf("update: %v", err)
	}
	msgs := srv.Messages(ch)
	if len(msgs) != 1 || msgs[0].Edits != 1 || msgs[0].Text != "Done" || !strings.Contains(string(msgs[0].Blocks), `"header"`) {
		t.Fatalf("messages = %+v", msgs)
	}
	if h := msgs[0].History; len(h) != 1 || h[0].Text != "Assessing" || !strings.Contains(string(h[0].Blocks), "0/9") {
		t.Fatalf("history = %+v", h)
	}
	if msgs[0].User != srv.BotUserID() || msgs[0].BotID == "" {
		t.Fatalf("message author = %q/%q", msgs[0].User, msgs[0].BotID)
	}
	if _, err := api.PostEphemeralContext(ctx, ch, user, slack.MsgOptionText("only you", false)); err != nil {
		t.Fatalf("ephemeral: %v", err)
	}
	if e := srv.Ephemerals(ch, user); len(e) != 1 || e[0].Text != "only you" {
		t.Fatalf("ephemerals = %+v", e)
	}
	if _, _, err := api.DeleteMessageContext(ctx, ch, ts); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if len(srv.Messages(ch)) != 0 {
		t.Fatal("deleted message still recorded")
	}
	if srv.Calls("chat.postMessage") != 1 || srv.Calls("chat.update") != 1 {
		t.Fatalf("calls = %d, %d", srv.Calls("chat.postMessage"), srv.Calls("chat.update"))
	}
}

func TestChatErrors(t *testing.T) {
	srv := slackserver.NewTestServer(t, slackserver.Options{RateLimits: slackserver.RateLimits{Disabled: true}})
	user, ch := workspace(srv)
	outside := srv.AddChannel("no-bot")
	srv.RemoveMember(outside, srv.BotUserID())
	api, ctx := newAPI(srv), context.Background()
	_, ts, err := api.PostMessageContext(ctx, ch, slack.MsgOptionText("parent", false))
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 40001)
	cases := []struct {
		name string
		call func() error
		want string
	}{
		{"unknown channel", func() error {
			_, _, e := api.PostMessageContext(ctx, "C404", slack.MsgOptionText("hi", false))
			return e
		}, "channel_not_found"},
		{"bot not in channel", func() error {
			_, _, e := api.PostMessageContext(ctx, outside, slack.MsgOptionText("hi", false))
			return e
		}, "not_in_channel"},
		{"no text", func() error { _, _, e := api.PostMessageContext(ctx, ch); return e }, "no_text"},
		{"text over 40000", func() error { _, _, e := api.PostMessageContext(ctx, ch, slack.MsgOptionText(long, false)); return e }, "msg_too_long"},
		{"update unknown ts", func() error {
			_, _, _, e := api.UpdateMessageContext(ctx, ch, "1.000001", slack.MsgOptionText("x", false))
			return e
		}, "message_not_found"},
		{"ephemeral to a non-member", func() error {
			_, e := api.PostEphemeralContext(ctx, ch, "U0NOBODY", slack.MsgOptionText("x", false))
			return e
		}, "user_not_in_channel"},
		{"delete unknown ts", func() error { _, _, e := api.DeleteMessageContext(ctx, ch, "1.000001"); return e }, "message_not_found"},
		{"reply to unknown thread", func() error {
			_, _, e := api.PostMessageContext(ctx, ch, slack.MsgOptionText("r", false), slack.MsgOptionTS("9.000001"))
			return e
		}, "invalid_arguments"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if se := slackErr(t, tc.call()); se.Err != tc.want {
				t.Fatalf("error = %s, want %s", se.Err, tc.want)
			}
		})
	}
	_ = user
	if _, _, err := api.PostMessageContext(ctx, ch, slack.MsgOptionText("reply", false), slack.MsgOptionTS(ts)); err != nil {
		t.Fatal(err)
	}
	if m := srv.Messages(ch); len(m) != 2 || m[1].ThreadTS != ts {
		t.Fatalf("thread reply = %+v", m)
	}
}

func TestInvalidBlocksCarryTheJSONPointer(t *testing.T) {
	srv := slackserver.NewTestServer(t)
	_, ch := workspace(srv)
	api := newAPI(srv)
	long := slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", strings.Repeat("a", 3001), false, false), nil, nil)
	ok := slack.NewDividerBlock()
	_, _, err := api.PostMessageContext(context.Background(), ch, slack.MsgOptionBlocks(ok, ok, ok, long))
	se := slackErr(t, err)
	if se.Err != "invalid_blocks" {
		t.Fatalf("error = %s", se.Err)
	}
	joined := strings.Join(se.ResponseMetadata.Messages, "\n")
	if !strings.Contains(joined, "[ERROR] failed to match all allowed schemas [json-pointer:/blocks/3/text]") ||
		!strings.Contains(joined, "[json-pointer:/blocks/3/text/text]") {
		t.Fatalf("messages = %q", se.ResponseMetadata.Messages)
	}
	if len(srv.Messages(ch)) != 0 {
		t.Fatal("a rejected message was recorded")
	}
}

func TestPostMessageRateLimitPerChannel(t *testing.T) {
	clock := &stepClock{now: time.Unix(1_700_000_000, 0)}
	srv := slackserver.NewTestServer(t, slackserver.Options{
		Clock:      clock,
		RateLimits: slackserver.RateLimits{PostMessagePerSecond: 1, PostMessageBurst: 2},
	})
	_, ch := workspace(srv)
	other := srv.AddChannel("other")
	api, ctx := newAPI(srv), context.Background()
	post := func(channel string) error {
		_, _, err := api.PostMessageContext(ctx, channel, slack.MsgOptionText("x", false))
		return err
	}
	for i := range 2 {
		if err := post(ch); err != nil {
			t.Fatalf("burst post %d: %v", i, err)
		}
	}
	var rl *slack.RateLimitedError
	if err := post(ch); !errors.As(err, &rl) || rl.RetryAfter != time.Second {
		t.Fatalf("third post = %v, want RateLimitedError after 1s", err)
	}
	if err := post(other); err != nil {
		t.Fatalf("another channel has its own limit: %v", err)
	}
	clock.Add(time.Second)
	if err := post(ch); err != nil {
		t.Fatalf("after Retry-After: %v", err)
	}
}

func TestRateLimitsCanBeDisabled(t *testing.T) {
	srv := slackserver.NewTestServer(t, slackserver.Options{RateLimits: slackserver.RateLimits{Disabled: true}})
	_, ch := workspace(srv)
	api := newAPI(srv)
	for i := range 30 {
		if _, _, err := api.PostMessageContext(context.Background(), ch, slack.MsgOptionText("x", false)); err != nil {
			t.Fatalf("post %d: %v", i, err)
		}
	}
}

func TestUpdateHasItsTierLimit(t *testing.T) {
	clock := &stepClock{now: time.Unix(1_700_000_000, 0)}
	srv := slackserver.NewTestServer(t, slackserver.Options{
		Clock: clock, RateLimits: slackserver.RateLimits{PerMinute: map[string]int{"chat.update": 3}},
	})
	_, ch := workspace(srv)
	api, ctx := newAPI(srv), context.Background()
	_, ts, err := api.PostMessageContext(ctx, ch, slack.MsgOptionText("x", false))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, _, _, err := api.UpdateMessageContext(ctx, ch, ts, slack.MsgOptionText("y", false)); err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
	}
	var rl *slack.RateLimitedError
	if _, _, _, err := api.UpdateMessageContext(ctx, ch, ts, slack.MsgOptionText("z", false)); !errors.As(err, &rl) || rl.RetryAfter != 20*time.Second {
		t.Fatalf("4th update = %v, want RateLimitedError after 20s", err)
	}
}

func TestWebAPITokenChecks(t *testing.T) {
	srv := slackserver.NewTestServer(t)
	cases := []struct{ name, token, want string }{
		{"app token", srv.AppToken(), "not_allowed_token_type"},
		{"unknown bot token", "xoxb-1-2-nope", "invalid_auth"},
		{"no token", "", "not_authed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api := slack.New(tc.token, slack.OptionAPIURL(srv.APIURL()))
			if _, err := api.AuthTestContext(context.Background()); err == nil || err.Error() != tc.want {
				t.Fatalf("err = %v, want %s", err, tc.want)
			}
		})
	}
	resp, err := newAPI(srv).AuthTestContext(context.Background())
	if err != nil || resp.UserID != srv.BotUserID() || resp.TeamID != srv.TeamID() || resp.BotID == "" {
		t.Fatalf("auth.test = %+v, %v", resp, err)
	}
}

func TestPostToAUserOpensADirectMessage(t *testing.T) {
	srv := slackserver.NewTestServer(t)
	user, _ := workspace(srv)
	ch, _, err := newAPI(srv).PostMessageContext(context.Background(), user, slack.MsgOptionText("approve?", false))
	if err != nil {
		t.Fatal(err)
	}
	if ch != srv.DirectChannel(user) || !strings.HasPrefix(ch, "D") {
		t.Fatalf("DM channel = %s, want %s", ch, srv.DirectChannel(user))
	}
	if m := srv.Messages(ch); len(m) != 1 || m[0].Text != "approve?" {
		t.Fatalf("DM messages = %+v", m)
	}
}

func TestUnknownMethod(t *testing.T) {
	srv := slackserver.NewTestServer(t)
	resp, err := http.PostForm(srv.APIURL()+"chat.scheduleMessage", url.Values{"token": {srv.BotToken()}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body slack.SlackResponse
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 || body.Error != "unknown_method" {
		t.Fatalf("status %d, body %+v, err %v", resp.StatusCode, body, err)
	}
}
