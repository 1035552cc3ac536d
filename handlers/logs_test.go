package handlers_test

import (
	"context"
	"strings"
	"testing"

	"github.com/perfbot/perfbot/app"
	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/handlers"
)

// TestALongLogPatternIsAUsageError: a pattern longer than the logs probe searches for is the user's
// to fix: a usage error (shown privately), not a report that says the logs are unreachable.
func TestALongLogPatternIsAUsageError(t *testing.T) {
	cfg := config.Default()
	h := handlers.New(cfg, app.NewBackends(cfg, nil), nil)
	for _, text := range []string{"logs " + strings.Repeat("x", 3000), "logs agentic-studio " + strings.Repeat("timeout ", 400) + "30m"} {
		rep, err := h.Handle(context.Background(), handlers.Request{Text: text, User: "U1"})
		if errs.KindOf(err) != errs.Invalid || !strings.Contains(errs.UserMessage(err, "r"), "/perf logs") {
			t.Errorf("%.40q: report %q, error %v; want a usage error", text, rep.Headline, err)
		}
	}
}
