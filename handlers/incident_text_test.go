package handlers_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/perfbot/perfbot/handlers"
	"github.com/perfbot/perfbot/incidents"
)

// recordingWorkspace keeps what is posted and invited.
type recordingWorkspace struct {
	posts   []handlers.Text
	invited []string
}

func (w *recordingWorkspace) CreateChannel(context.Context, string) (string, error) {
	return "C0INC", nil
}
func (w *recordingWorkspace) Invite(_ context.Context, _ string, users []string) error {
	w.invited = append(w.invited, users...)
	return nil
}
func (w *recordingWorkspace) SetTopic(context.Context, string, string) error { return nil }
func (w *recordingWorkspace) Post(_ context.Context, _ string, t handlers.Text) error {
	w.posts = append(w.posts, t)
	return nil
}
func (w *recordingWorkspace) Publish(context.Context, string, handlers.Document) error { return nil }
func (w *recordingWorkspace) Run(context.Context, string, string, string)              {}

// TestPagerPostsMeaningNotMarkup: an escalation is posted as structured text: users and groups
// as mentions, other names and the level's name as data, only users invited.
func TestPagerPostsMeaningNotMarkup(t *testing.T) {
	ws := &recordingWorkspace{}
	level := incidents.Level{Number: 2, Name: "Level 2 <!here>", After: 30 * time.Minute, Page: []string{"U0BOB", "S0SRE", "bob"}}
	if err := (handlers.Pager{WS: ws}).Page(context.Background(), incidents.Incident{ChannelID: "C0INC"}, level); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ws.invited, []string{"U0BOB"}) {
		t.Errorf("invited %v, want only the user", ws.invited)
	}
	want := handlers.T(handlers.IconEscalation, handlers.Bold("Escalation — Level 2 <!here>"), handlers.Plain(" (unresolved after 30m). "),
		handlers.User("U0BOB"), handlers.Plain(" "), handlers.Group("S0SRE"), handlers.Plain(" "), handlers.Data("bob"), handlers.Plain(" please join."))
	if len(ws.posts) != 1 || !reflect.DeepEqual(ws.posts[0], want) {
		t.Errorf("posted %+v\nwant %+v", ws.posts, want)
	}

	ws.posts = nil
	if err := (handlers.Pager{WS: ws}).Page(context.Background(), incidents.Incident{ChannelID: "C0INC"}, incidents.Level{Name: "L3"}); err != nil {
		t.Fatal(err)
	}
	if got := ws.posts[0].String(); got != "Escalation — L3 (paged when the incident opened). Nobody is configured to page at this level (incidents.levels)." {
		t.Errorf("nobody to page: %q", got)
	}
}
