package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/perfbot/perfbot/app"
	"github.com/perfbot/perfbot/bot"
)

// cmdRun runs the Slack bot with its HTTP listener (Alertmanager intake, postmortems, health, metrics)
// and the escalation clock, until ctx ends.
func cmdRun(ctx context.Context, o options, getenv func(string) string, stderr io.Writer) error {
	cfg, err := loadConfig(o, getenv)
	if err != nil {
		return err
	}
	// Without a config file the defaults serve the local stack; Slack settings then come from the environment.
	for field, env := range map[*string]string{&cfg.Slack.AppToken: "SLACK_APP_TOKEN", &cfg.Slack.BotToken: "SLACK_BOT_TOKEN", &cfg.Slack.APIURL: "SLACK_API_URL"} {
		if *field == "" {
			*field = getenv(env)
		}
	}
	if err := errors.Join(cfg.Validate(), bot.CheckTokens(cfg.Slack.AppToken, cfg.Slack.BotToken)); err != nil {
		return fmt.Errorf("cannot start: %w", err)
	}
	if !o.levelSet {
		o.logLevel = "info" // a server logs what it does; the terminal commands stay quiet
	}
	log := logger(o, stderr)
	a, err := app.Start(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Wait()
}
