package handlers_test

import (
	"context"
	"testing"
	"time"

	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/handlers"
	"github.com/perfbot/perfbot/probes"
)

// noBackends is an EnvSource whose backends are all down: parsing is what the fuzz target tests.
type noBackends struct{}

func (noBackends) Env(string, time.Duration) (*probes.Env, error) {
	return nil, errs.Unavailablef("no backends in this test")
}

// FuzzHandle: any text after /perf gets a report or an error a user is shown (usage, not found,
// unavailable), never a panic and never an internal error.
func FuzzHandle(f *testing.F) {
	for _, s := range []string{"", "assess", "assess agentic-studio 15m", "db 5m agentic-studio", "logs agentic-studio slow query 30m",
		"help db", "assess 0s", "assess 99999h", "nope", "logs " + string(make([]byte, 300)), "api \x00 \xff", "assess 1m 1m"} {
		f.Add(s)
	}
	cfg := config.Default()
	h := handlers.New(cfg, noBackends{}, nil)
	f.Fuzz(func(t *testing.T, text string) {
		rep, err := h.Handle(context.Background(), handlers.Request{Text: text, User: "U0FUZZ", Channel: "C0FUZZ"})
		if err != nil {
			if errs.KindOf(err) == errs.Internal {
				t.Fatalf("%q: internal error %v", text, err)
			}
			return
		}
		if rep.Title == "" && rep.Text.Empty() {
			t.Fatalf("%q: empty report", text)
		}
	})
}
