package main

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

func TestRunServesAndPrintsWhatABotNeeds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-listen", "127.0.0.1:0", "-channels", "perf"}, pw) }()

	env := map[string]string{}
	sc := bufio.NewScanner(pr)
	for len(env) < 6 && sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		env[k] = v
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if env["SLACK_BOT_TOKEN"] != defaultBotToken || env["SLACK_CHANNEL_PERF"] == "" {
		t.Fatalf("printed env = %v", env)
	}
	api := slack.New(env["SLACK_BOT_TOKEN"], slack.OptionAPIURL(env["SLACK_API_URL"]), slack.OptionAppLevelToken(env["SLACK_APP_TOKEN"]))
	if _, _, err := api.PostMessageContext(ctx, env["SLACK_CHANNEL_PERF"], slack.MsgOptionText("hello", false)); err != nil {
		t.Fatalf("post to the seeded channel: %v", err)
	}
	if _, _, err := api.StartSocketModeContext(ctx); err != nil {
		t.Fatalf("apps.connections.open: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-bot-token", "xapp-1"}, {"-users", "nobody"}, {"extra"}} {
		if err := run(context.Background(), args, io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
