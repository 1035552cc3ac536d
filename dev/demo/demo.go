// Package demo runs perfbot in a browser: the local Slack server with its web view, the bot
// connected to it over Socket Mode, and a fault panel that drives the simulator. perfbot demo
// and the browser test start it; see the README's "Try it in a browser".
package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/perfbot/perfbot/app"
	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/dev/slackserver"
	"github.com/perfbot/perfbot/dev/studiosim"
)

// Tokens the demo workspace accepts: fixed, like cmd/slackserver's, so a second bot can join it.
const (
	BotToken = "xoxb-0000000001-0000000000001-perfbotlocaldemo"
	AppToken = "xapp-1-A0LOCAL0001-0000000000001-perfbotlocaldemo"
)

// The demo workspace's people, channels and approver group.
var (
	Users    = [][2]string{{"U0ALICE001", "alice"}, {"U0BOB00001", "bob"}}
	Channels = []string{"perf", "incidents"}
	Group    = "S0APPROVE1"
)

// Options says where the demo's parts are.
type Options struct {
	// Config is perfbot's configuration; its Slack settings are replaced by the local server's.
	Config *config.Config
	// SlackAddr is where the local Slack server listens (127.0.0.1:18082; port 0 picks one).
	SlackAddr string
	// SimulatorURL is the simulator's admin API (http://127.0.0.1:18000).
	SimulatorURL string
	// Kubeconfig may write pod status, for the OOM fault; empty leaves that fault to memory alone.
	Kubeconfig string
	Log        *slog.Logger
	// AppOptions are passed to app.Start (tests speed up the clocks).
	AppOptions []app.Option
}

// Demo is a running demo.
type Demo struct {
	Slack  *slackserver.Server
	App    *app.App
	Faults *Faults
}

// Start starts the local Slack server and the bot, and returns once the bot is connected.
func Start(ctx context.Context, o Options) (*Demo, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	srv := slackserver.New(slackserver.Options{Addr: o.SlackAddr, BotToken: BotToken, AppToken: AppToken,
		Logger: o.Log.With("part", "slack")})
	var ids []string
	for _, u := range Users {
		srv.AddUser(u[0], u[1])
		ids = append(ids, u[0])
	}
	for _, name := range Channels {
		ch := srv.AddChannel(name)
		for _, u := range ids {
			srv.AddMember(ch, u)
		}
	}
	srv.AddUserGroup(Group, ids...)
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("local Slack server: %w", err)
	}
	d := &Demo{Slack: srv, Faults: &Faults{Sim: &studiosim.Client{BaseURL: o.SimulatorURL, HTTP: &http.Client{Timeout: 30 * time.Second}}}}
	if o.Kubeconfig != "" && len(o.Config.Services) > 0 {
		k := o.Config.Services[0].Kubernetes
		pods, err := NewPods(o.Kubeconfig, k.Namespace, k.Deployment)
		if err != nil {
			o.Log.Warn("the OOM fault will not mark a pod OOMKilled", "err", err)
		} else {
			d.Faults.Pods = pods
		}
	}
	srv.SetFaultPanel(d.Faults)
	cfg := *o.Config
	cfg.Slack.AppToken, cfg.Slack.BotToken, cfg.Slack.APIURL = AppToken, BotToken, srv.APIURL()
	if err := cfg.Validate(); err != nil {
		srv.Close()
		return nil, fmt.Errorf("configuration: %w", err)
	}
	a, err := app.Start(ctx, &cfg, o.Log, append(o.AppOptions, app.WithCommands(d.Faults.Command()))...)
	if err != nil {
		srv.Close()
		return nil, err
	}
	d.App = a
	if err := waitConnected(ctx, srv); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// waitConnected waits until the bot holds a Socket Mode connection (checked every 50 ms).
func waitConnected(ctx context.Context, srv *slackserver.Server) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for srv.Sockets() == 0 {
		select {
		case <-ctx.Done():
			return errors.New("the bot did not connect to the local Slack server within a minute")
		case <-tick.C:
		}
	}
	return nil
}

// URL is the web view, at the #perf channel.
func (d *Demo) URL() string { return "http://" + d.Slack.Addr() + "/ui/?channel=perf" }

// Wait blocks until the bot stops on its own (an error) or ctx ends.
func (d *Demo) Wait(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- d.App.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return nil
	}
}

// Close stops the bot first (it closes its socket and finishes what it started), then the server.
func (d *Demo) Close() {
	if d.App != nil {
		d.App.Close()
	}
	d.Slack.Close()
}
