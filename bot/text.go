package bot

import (
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/handlers"
	"github.com/perfbot/perfbot/internal/textfmt"
)

// iconEmoji is the emoji that shows each icon's meaning in Slack.
var iconEmoji = map[handlers.Icon]string{
	handlers.IconIncident:      ":rotating_light:",
	handlers.IconNote:          ":memo:",
	handlers.IconResolved:      ":white_check_mark:",
	handlers.IconAlertFiring:   ":bell:",
	handlers.IconAlertResolved: ":large_green_circle:",
	handlers.IconEscalation:    ":rotating_light:",
	handlers.IconWarning:       ":warning:",
}

// kindEmoji is the emoji an error message of each kind starts with.
var kindEmoji = map[errs.Kind]string{
	errs.Internal:    ":warning:",
	errs.Invalid:     ":grey_question:",
	errs.NotFound:    ":mag:",
	errs.Forbidden:   ":no_entry:",
	errs.Conflict:    ":hourglass:",
	errs.Unavailable: ":electric_plug:",
}

// errorText is what a user is told about err, as mrkdwn of at most max runes: the kind's emoji and
// errs.UserMessage, whose `commands` in backticks show as code; a refusal that names people shows
// them as mentions.
func errorText(err error, ref string, max int) string {
	kind := errs.KindOf(err)
	emoji := kindEmoji[kind] + " "
	if rf, ok := errors.AsType[*handlers.Refusal](err); ok && kind != errs.Internal {
		return emoji + mrkdwnText(handlers.T(handlers.Plain(errs.Prefix(kind)), rf.Text), max-utf8.RuneCountInString(emoji))
	}
	return emoji + escapeMrkdwn(errs.UserMessage(err, ref), max-utf8.RuneCountInString(emoji))
}

// mention is Slack's syntax for a reference to a user, user group or channel, or "" when id does
// not have the shape of that kind of ID.
func mention(kind handlers.PieceKind, id string) string {
	switch {
	case kind == handlers.PieceUser && textfmt.IsUserID(id):
		return "<@" + id + ">"
	case kind == handlers.PieceGroup && textfmt.IsGroupID(id):
		return "<!subteam^" + id + ">"
	case kind == handlers.PieceChannel && textfmt.IsChannelID(id):
		return "<#" + id + ">"
	}
	return ""
}

// canvasPerson shows a user ID the way a canvas's Markdown mentions a person.
func canvasPerson(userID string) string { return "![](@" + userID + ")" }

// linkURL is u made safe inside <…|…>: only absolute http and https URLs qualify ("" otherwise),
// with spaces, controls, non-ASCII bytes and the bytes that could end the link percent-encoded,
// and & written as an entity.
func linkURL(u string) string {
	return strings.ReplaceAll(textfmt.WebURL(u, "|<>"), "&", "&amp;")
}

// segment is one rendered piece: escaped tokens between pre and post, which a cut may shorten,
// or an atom (mention, link, emoji, line break), which stays whole or goes.
type segment struct {
	pre, post string
	toks      []string
	atom      string
	more      bool // the piece's text was longer than could matter: it ends the text with "…"
}

func (s segment) runes() int {
	if s.toks == nil {
		return utf8.RuneCountInString(s.atom)
	}
	n := utf8.RuneCountInString(s.pre) + utf8.RuneCountInString(s.post)
	for _, t := range s.toks {
		n += utf8.RuneCountInString(t)
	}
	return n
}

func (s segment) write(b *strings.Builder) {
	if s.toks == nil {
		b.WriteString(s.atom)
		return
	}
	b.WriteString(s.pre)
	for _, t := range s.toks {
		b.WriteString(t)
	}
	b.WriteString(s.post)
}

// textSegment escapes s like escape (fence: formatting markers become look-alikes), bounded for a text of
// max runes; multiline keeps line breaks, and a one-line segment is trimmed.
func textSegment(s string, max int, multiline, fence bool) segment {
	b, more := bound(s, max)
	b = clean(b, multiline)
	if !multiline {
		b = strings.TrimSpace(b)
	}
	runes := []rune(b)
	toks := make([]string, len(runes))
	for i, r := range runes {
		toks[i] = escapeRune(runes, i, r, fence)
	}
	return segment{toks: toks, more: more}
}

// segments renders each piece of t, with max as the bound for data.
func segments(t handlers.Text, max int) []segment {
	var segs []segment
	if e := iconEmoji[t.Icon]; e != "" && !t.Empty() {
		segs = append(segs, segment{atom: e + " "})
	}
	for _, p := range t.Pieces {
		var s segment
		switch p.Kind {
		case handlers.PieceUser, handlers.PieceGroup, handlers.PieceChannel:
			if m := mention(p.Kind, p.Text); m != "" {
				s = segment{atom: m}
			} else {
				s = textSegment(p.Text, max, false, true)
			}
		case handlers.PieceBold:
			if s = textSegment(p.Text, max, false, true); len(s.toks) > 0 {
				for i, tok := range s.toks { // inside bold, no "*" at all may end it early
					if tok == "*" {
						s.toks[i] = lookalike['*']
					}
				}
				s.pre, s.post = "*", "*"
			}
		case handlers.PieceCode:
			if s = textSegment(strings.ReplaceAll(p.Text, "`", "ˋ"), max, false, false); len(s.toks) > 0 {
				s.pre, s.post = "`", "`"
			}
		case handlers.PieceLink:
			s = linkSegment(p, max)
		case handlers.PieceBreak:
			s = segment{atom: "\n"}
		default:
			s = textSegment(p.Text, max, true, true)
		}
		// A broadcast word split over two pieces ("@" + "here") is broken like one inside a piece.
		if n := len(segs); n > 0 && len(s.toks) > 0 && s.pre == "" && endsWithAt(segs[n-1]) && broadcast([]rune(strings.Join(s.toks[:min(len(s.toks), 8)], ""))) {
			s.toks[0] = zwsp + s.toks[0]
		}
		segs = append(segs, s)
	}
	return segs
}

// endsWithAt reports whether a segment's text ends with a bare "@".
func endsWithAt(s segment) bool {
	switch {
	case s.toks == nil:
		return strings.HasSuffix(s.atom, "@")
	case s.post != "" || len(s.toks) == 0:
		return false
	}
	return s.toks[len(s.toks)-1] == "@"
}

// linkSegment is <url|label> for an http(s) URL, else the label (or the URL) as data.
func linkSegment(p handlers.Piece, max int) segment {
	u := linkURL(p.URL)
	label := escapeLine(p.Text, 200)
	switch {
	case u == "" && strings.TrimSpace(p.Text) != "":
		return textSegment(p.Text, max, false, true)
	case u == "":
		return textSegment(p.URL, max, false, true)
	case label == "":
		return segment{atom: "<" + u + ">"}
	}
	return segment{atom: "<" + u + "|" + label + ">"}
}

// mrkdwnText renders t as Slack mrkdwn of at most max runes (max < 0: no limit). Words, data,
// bold and code are escaped like escape, so nothing in them is markup and no broadcast word
// pings; users, user groups and channels become mentions when their IDs have the right shape
// (otherwise they show as data); links to http(s) URLs become links; icons become emoji. A text
// that does not fit is cut with "…", never inside an entity, a mention or a link, and bold or
// code cut short is still closed.
func mrkdwnText(t handlers.Text, max int) string {
	segs := segments(t, max)
	total, more := 0, false
	for _, s := range segs {
		total += s.runes()
		more = more || s.more
	}
	var b strings.Builder
	if max < 0 || (total <= max && !more) {
		for _, s := range segs {
			s.write(&b)
		}
		return strings.TrimSpace(b.String())
	}
	if max == 0 {
		return ""
	}
	n := 0 // content written, kept ≤ max-1 so the ellipsis always fits
	for _, s := range segs {
		if sn := s.runes(); n+sn <= max-1 && !s.more {
			s.write(&b)
			n += sn
			continue
		}
		room := max - 1 - n - utf8.RuneCountInString(s.pre) - utf8.RuneCountInString(s.post)
		if s.toks == nil || room <= 0 {
			b.WriteString(ellipsis)
			break
		}
		b.WriteString(s.pre)
		for _, tok := range s.toks {
			tn := utf8.RuneCountInString(tok)
			if tn > room {
				break
			}
			b.WriteString(tok)
			room -= tn
		}
		b.WriteString(ellipsis + s.post)
		break
	}
	return strings.TrimSpace(b.String())
}
