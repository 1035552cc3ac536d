package console

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/handlers"
	"github.com/perfbot/perfbot/probes"
)

// Handler runs one command.
type Handler interface {
	Handle(ctx context.Context, req handlers.Request) (handlers.Report, error)
}

// Exec runs one "/perf …" line as user in channel (handlers.TerminalChannel, or "#N" for an
// incident) and renders the outcome; a usage error is returned after its message is printed.
func Exec(ctx context.Context, h Handler, line, user, channel string, out io.Writer) error {
	text, ok := strings.CutPrefix(strings.TrimSpace(line), "/perf")
	if !ok {
		err := errs.Invalidf("commands start with /perf, e.g. /perf assess")
		fmt.Fprintln(out, sanitize(errs.UserMessage(err, "-")))
		return err
	}
	rep, err := h.Handle(ctx, handlers.Request{Text: strings.TrimSpace(text), User: user, Channel: channel})
	if err != nil {
		// A backend's error may hold a DSN, a token or a password: the terminal shows it redacted.
		if errs.KindOf(err) == errs.Internal {
			fmt.Fprintln(out, "internal error:", sanitize(probes.RedactText(err.Error())))
		} else {
			fmt.Fprintln(out, sanitize(probes.RedactText(errs.UserMessage(err, "console"))))
		}
		return err
	}
	return Render(out, rep)
}

// REPL reads "/perf …" lines until EOF, "quit" or ctx's end (Ctrl-C), running each in channel;
// "incident N" makes later commands act on incident N.
func REPL(ctx context.Context, h Handler, user, channel string, in io.Reader, out io.Writer) error {
	lines := make(chan string)
	scanErr := make(chan error, 1)
	go func() { // reading blocks; the loop below stays free to notice ctx's end
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		scanErr <- sc.Err()
	}()
	for {
		fmt.Fprint(out, "perfbot> ")
		select {
		case <-ctx.Done():
			fmt.Fprintln(out)
			return nil
		case err := <-scanErr:
			return err
		case line := <-lines:
			line = strings.TrimSpace(line)
			switch {
			case line == "quit" || line == "exit":
				return nil
			case line == "":
			case strings.HasPrefix(line, "incident ") && len(strings.Fields(line)) == 2 && isNumber(strings.TrimPrefix(strings.Fields(line)[1], "#")):
				channel = "#" + strings.TrimPrefix(strings.Fields(line)[1], "#")
				fmt.Fprintf(out, "incident commands now act on incident %s\n", channel)
			default:
				if !strings.HasPrefix(line, "/perf") {
					line = "/perf " + line
				}
				_ = Exec(ctx, h, line, user, channel, out)
			}
		}
	}
}

func isNumber(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
