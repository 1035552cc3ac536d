package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/perfbot/perfbot/dev/demo"
)

const demoUsage = `usage: perfbot demo [flags]

Runs perfbot in a browser: brings the local stack up if the simulator does not answer (and takes it
down again on Ctrl-C), starts the local Slack server with its web view, connects the bot to it over
Socket Mode and prints the page's URL. Ctrl-C stops what it started.

flags:
`

// cmdDemo runs the browser demo until ctx ends.
func cmdDemo(ctx context.Context, o options, getenv func(string) string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("perfbot demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	slackAddr := fs.String("listen", "127.0.0.1:18082", "address of the local Slack server and its web view")
	sim := fs.String("simulator", "http://127.0.0.1:18000", "the simulator's URL (its admin API drives the fault panel)")
	stackDir := fs.String("stack-dir", orDefault(getenv("PERFBOT_STACK_DIR"), ".stack"), "the local stack's directory (kubeconfigs)")
	noStack := fs.Bool("no-stack", false, "never run scripts/stack up: use the backends as they are")
	fs.Usage = func() { fmt.Fprint(fs.Output(), demoUsage); fs.PrintDefaults() }
	if err := parseSub(fs, args, stdout); err != nil {
		return err
	}
	cfg, err := loadConfig(o, demoEnv(getenv))
	if err != nil {
		return err
	}
	if !o.levelSet {
		o.logLevel = "info"
	}
	log := logger(o, stderr)
	if !*noStack && !answers(ctx, *sim+"/admin/faults") {
		fmt.Fprintln(stderr, "perfbot demo: the simulator does not answer; bringing the stack up with scripts/stack up (the first time takes minutes)")
		if err := stack(ctx, "up", stderr); err != nil {
			return fmt.Errorf("scripts/stack up: %w", err)
		}
		defer func() {
			fmt.Fprintln(stderr, "perfbot demo: taking down the stack it brought up")
			if err := stack(context.WithoutCancel(ctx), "down", stderr); err != nil {
				fmt.Fprintln(stderr, "perfbot demo: scripts/stack down:", err)
			}
		}()
	}
	kubeconfig := filepath.Join(*stackDir, "kube", "admin.kubeconfig")
	if _, err := os.Stat(kubeconfig); err != nil {
		kubeconfig = ""
	}
	d, err := demo.Start(ctx, demo.Options{Config: cfg, SlackAddr: *slackAddr, SimulatorURL: *sim, Kubeconfig: kubeconfig, Log: log})
	if err != nil {
		return err
	}
	defer d.Close()
	fmt.Fprintf(stdout, "perfbot demo: open %s (act as alice or bob; Ctrl-C stops it)\n", d.URL())
	return d.Wait(ctx)
}

// parseSub parses a subcommand's flags; -h prints its usage to stdout and is not an error.
func parseSub(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(stdout)
		fs.Usage()
		return errHelped
	case err != nil:
		return errUsage
	case fs.NArg() > 0:
		fmt.Fprintf(fs.Output(), "%s: unexpected arguments %q\n", fs.Name(), fs.Args())
		return errUsage
	}
	return nil
}

// demoEnv lets perfbot.yaml's ${SLACK_*} references resolve to the demo workspace's tokens.
func demoEnv(getenv func(string) string) func(string) string {
	return func(name string) string {
		switch name {
		case "SLACK_APP_TOKEN":
			return demo.AppToken
		case "SLACK_BOT_TOKEN":
			return demo.BotToken
		case "SLACK_API_URL":
			return ""
		}
		return getenv(name)
	}
}

// answers tells whether url answers HTTP at all within a few seconds.
func answers(ctx context.Context, url string) bool {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return true
}

// stack runs scripts/stack with one verb from the repository root, its output to w.
func stack(ctx context.Context, verb string, w io.Writer) error {
	cmd := exec.CommandContext(ctx, "scripts/stack", verb)
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%w (run perfbot demo from the repository root)", err)
	}
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
