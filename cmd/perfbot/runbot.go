package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/perfbot/perfbot/app"
	"github.com/perfbot/perfbot/bot"
)

const runUsage = `usage: perfbot [-config perfbot.yaml] run

Runs the Slack bot over Socket Mode (SLACK_APP_TOKEN, SLACK_BOT_TOKEN, and SLACK_API_URL for the
local Slack server, unless the config file sets them), the HTTP listener (http.listen: Alertmanager
intake, postmortems, /metrics, /healthz) and the escalation and action clocks, until SIGINT or
SIGTERM. It logs at info level unless -log-level says otherwise, and says once when it is connected.
`

// cmdRun runs the Slack bot with its HTTP listener (Alertmanager intake, postmortems, health, metrics)
// and the escalation clock, until ctx ends.
func cmdRun(ctx context.Context, o options, getenv func(string) string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("perfbot run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), runUsage) }
	if err := parseSub(fs, args, stdout); err != nil {
		return err
	}
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
