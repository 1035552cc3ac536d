package slackserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/perfbot/perfbot/dev/slackserver"
)

func TestSlashCommandIsDeliveredAndAcked(t *testing.T) {
	srv := slackserver.NewTestServer(t)
	user, ch := workspace(srv)
	a := startApp(t, srv)

	errc := make(chan error, 1)
	go func() {
		_, err := srv.SlashCommand(context.Background(), user, ch, "/perf", "assess studio")
		errc <- err
	}()
	e := a.next(t, socketmode.EventTypeSlashCommand)
	cmd := e.Data.(slack.SlashCommand)
	if cmd.Command != "/perf" || cmd.Text != "assess studio" || cmd.UserID != user || cmd.ChannelID != ch {
		t.Fatalf("slash command = %+v", cmd)
	}
	if !strings.HasPrefix(cmd.ResponseURL, "http://"+srv.Addr()+"/commands/") || cmd.TriggerID == "" || cmd.UserName != "alice" {
		t.Fatalf("response_url/trigger_id/user_name missing: %+v", cmd)
	}
	if !e.Request.AcceptsResponsePayload {
		t.Fatal("slash_commands envelopes accept a response payload")
	}
	if err := a.sm.Ack(*e.Request); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("SlashCommand: %v", err)
	}
	acks := srv.Acks()
	if len(acks) != 1 || acks[0].Type != "slash_commands" || acks[0].EnvelopeID != e.Request.EnvelopeID {
		t.Fatalf("acks = %+v", acks)
	}
}

func TestSlashCommandWithoutAckFails(t *testing.T) {
	srv := slackserver.NewTestServer(t, slackserver.Options{AckTimeout: 300 * time.Millisecond})
	user, ch := workspace(srv)
	a := startApp(t, srv)
	go func() { _, _ = a.wait(socketmode.EventTypeSlashCommand) }() // received, never acked

	_, err := srv.SlashCommand(context.Background(), user, ch, "/perf", "db")
	if !errors.Is(err, slackserver.ErrNotAcked) {
		t.Fatalf("err = %v, want ErrNotAcked", err)
	}
}

func TestSlashCommandAckPayloadIsShownToTheUser(t *testing.T) {
	srv := slackserver.NewTestServer(t)
	user, ch := workspace(srv)
	a := startApp(t, srv)
	go func() {
		if e, err := a.wait(socketmode.EventTypeSlashCommand); err == nil {
			_ = a.sm.Ack(*e.Request, map[string]any{"text": "Usage: /perf help"})
		}
	}()
	if _, err := srv.SlashCommand(context.Background(), user, ch, "/perf", "bogus"); err != nil {
		t.Fatal(err)
	}
	eph := srv.Ephemerals(ch, user)
	if len(eph) != 1 || eph[0].Text != "Usage: /perf help" {
		t.Fatalf("ephemerals = %+v", eph)
	}
	if len(srv.Messages(ch)) != 0 {
		t.Fatal("an ephemeral ack reply must not be a channel message")
	}
}

func TestUnackedEventIsRedelivered(t *testing.T) {
	srv := slackserver.NewTestServer(t, slackserver.Options{
		RedeliveryTimeout: 150 * time.Millisecond,
		RedeliveryDelays:  []time.Duration{0, 0},
	})
	_, ch := workspace(srv)
	a := startApp(t, srv)

	errc := make(chan error, 1)
	go func() {
		_, err := srv.SendEvent(ctxT(t, 5*time.Second), map[string]any{
			"type": "reaction_added", "user": "U0ALICE001", "reaction": "eyes",
			"item": map[string]any{"type": "message", "channel": ch, "ts": "1700000000.000100"},
		})
		errc <- err
	}()
	first := a.next(t, socketmode.EventTypeEventsAPI) // dropped on purpose
	if first.Request.RetryAttempt != 0 {
		t.Fatalf("first attempt retry_attempt = %d", first.Request.RetryAttempt)
	}
	second := a.next(t, socketmode.EventTypeEventsAPI)
	if second.Request.RetryAttempt != 1 || second.Request.RetryReason != "timeout" {
		t.Fatalf("retry = %d %q", second.Request.RetryAttempt, second.Request.RetryReason)
	}
	ev := second.Data.(slackevents.EventsAPIEvent)
	if _, ok := ev.InnerEvent.Data.(*slackevents.ReactionAddedEvent); !ok {
		t.Fatalf("inner event = %T", ev.InnerEvent.Data)
	}
	_ = a.sm.Ack(*second.Request)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if acks := srv.Acks(); len(acks) != 1 || acks[0].Attempt != 1 {
		t.Fatalf("acks = %+v", acks)
	}
}

func TestEventNeverAckedGivesUp(t *testing.T) {
	srv := slackserver.NewTestServer(t, slackserver.Options{
		RedeliveryTimeout: 50 * time.Millisecond,
		RedeliveryDelays:  []time.Duration{0},
	})
	a := startApp(t, srv)
	go func() {
		_, _ = a.wait(socketmode.EventTypeEventsAPI)
		_, _ = a.wait(socketmode.EventTypeEventsAPI)
	}()
	_, err := srv.SendEvent(ctxT(t, 5*time.Second), map[string]any{"type": "pin_added", "user": "U1", "channel_id": "C1"})
	if !errors.Is(err, slackserver.ErrNotAcked) {
		t.Fatalf("err = %v, want ErrNotAcked after the retries", err)
	}
}

func TestDisconnectMakesSlackGoReconnect(t *testing.T) {
	for _, reason := range []string{"refresh_requested", "warning", "link_disabled"} {
		t.Run(reason, func(t *testing.T) {
			srv := slackserver.NewTestServer(t)
			user, ch := workspace(srv)
			a := startApp(t, srv)

			srv.Disconnect(reason)
			a.next(t, socketmode.EventTypeConnecting)
			a.next(t, socketmode.EventTypeHello)
			if err := srv.WaitFor(ctxT(t, 5*time.Second), func() bool { return srv.Sockets() == 1 }); err != nil {
				t.Fatalf("sockets after reconnect = %d: %v", srv.Sockets(), err)
			}
			a.ackAll(t)
			if _, err := srv.SlashCommand(context.Background(), user, ch, "/perf", "assess"); err != nil {
				t.Fatalf("command after reconnect: %v", err)
			}
		})
	}
}

func TestEnvelopesAreSpreadRoundRobin(t *testing.T) {
	srv := slackserver.NewTestServer(t)
	user, ch := workspace(srv)
	var counts [2]atomic.Int32
	for i := range 2 {
		a := startApp(t, srv)
		go func() {
			for e := range a.events {
				if e.Type == socketmode.EventTypeSlashCommand {
					counts[i].Add(1)
					_ = a.sm.Ack(*e.Request)
				}
			}
		}()
	}
	for range 6 {
		if _, err := srv.SlashCommand(context.Background(), user, ch, "/perf", "help"); err != nil {
			t.Fatal(err)
		}
	}
	if counts[0].Load() != 3 || counts[1].Load() != 3 {
		t.Fatalf("envelopes per socket = %d, %d; want 3, 3", counts[0].Load(), counts[1].Load())
	}
}

// dialRaw opens a Socket Mode connection with gorilla directly and returns it with its first message.
func dialRaw(t *testing.T, srv *slackserver.Server) (*websocket.Conn, map[string]any) {
	t.Helper()
	_, url, err := newAPI(srv).StartSocketModeContext(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	conn, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	var first map[string]any
	if err := conn.ReadJSON(&first); err != nil {
		t.Fatal(err)
	}
	return conn, first
}

func TestEleventhSocketIsRefused(t *testing.T) {
	srv := slackserver.NewTestServer(t)
	for i := range 10 {
		if _, hello := dialRaw(t, srv); hello["type"] != "hello" || hello["num_connections"] != float64(i+1) {
			t.Fatalf("socket %d: %v", i+1, hello)
		}
	}
	_, msg := dialRaw(t, srv)
	if msg["type"] != "disconnect" || msg["reason"] != "too_many_websockets" {
		t.Fatalf("11th socket got %v", msg)
	}
	if srv.Sockets() != 10 {
		t.Fatalf("sockets = %d", srv.Sockets())
	}
}

func TestServerPingsEverySocket(t *testing.T) {
	srv := slackserver.NewTestServer(t, slackserver.Options{PingInterval: 30 * time.Millisecond})
	conn, _ := dialRaw(t, srv)
	pings := make(chan string, 16)
	conn.SetPingHandler(func(data string) error {
		pings <- data
		return conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	go func() {
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
		}
	}()
	for i := range 3 {
		select {
		case <-pings:
		case <-time.After(2 * time.Second):
			t.Fatalf("only %d pings", i)
		}
	}
}

func TestTicketIsSingleUse(t *testing.T) {
	srv := slackserver.NewTestServer(t)
	_, url, err := newAPI(srv).StartSocketModeContext(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(url, "ws://"+srv.Addr()+"/link/?ticket=") {
		t.Fatalf("url = %s", url)
	}
	conn, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.Close()
	if _, resp, err := websocket.DefaultDialer.Dial(url, nil); err == nil || resp.StatusCode != 401 {
		t.Fatalf("second dial with the same ticket: err=%v", err)
	}
}

func TestConnectionsOpenChecksTokenKind(t *testing.T) {
	srv := slackserver.NewTestServer(t)
	cases := []struct{ name, bot, app, want string }{
		{"bot token as app token", srv.BotToken(), srv.BotToken(), "not_allowed_token_type"},
		{"unknown token", srv.BotToken(), "xapp-1-nope", "invalid_auth"},
		{"no token", srv.BotToken(), "", "not_authed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api := slack.New(tc.bot, slack.OptionAPIURL(srv.APIURL()), slack.OptionAppLevelToken(tc.app))
			_, _, err := api.StartSocketModeContext(context.Background())
			if err == nil || err.Error() != tc.want {
				t.Fatalf("err = %v, want %s", err, tc.want)
			}
		})
	}
	app := slack.New(srv.AppToken(), slack.OptionAPIURL(srv.APIURL()))
	if _, err := app.AuthTestContext(context.Background()); err == nil || err.Error() != "not_allowed_token_type" {
		t.Fatalf("auth.test with the app token: %v", err)
	}
}

func TestSendRawAcceptsAnyJSONObject(t *testing.T) {
	srv := slackserver.NewTestServer(t)
	if err := srv.SendRaw(context.Background(), json.RawMessage(`not json`)); err == nil {
		t.Fatal("SendRaw accepted invalid JSON")
	}
}
