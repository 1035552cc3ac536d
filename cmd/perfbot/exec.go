package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/perfbot/perfbot/app"
	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/console"
	"github.com/perfbot/perfbot/handlers"
)

// newTerminal builds the commands for the terminal user named by $USER (mapped through terminal.users).
func newTerminal(ctx context.Context, o options, getenv func(string) string, logw io.Writer) (app.Terminal, func(), *config.Config, error) {
	cfg, err := loadConfig(o, getenv)
	if err != nil {
		return app.Terminal{}, nil, nil, err
	}
	if err := cfg.Validate(); err != nil {
		return app.Terminal{}, nil, nil, fmt.Errorf("configuration: %w (run perfbot check-config)", err)
	}
	h, closeFn := app.Commands(ctx, cfg, logger(o, logw))
	return app.NewTerminal(cfg, h, osUser(getenv)), closeFn, cfg, nil
}

// terminalFlags parses what exec and console take before the command: -incident N.
func terminalFlags(name string, args []string, stderr io.Writer) (incident string, rest []string, err error) {
	fs := flag.NewFlagSet("perfbot "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&incident, "incident", "", "the incident incident commands act on (its number); default: the only open one")
	if err := fs.Parse(args); err != nil {
		return "", nil, errUsage
	}
	return incident, fs.Args(), nil
}

func cmdExec(ctx context.Context, o options, getenv func(string) string, args []string, stdout, stderr io.Writer) error {
	incident, args, err := terminalFlags("exec", args, stderr)
	if err != nil {
		return err
	}
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: perfbot exec [-incident N] '/perf assess [service]'")
		return errUsage
	}
	t, closeFn, _, err := newTerminal(ctx, o, getenv, stderr)
	if err != nil {
		return err
	}
	defer closeFn()
	if err := console.Exec(ctx, t, strings.Join(args, " "), t.Name, channelOf(incident), stdout); err != nil {
		return errReportedWrap(err)
	}
	return nil
}

func cmdConsole(ctx context.Context, o options, getenv func(string) string, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	incident, _, err := terminalFlags("console", args, stderr)
	if err != nil {
		return err
	}
	t, closeFn, cfg, err := newTerminal(ctx, o, getenv, stdout)
	if err != nil {
		return err
	}
	defer closeFn()
	fmt.Fprintf(stdout, "perfbot console as %s: type /perf help, incident N to pick an incident, or quit\n", app.TerminalUser(cfg, t.Name))
	return console.REPL(ctx, t, t.Name, channelOf(incident), stdin, stdout)
}

// channelOf is the request channel that names an incident to the terminal ("#12"), or the
// terminal's own when none is named.
func channelOf(incident string) string {
	if incident = strings.TrimPrefix(strings.TrimSpace(incident), "#"); incident != "" {
		return "#" + incident
	}
	return handlers.TerminalChannel
}

func osUser(getenv func(string) string) string {
	if u := getenv("USER"); u != "" {
		return u
	}
	return "console"
}

// errReportedWrap keeps the error's kind (for the exit code) but marks it as already printed.
func errReportedWrap(err error) error { return fmt.Errorf("%w: %w", errReported, err) }
