package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/handlers"
)

// failingHandler fails every command with err.
type failingHandler struct{ err error }

func (f failingHandler) Handle(context.Context, handlers.Request) (handlers.Report, error) {
	return handlers.Report{}, f.err
}

// TestExecRedactsErrors: an error that carries a backend's secrets reaches the terminal without them.
func TestExecRedactsErrors(t *testing.T) {
	for _, err := range []error{
		fmt.Errorf("state database: %w", errors.New("failed to connect to postgres://perfbot:pg-secret-1@db:5432/perfbot")),
		errs.Unavailablef("prometheus: Authorization: Bearer prom-token-2 rejected"),
		errs.Invalidf(`config: {"api_key":"cfg-key-3"}`),
	} {
		var out bytes.Buffer
		_ = Exec(context.Background(), failingHandler{err}, "/perf assess", "me", "console", &out)
		for _, secret := range []string{"pg-secret-1", "prom-token-2", "cfg-key-3"} {
			if strings.Contains(out.String(), secret) {
				t.Errorf("%q reached the terminal: %s", secret, out.String())
			}
		}
		if out.Len() == 0 {
			t.Errorf("nothing shown for %v", err)
		}
	}
}
