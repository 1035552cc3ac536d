package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/perfbot/perfbot/app"
	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/console"
	"github.com/perfbot/perfbot/handlers"
)

func newHandlers(o options, getenv func(string) string, logw io.Writer) (*handlers.Handlers, func(), *config.Config, error) {
	cfg, err := loadConfig(o, getenv)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, nil, fmt.Errorf("configuration: %w (run perfbot check-config)", err)
	}
	h, closeFn := app.Commands(cfg, logger(o, logw))
	return h, closeFn, cfg, nil
}

func cmdExec(ctx context.Context, o options, getenv func(string) string, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: perfbot exec '/perf assess [service]'")
		return errUsage
	}
	h, closeFn, _, err := newHandlers(o, getenv, stderr)
	if err != nil {
		return err
	}
	defer closeFn()
	if err := console.Exec(ctx, h, strings.Join(args, " "), userFrom(getenv), stdout); err != nil {
		return errReportedWrap(err)
	}
	return nil
}

func cmdConsole(ctx context.Context, o options, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	h, closeFn, _, err := newHandlers(o, getenv, stdout)
	if err != nil {
		return err
	}
	defer closeFn()
	fmt.Fprintln(stdout, "perfbot console: type /perf help, or quit")
	return console.REPL(ctx, h, userFrom(getenv), stdin, stdout)
}

func userFrom(getenv func(string) string) string {
	if u := getenv("USER"); u != "" {
		return u
	}
	return "console"
}

// errReportedWrap keeps the error's kind (for the exit code) but marks it as already printed.
func errReportedWrap(err error) error { return fmt.Errorf("%w: %w", errReported, err) }
