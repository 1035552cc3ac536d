package handlers

import (
	"strings"

	"github.com/perfbot/perfbot/internal/textfmt"
)

// Text is what perfbot says in words, with meaning instead of markup: each front end renders it in
// its own syntax (Slack mrkdwn, terminal text) and escapes every piece of text as it does so.
type Text struct {
	// Icon is an optional leading symbol, named by what it means.
	Icon Icon
	// Pieces are shown in order.
	Pieces []Piece
}

// Icon names the meaning of a message's leading symbol; each front end picks its own glyph or none.
type Icon int

// The icons perfbot's messages start with.
const (
	IconNone          Icon = iota
	IconIncident           // an incident was opened
	IconNote               // a note was added to the timeline
	IconResolved           // an incident was resolved
	IconAlertFiring        // an alert fires
	IconAlertResolved      // an alert stopped firing
	IconEscalation         // an escalation level is paged
	IconWarning            // something needs attention
)

// PieceKind says what a Piece is.
type PieceKind int

// The kinds of Piece.
const (
	PiecePlain   PieceKind = iota // perfbot's own words
	PieceData                     // text from a user or a backend
	PieceUser                     // a mention of a user, by ID
	PieceGroup                    // a mention of a user group, by ID
	PieceChannel                  // a reference to a channel, by ID
	PieceBold                     // emphasised text
	PieceCode                     // a command or identifier, shown as code
	PieceLink                     // a link: URL and label
	PieceBreak                    // a line break
)

// Piece is one run of a Text. Renderers escape Text of every kind: nothing in it is markup.
type Piece struct {
	Kind PieceKind
	// Text is the words, the ID of a mention, or the label of a link.
	Text string
	// URL is a link's destination.
	URL string
}

// Part is what T assembles a Text from: an Icon, a Piece, or another Text.
type Part interface{ addTo(*Text) }

func (i Icon) addTo(t *Text)  { t.Icon = i }
func (p Piece) addTo(t *Text) { t.Pieces = append(t.Pieces, p) }
func (x Text) addTo(t *Text) {
	if x.Icon != IconNone {
		t.Icon = x.Icon
	}
	t.Pieces = append(t.Pieces, x.Pieces...)
}

// T builds a Text from parts, e.g. T(IconNote, Plain("Note by "), User(id), Plain(": "), Data(note)).
func T(parts ...Part) Text {
	var t Text
	for _, p := range parts {
		p.addTo(&t)
	}
	return t
}

// Plain is perfbot's own words.
func Plain(s string) Piece { return Piece{Kind: PiecePlain, Text: s} }

// Data is text from a user or a backend, shown literally whatever it holds.
func Data(s string) Piece { return Piece{Kind: PieceData, Text: s} }

// User mentions a user by ID; a renderer shows an ID of the wrong shape as data.
func User(id string) Piece { return Piece{Kind: PieceUser, Text: id} }

// Group mentions a user group by ID; a renderer shows an ID of the wrong shape as data.
func Group(id string) Piece { return Piece{Kind: PieceGroup, Text: id} }

// Channel refers to a channel by ID; a renderer shows an ID of the wrong shape as data.
func Channel(id string) Piece { return Piece{Kind: PieceChannel, Text: id} }

// Who mentions a user or a user group, whichever id looks like; anything else (a name such as
// "alertmanager") is data.
func Who(id string) Piece {
	switch {
	case textfmt.IsUserID(id):
		return User(id)
	case textfmt.IsGroupID(id):
		return Group(id)
	}
	return Data(id)
}

// Bold is emphasised text; like Data it is shown literally.
func Bold(s string) Piece { return Piece{Kind: PieceBold, Text: s} }

// Code is a command or identifier shown as code, literally.
func Code(s string) Piece { return Piece{Kind: PieceCode, Text: s} }

// Link is a link to url labelled label; renderers show only http and https URLs as links.
func Link(url, label string) Piece { return Piece{Kind: PieceLink, Text: label, URL: url} }

// Break is a line break.
func Break() Piece { return Piece{Kind: PieceBreak} }

// Empty reports whether t has nothing to show but perhaps an icon.
func (t Text) Empty() bool { return len(t.Pieces) == 0 }

// String is t as unadorned text, for logs and tests: no icon, mentions as @ID and #ID, links as
// "label (url)". It escapes nothing; front ends render Text themselves.
func (t Text) String() string {
	var b strings.Builder
	for _, p := range t.Pieces {
		switch p.Kind {
		case PieceUser, PieceGroup:
			b.WriteString("@" + p.Text)
		case PieceChannel:
			b.WriteString("#" + p.Text)
		case PieceLink:
			if p.Text != "" {
				b.WriteString(p.Text + " (" + p.URL + ")")
			} else {
				b.WriteString(p.URL)
			}
		case PieceBreak:
			b.WriteByte('\n')
		default:
			b.WriteString(p.Text)
		}
	}
	return b.String()
}
