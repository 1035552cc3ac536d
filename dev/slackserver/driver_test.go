package slackserver_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/perfbot/perfbot/dev/slackserver"
)

// TestActingUserJoinsOnlyPublicChannels checks that a slash command or click joins the
// user to a public channel, as opening it in Slack does, but never to a private channel
// or someone else's DM, which need an explicit AddMember.
func TestActingUserJoinsOnlyPublicChannels(t *testing.T) {
	srv := slackserver.NewTestServer(t)
	alice, public := workspace(srv)
	const bob = "U0BOB00001"
	srv.AddUser(bob, "bob")
	a := startApp(t, srv)
	a.ackAll(t)
	ctx := ctxT(t, 10*time.Second)
	private, err := a.api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: "sec-private", IsPrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	srv.AddMember(private.ID, alice)
	dm := srv.DirectChannel(alice)
	_, ts, err := a.api.PostMessageContext(ctx, private.ID, slack.MsgOptionBlocks(slack.NewActionBlock("b",
		slack.NewButtonBlockElement("ok", "v", slack.NewTextBlockObject("plain_text", "OK", false, false)))))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("public channel is joined", func(t *testing.T) {
		if _, err := srv.SlashCommand(ctx, bob, public, "/perf", "help"); err != nil {
			t.Fatal(err)
		}
		if !isMember(srv, public, bob) {
			t.Fatal("bob typed in a public channel but is not a member")
		}
	})
	refused := map[string]func() error{
		"slash command in a private channel": func() error { _, err := srv.SlashCommand(ctx, bob, private.ID, "/perf", "help"); return err },
		"click in a private channel":         func() error { return srv.ClickButton(ctx, bob, private.ID, ts, "ok", "") },
		"slash command in another user's DM": func() error { _, err := srv.SlashCommand(ctx, bob, dm, "/perf", "help"); return err },
	}
	for name, act := range refused {
		t.Run(name, func(t *testing.T) {
			acks := len(srv.Acks())
			if err := act(); !errors.Is(err, slackserver.ErrNotInChannel) {
				t.Fatalf("err = %v, want ErrNotInChannel", err)
			}
			if isMember(srv, private.ID, bob) || isMember(srv, dm, bob) || len(srv.Acks()) != acks {
				t.Fatal("a refused action joined bob or reached the app")
			}
		})
	}
	t.Run("private channel after AddMember", func(t *testing.T) {
		if _, err := srv.SlashCommand(ctx, alice, private.ID, "/perf", "help"); err != nil {
			t.Fatalf("member alice: %v", err)
		}
		srv.AddMember(private.ID, bob)
		if err := srv.ClickButton(ctx, bob, private.ID, ts, "ok", ""); err != nil {
			t.Fatalf("bob after AddMember: %v", err)
		}
	})
}

func isMember(srv *slackserver.Server, channelID, userID string) bool {
	c, ok := srv.Channel(channelID)
	return ok && slices.Contains(c.Members, userID)
}

// slashResponseURL runs a slash command and returns the response_url the app received.
func slashResponseURL(t *testing.T, srv *slackserver.Server, a *app, user, channel string) string {
	t.Helper()
	urls := make(chan string, 1)
	go func() {
		if e, err := a.wait("slash_commands"); err == nil {
			urls <- e.Data.(slack.SlashCommand).ResponseURL
			_ = a.sm.Ack(*e.Request)
		}
	}()
	if _, err := srv.SlashCommand(context.Background(), user, channel, "/perf", "assess"); err != nil {
		t.Fatal(err)
	}
	select {
	case u := <-urls:
		return u
	case <-time.After(5 * time.Second):
		t.Fatal("no slash command reached the app")
		return ""
	}
}

// TestResponseURLThreadsLikePostMessage checks that thread_ts on a response_url reply
// names the thread's parent, as chat.postMessage resolves it, and that an unknown one fails.
func TestResponseURLThreadsLikePostMessage(t *testing.T) {
	srv := slackserver.NewTestServer(t)
	user, ch := workspace(srv)
	a := startApp(t, srv)
	ctx := ctxT(t, 10*time.Second)
	_, parent, err := a.api.PostMessageContext(ctx, ch, slack.MsgOptionText("report", false))
	if err != nil {
		t.Fatal(err)
	}
	_, reply, err := a.api.PostMessageContext(ctx, ch, slack.MsgOptionText("first reply", false), slack.MsgOptionTS(parent))
	if err != nil {
		t.Fatal(err)
	}
	url := slashResponseURL(t, srv, a, user, ch)
	for _, tc := range []struct {
		name, respType, threadTS, wantErr string
	}{
		{"in_channel, thread_ts of a reply", slack.ResponseTypeInChannel, reply, ""},
		{"ephemeral, thread_ts of a reply", slack.ResponseTypeEphemeral, reply, ""},
		{"in_channel, unknown thread_ts", slack.ResponseTypeInChannel, "1.000001", "invalid_arguments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := a.api.PostEphemeralContext(ctx, ch, user, slack.MsgOptionResponseURL(url, tc.respType),
				slack.MsgOptionText(tc.name, false), slack.MsgOptionTS(tc.threadTS))
			if tc.wantErr != "" {
				if err == nil || !containsErr(err, tc.wantErr) {
					t.Fatalf("err = %v, want %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := lastWithText(append(srv.Messages(ch), srv.Ephemerals(ch, user)...), tc.name)
			if got == nil || got.ThreadTS != parent {
				t.Fatalf("reply = %+v, want thread_ts %s (the parent)", got, parent)
			}
		})
	}
}

// containsErr reports whether err is the Slack error code (slack-go returns response_url
// errors as SlackErrorResponse, or as their bare code).
func containsErr(err error, code string) bool {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err == code
	}
	return err != nil && err.Error() == code
}

func lastWithText(msgs []slackserver.Message, text string) *slackserver.Message {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Text == text {
			return &msgs[i]
		}
	}
	return nil
}

// TestResponseURLUsesCountOnlyAcceptedMessages checks that refused bodies do not spend
// the response_url's five uses, and that the sixth accepted one is refused.
func TestResponseURLUsesCountOnlyAcceptedMessages(t *testing.T) {
	srv := slackserver.NewTestServer(t)
	user, ch := workspace(srv)
	a := startApp(t, srv)
	ctx := ctxT(t, 10*time.Second)
	url := slashResponseURL(t, srv, a, user, ch)
	post := func(opts ...slack.MsgOption) error {
		_, err := a.api.PostEphemeralContext(ctx, ch, user, append([]slack.MsgOption{slack.MsgOptionResponseURL(url, slack.ResponseTypeInChannel)}, opts...)...)
		return err
	}
	for i := range 6 {
		if err := post(slack.MsgOptionText("", false)); err == nil {
			t.Fatalf("empty body %d accepted", i)
		}
	}
	for i := range 5 {
		if err := post(slack.MsgOptionText("ok", false)); err != nil {
			t.Fatalf("accepted message %d after refused ones: %v", i+1, err)
		}
	}
	if err := post(slack.MsgOptionText("sixth", false)); err == nil {
		t.Fatal("a response_url is usable 5 times only")
	}
	if n := len(srv.Messages(ch)); n != 5 {
		t.Fatalf("%d messages shown, want 5", n)
	}
}
