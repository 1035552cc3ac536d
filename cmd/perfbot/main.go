// Command perfbot is the Performance Degradation Runbook as a Slack bot, with a terminal front end.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/perfbot/perfbot/errs"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() { <-ctx.Done(); stop() }() // a second signal stops the process at once
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, errHelped) {
		return
	}
	if err != nil {
		if errs.KindOf(err) == errs.Internal && !errors.Is(err, errUsage) && !errors.Is(err, errReported) {
			fmt.Fprintln(os.Stderr, "perfbot:", err)
		}
		os.Exit(exitCode(err))
	}
}

var (
	errUsage    = errors.New("usage")
	errReported = errors.New("already reported")
	// errHelped means help was asked for and printed: nothing to do, exit 0.
	errHelped = errors.New("help printed")
)

func exitCode(err error) int {
	if errors.Is(err, errUsage) || errs.KindOf(err) == errs.Invalid {
		return 2
	}
	return 1
}

const usage = `usage: perfbot [-config perfbot.yaml] [-log-level warn] [-log-format text] <command> [args]

commands:
  run                   the Slack bot (Socket Mode), its HTTP listener and escalation clock
  demo                  the whole bot in a browser: local Slack server, web view, fault panel
  exec [-incident N] '/perf assess'
                        run one command and print the report; incident and action commands act
                        as the Slack user terminal.users maps $USER to
  console [-incident N] a prompt for /perf commands (incident N picks the incident)
  postmortem <incident> print an incident's postmortem (Markdown), regenerated from its timeline
  check-config          print every problem in the configuration
  manifest              print the Slack app manifest
  version               print the version and the commit it was built from

"perfbot <command> -h" shows a command's own flags.
`

// run is perfbot's whole program; main only wires the process to it.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	opts, rest, err := parseGlobal(args, stderr)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	sub, subArgs := rest[0], rest[1:]
	switch sub {
	case "exec":
		return cmdExec(ctx, opts, getenv, subArgs, stdout, stderr)
	case "console":
		return cmdConsole(ctx, opts, getenv, subArgs, stdin, stdout, stderr)
	case "check-config":
		return cmdCheckConfig(opts, getenv, stdout, stderr)
	case "run":
		return cmdRun(ctx, opts, getenv, subArgs, stdout, stderr)
	case "demo":
		return cmdDemo(ctx, opts, getenv, subArgs, stdout, stderr)
	case "postmortem":
		return cmdPostmortem(ctx, opts, getenv, subArgs, stdout, stderr)
	case "manifest":
		return cmdManifest(stdout)
	case "version":
		fmt.Fprintln(stdout, versionLine())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "perfbot: unknown command %q\n%s", sub, usage)
	return errUsage
}
