package slackserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/perfbot/perfbot/dev/slackserver"
)

// app is a real slack-go Web API and Socket Mode client connected to a test server.
type app struct {
	api    *slack.Client
	sm     *socketmode.Client
	events chan socketmode.Event
}

func newAPI(srv *slackserver.Server) *slack.Client {
	return slack.New(srv.BotToken(), slack.OptionAPIURL(srv.APIURL()), slack.OptionAppLevelToken(srv.AppToken()))
}

// startApp runs a socketmode client until the test ends and waits for its hello.
func startApp(t testing.TB, srv *slackserver.Server) *app {
	t.Helper()
	a := &app{api: newAPI(srv), events: make(chan socketmode.Event, 256)}
	a.sm = socketmode.New(a.api)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = a.sm.RunContext(ctx) })
	wg.Go(func() {
		for {
			select {
			case e := <-a.sm.Events:
				select {
				case a.events <- e:
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	a.next(t, socketmode.EventTypeHello)
	return a
}

// next returns the next event of type typ, failing on bad messages and after 5 s.
func (a *app) next(t testing.TB, typ socketmode.EventType) socketmode.Event {
	t.Helper()
	e, err := a.wait(typ)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// wait returns the next event of type typ; it is safe to call from any goroutine.
func (a *app) wait(typ socketmode.EventType) (socketmode.Event, error) {
	timeout := time.After(5 * time.Second)
	for {
		select {
		case e := <-a.events:
			switch e.Type {
			case typ:
				return e, nil
			case socketmode.EventTypeErrorBadMessage:
				return e, fmt.Errorf("slack-go could not parse a message from the server: %+v", e.Data)
			case socketmode.EventTypeIncomingError:
				// A closed connection is reported here too; only malformed JSON is the server's fault.
				var syntax *json.SyntaxError
				if ie, ok := e.Data.(*slack.IncomingEventError); ok && errors.As(ie.ErrorObj, &syntax) {
					return e, fmt.Errorf("slack-go read malformed JSON from the server: %w", ie.ErrorObj)
				}
			}
		case <-timeout:
			return socketmode.Event{}, fmt.Errorf("no %s event within 5 s", typ)
		}
	}
}

// ackAll acks every request (optionally with payload) until the test ends.
func (a *app) ackAll(t testing.TB) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case e := <-a.events:
				if e.Request != nil && e.Request.EnvelopeID != "" {
					_ = a.sm.Ack(*e.Request)
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// workspace sets up a user in a channel the bot is in.
func workspace(srv *slackserver.Server) (userID, channelID string) {
	srv.AddUser("U0ALICE001", "alice")
	ch := srv.AddChannel("perf-test")
	srv.AddMember(ch, "U0ALICE001")
	return "U0ALICE001", ch
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
