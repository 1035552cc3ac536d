package slackserver_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/perfbot/perfbot/dev/slackserver"
)

// fixture is one line of testdata/*.jsonl: a message Slack sends, or an ack an app sends,
// with the SDK test or document it was taken from.
type fixture struct {
	Source  string          `json:"source"`
	Message json.RawMessage `json:"message"`
	Ack     json.RawMessage `json:"ack"`
}

func loadFixtures(t *testing.T) []fixture {
	t.Helper()
	paths, err := filepath.Glob("testdata/*.jsonl")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	var out []fixture
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if line := strings.TrimSpace(sc.Text()); line != "" {
				var fx fixture
				if err := json.Unmarshal([]byte(line), &fx); err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				out = append(out, fx)
			}
		}
		_ = f.Close()
	}
	// The bolt-python body is an interactive payload; Socket Mode wraps it in an envelope.
	raw, err := os.ReadFile("testdata/bolt-python-block_actions-body.json")
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Source  string          `json:"source"`
		Payload json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatal(err)
	}
	env, _ := json.Marshal(map[string]any{
		"envelope_id": "bolt-block-actions", "type": "interactive",
		"payload": body.Payload, "accepts_response_payload": false,
	})
	return append(out, fixture{Source: body.Source, Message: env})
}

func TestEveryFixtureIsSentAndParsedBySlackGo(t *testing.T) {
	srv := slackserver.NewTestServer(t)
	a := startApp(t, srv)
	for _, fx := range loadFixtures(t) {
		if len(fx.Message) == 0 || string(fx.Message) == "null" {
			continue // acks are covered below; omitted messages have no body
		}
		t.Run(fx.Source, func(t *testing.T) {
			var head struct {
				Type       string `json:"type"`
				EnvelopeID string `json:"envelope_id"`
			}
			_ = json.Unmarshal(fx.Message, &head)
			if err := srv.SendRaw(ctxT(t, 5*time.Second), fx.Message); err != nil {
				t.Fatal(err)
			}
			switch head.Type {
			case "disconnect":
				a.next(t, socketmode.EventTypeConnecting)
				a.next(t, socketmode.EventTypeHello)
				if err := srv.WaitFor(ctxT(t, 5*time.Second), func() bool { return srv.Sockets() == 1 }); err != nil {
					t.Fatal(err)
				}
				return
			case "hello":
				a.next(t, socketmode.EventTypeHello)
				return
			}
			e := a.next(t, socketmode.EventType(head.Type))
			checkParsed(t, e)
			if err := a.sm.Ack(*e.Request); err != nil {
				t.Fatal(err)
			}
			if _, err := srv.WaitAck(ctxT(t, 5*time.Second), head.EnvelopeID); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func checkParsed(t *testing.T, e socketmode.Event) {
	t.Helper()
	switch d := e.Data.(type) {
	case slack.SlashCommand:
		if d.Command == "" || d.ResponseURL == "" {
			t.Fatalf("slash command parsed without command/response_url: %+v", d)
		}
	case slack.InteractionCallback:
		if d.Type == "" || d.User.ID == "" {
			t.Fatalf("interaction parsed without type/user: %+v", d)
		}
	case slackevents.EventsAPIEvent:
		if d.InnerEvent.Type == "" || d.InnerEvent.Data == nil {
			t.Fatalf("events_api parsed without inner event: %+v", d)
		}
	default:
		t.Fatalf("unexpected parsed data %T", e.Data)
	}
}

// TestFixtureAckIsRecorded replays the documented slash command and its documented ack.
func TestFixtureAckIsRecorded(t *testing.T) {
	srv := slackserver.NewTestServer(t)
	a := startApp(t, srv)
	var cmd, ack fixture
	for _, fx := range loadFixtures(t) {
		if strings.Contains(fx.Source, "slash command received") {
			cmd = fx
		}
		if len(fx.Ack) > 0 {
			ack = fx
		}
	}
	if err := srv.SendRaw(context.Background(), cmd.Message); err != nil {
		t.Fatal(err)
	}
	e := a.next(t, socketmode.EventTypeSlashCommand)
	var resp socketmode.Response
	if err := json.Unmarshal(ack.Ack, &resp); err != nil {
		t.Fatal(err)
	}
	resp.Payload = json.RawMessage(mustField(t, ack.Ack, "payload"))
	if resp.EnvelopeID != e.Request.EnvelopeID {
		t.Fatalf("fixture ack is for %s, command is %s", resp.EnvelopeID, e.Request.EnvelopeID)
	}
	if err := a.sm.Send(resp); err != nil {
		t.Fatal(err)
	}
	got, err := srv.WaitAck(ctxT(t, 5*time.Second), resp.EnvelopeID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got.Payload), "Duino Elegies") {
		t.Fatalf("ack payload = %s", got.Payload)
	}
}

func mustField(t *testing.T, raw json.RawMessage, key string) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m[key]
}
