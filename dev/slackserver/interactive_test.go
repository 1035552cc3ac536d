package slackserver_test

import (
	"context"
	"testing"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/perfbot/perfbot/dev/slackserver"
)

func TestClickButtonSendsBlockActions(t *testing.T) {
	srv := slackserver.NewTestServer(t)
	user, ch := workspace(srv)
	a := startApp(t, srv)
	ctx := context.Background()
	btns := slack.NewActionBlock("next",
		slack.NewButtonBlockElement("db", "db:studio", slack.NewTextBlockObject("plain_text", "DB details", false, false)),
		slack.NewButtonBlockElement("logs", "logs:studio", slack.NewTextBlockObject("plain_text", "Logs", false, false)))
	_, ts, err := a.api.PostMessageContext(ctx, ch, slack.MsgOptionText("report", false), slack.MsgOptionBlocks(btns))
	if err != nil {
		t.Fatal(err)
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.ClickButton(ctx, user, ch, ts, "logs", "") }()
	e := a.next(t, socketmode.EventTypeInteractive)
	cb := e.Data.(slack.InteractionCallback)
	if cb.Type != slack.InteractionTypeBlockActions || cb.User.ID != user || cb.Container.MessageTs != ts || cb.Container.ChannelID != ch {
		t.Fatalf("callback = %+v", cb)
	}
	acts := cb.ActionCallback.BlockActions
	if len(acts) != 1 || acts[0].ActionID != "logs" || acts[0].Value != "logs:studio" || acts[0].BlockID != "next" {
		t.Fatalf("actions = %+v", acts)
	}
	if cb.Message.Timestamp != ts || len(cb.Message.Blocks.BlockSet) != 1 || cb.ResponseURL == "" || cb.TriggerID == "" {
		t.Fatalf("message/response_url/trigger_id = %+v", cb)
	}
	_ = a.sm.Ack(*e.Request)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}

	// The response_url replaces the original message, as a click handler would.
	_, err = a.api.PostEphemeralContext(ctx, ch, user, slack.MsgOptionReplaceOriginal(cb.ResponseURL),
		slack.MsgOptionText("Logs for studio", false))
	if err != nil {
		t.Fatalf("response_url: %v", err)
	}
	m, _ := srv.Message(ch, ts)
	if m.Text != "Logs for studio" || m.Edits != 1 {
		t.Fatalf("original after replace_original = %+v", m)
	}
}

func TestClickButtonRefusesWhatSlackCannotSend(t *testing.T) {
	srv := slackserver.NewTestServer(t)
	user, ch := workspace(srv)
	api, ctx := newAPI(srv), context.Background()
	_, ts, err := api.PostMessageContext(ctx, ch, slack.MsgOptionBlocks(slack.NewActionBlock("b",
		slack.NewButtonBlockElement("ok", "v1", slack.NewTextBlockObject("plain_text", "OK", false, false)))))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]func() error{
		"unknown action":  func() error { return srv.ClickButton(ctx, user, ch, ts, "nope", "") },
		"other value":     func() error { return srv.ClickButton(ctx, user, ch, ts, "ok", "v2") },
		"unknown message": func() error { return srv.ClickButton(ctx, user, ch, "1.000001", "ok", "") },
		"unknown user":    func() error { return srv.ClickButton(ctx, "U404", ch, ts, "ok", "") },
	}
	for name, click := range cases {
		t.Run(name, func(t *testing.T) {
			if err := click(); err == nil {
				t.Fatal("click accepted")
			}
		})
	}
}

func TestResponseURLPostsInChannelOrEphemeral(t *testing.T) {
	srv := slackserver.NewTestServer(t)
	user, ch := workspace(srv)
	a := startApp(t, srv)
	urls := make(chan string, 1)
	go func() {
		if e, err := a.wait(socketmode.EventTypeSlashCommand); err == nil {
			urls <- e.Data.(slack.SlashCommand).ResponseURL
			_ = a.sm.Ack(*e.Request)
		}
	}()
	if _, err := srv.SlashCommand(context.Background(), user, ch, "/perf", "assess"); err != nil {
		t.Fatal(err)
	}
	url := <-urls
	ctx := context.Background()
	if _, err := a.api.PostEphemeralContext(ctx, ch, user, slack.MsgOptionResponseURL(url, slack.ResponseTypeEphemeral),
		slack.MsgOptionText("working…", false)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.api.PostEphemeralContext(ctx, ch, user, slack.MsgOptionResponseURL(url, slack.ResponseTypeInChannel),
		slack.MsgOptionText("report", false)); err != nil {
		t.Fatal(err)
	}
	if e := srv.Ephemerals(ch, user); len(e) != 1 || e[0].Text != "working…" {
		t.Fatalf("ephemerals = %+v", e)
	}
	if m := srv.Messages(ch); len(m) != 1 || m[0].Text != "report" {
		t.Fatalf("messages = %+v", m)
	}
	for range 3 {
		_, _ = a.api.PostEphemeralContext(ctx, ch, user, slack.MsgOptionResponseURL(url, slack.ResponseTypeEphemeral), slack.MsgOptionText("x", false))
	}
	if _, err := a.api.PostEphemeralContext(ctx, ch, user, slack.MsgOptionResponseURL(url, slack.ResponseTypeEphemeral),
		slack.MsgOptionText("sixth", false)); err == nil {
		t.Fatal("a response_url is usable 5 times only")
	}
}
