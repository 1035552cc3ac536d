// Command slackserver runs the local Slack server for the demo and manual runs: a
// workspace with channels and users, speaking Slack's Web API and Socket Mode on loopback,
// with a browser view of it at /ui/ to act as any of its users.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/perfbot/perfbot/dev/slackserver"
)

// Demo tokens: fixed so that the stack scripts and perfbot agree without a handshake.
const (
	defaultBotToken = "xoxb-0000000001-0000000000001-perfbotlocaldemo"
	defaultAppToken = "xapp-1-A0LOCAL0001-0000000000001-perfbotlocaldemo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "slackserver:", err)
		os.Exit(1)
	}
}

// run parses args, seeds the workspace, serves until ctx is done.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("slackserver", flag.ContinueOnError)
	fs.SetOutput(stdout)
	listen := fs.String("listen", "127.0.0.1:18082", "address of the Web API and the Socket Mode endpoint")
	botToken := fs.String("bot-token", defaultBotToken, "bot token (xoxb-) the Web API accepts")
	appToken := fs.String("app-token", defaultAppToken, "app-level token (xapp-) apps.connections.open accepts")
	channels := fs.String("channels", "perf,incidents", "comma-separated channels to create, with the bot and every user in them")
	users := fs.String("users", "U0ALICE001=alice,U0BOB00001=bob", "comma-separated ID=name users to create")
	group := fs.String("usergroup", "S0APPROVE1", "user group ID holding every user (approvers); empty for none")
	ping := fs.Duration("ping-interval", 10*time.Second, "WebSocket ping interval")
	noLimits := fs.Bool("no-rate-limits", false, "turn off Slack's rate limits")
	tiers := fs.Bool("rate-limit-tiers", false, "limit every Web API method by its documented Slack tier")
	verbose := fs.Bool("v", false, "log every socket and call at debug level")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if !strings.HasPrefix(*botToken, "xoxb-") || !strings.HasPrefix(*appToken, "xapp-") {
		return fmt.Errorf("-bot-token must start with xoxb- and -app-token with xapp-")
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	srv := slackserver.New(slackserver.Options{
		Addr: *listen, BotToken: *botToken, AppToken: *appToken, PingInterval: *ping,
		RateLimits: slackserver.RateLimits{Disabled: *noLimits, Tiers: *tiers}, Logger: log,
	})
	ids, err := seed(srv, *users, *channels, *group)
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	defer srv.Close()
	log.Info("browser demo workspace: open it to act as a user", "url", "http://"+srv.Addr()+"/ui/")
	printEnv(stdout, srv, ids)
	<-ctx.Done()
	return nil
}

// seed creates the users, the channels (bot and users as members) and the user group.
func seed(srv *slackserver.Server, users, channels, group string) ([]string, error) {
	var userIDs []string
	for _, u := range splitList(users) {
		id, name, ok := strings.Cut(u, "=")
		if !ok || id == "" || name == "" {
			return nil, fmt.Errorf("-users: %q is not ID=name", u)
		}
		srv.AddUser(id, name)
		userIDs = append(userIDs, id)
	}
	var chIDs []string
	for _, name := range splitList(channels) {
		id := srv.AddChannel(name)
		for _, u := range userIDs {
			srv.AddMember(id, u)
		}
		chIDs = append(chIDs, name+"="+id)
	}
	if group != "" {
		srv.AddUserGroup(group, userIDs...)
	}
	return chIDs, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// printEnv prints what a bot needs, as shell assignments.
func printEnv(w io.Writer, srv *slackserver.Server, channels []string) {
	fmt.Fprintf(w, "SLACK_API_URL=%s\n", srv.APIURL())
	fmt.Fprintf(w, "SLACK_BOT_TOKEN=%s\n", srv.BotToken())
	fmt.Fprintf(w, "SLACK_APP_TOKEN=%s\n", srv.AppToken())
	fmt.Fprintf(w, "SLACK_TEAM_ID=%s\n", srv.TeamID())
	fmt.Fprintf(w, "SLACK_BOT_USER_ID=%s\n", srv.BotUserID())
	for _, c := range channels {
		name, id, _ := strings.Cut(c, "=")
		fmt.Fprintf(w, "SLACK_CHANNEL_%s=%s\n", strings.ToUpper(strings.ReplaceAll(name, "-", "_")), id)
	}
}
