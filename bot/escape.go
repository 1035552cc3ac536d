package bot

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/perfbot/perfbot/internal/textfmt"
)

// ellipsis marks text that was cut to fit a Slack limit.
const ellipsis = "…"

// zwsp is a zero-width space; put after "@" it stops "@channel" from being parsed.
const zwsp = "\u200b"

// lookalike is what data shows instead of a formatting marker (*, _, ~, `) that could start or end
// formatting. Slack has no escape for them, and a marker fenced with zero-width spaces still closes a
// span perfbot's own markup opened (a bold title that ends in "*"), so data gets a character that
// looks the same and is never markup.
var lookalike = map[rune]string{'*': "∗", '_': "ˍ", '~': "∼", '`': "ˋ"}

// clean makes data-derived text safe to measure and show: invalid UTF-8 and invisible format
// characters (zero-width spaces and joiners, bidi overrides) are dropped, and control characters
// become spaces. With multiline, newlines survive (at most two in a row); otherwise they become
// spaces too.
func clean(s string, multiline bool) string {
	var b strings.Builder
	b.Grow(len(s))
	newlines := 0
	for i, w := 0, 0; i < len(s); i += w {
		r, size := utf8.DecodeRuneInString(s[i:])
		w = size
		switch {
		case r == utf8.RuneError && size <= 1, r == unicode.ReplacementChar, unicode.Is(unicode.Cf, r):
			continue
		case r == '\n' && multiline:
			if newlines++; newlines <= 2 {
				b.WriteByte('\n')
			}
			continue
		case r == '\t' || r == '\r' || r == '\n' || unicode.IsControl(r):
			r = ' '
		}
		newlines = 0
		b.WriteRune(r)
	}
	return b.String()
}

// plain prepares data for a plain_text object or a table cell: one line, no invisible
// characters, at most max runes. Plain text needs no entity escaping.
func plain(s string, max int) string {
	b, more := bound(s, max)
	s = mentionFree.Replace(strings.TrimSpace(clean(b, false)))
	if more {
		s += ellipsis
	}
	return textfmt.Truncate(s, max)
}

// mentionFree breaks "<!", "<@" and "<#" with a zero-width space. Plain text is never parsed for
// mentions, but text copied from it into mrkdwn elsewhere must not become one either.
var mentionFree = strings.NewReplacer("<!", "<"+zwsp+"!", "<@", "<"+zwsp+"@", "<#", "<"+zwsp+"#")

// escape makes s safe inside mrkdwn: &, < and > become entities, so data can never produce a
// mention (<@U…>, <!channel>, <!here>) or a link; "@channel", "@here" and "@everyone" are broken
// with a zero-width space; and *, _, ~ and ` that could start or end formatting become look-alikes
// (see lookalike). Newlines are kept.
func escape(s string) string {
	return escapeTrunc(s, -1)
}

// escapeTrunc escapes s like escape and cuts the result to at most max runes (max < 0: no
// limit), ending with "…" when anything was cut. An entity or a fenced marker is kept whole.
func escapeTrunc(s string, max int) string {
	b, more := bound(s, max)
	return escapeCut(strings.TrimSpace(clean(b, true)), max, more, true)
}

// escapeLine is escapeTrunc for one line: newlines become spaces.
func escapeLine(s string, max int) string {
	b, more := bound(s, max)
	return escapeCut(strings.TrimSpace(clean(b, false)), max, more, true)
}

// bound keeps the part of s that can matter for a text of max runes, so 50 KB values cost
// little; more says something was left out. (A text made mostly of invisible characters that
// clean drops is cut early; it still ends with "…".) A rune split at the end is dropped by clean.
func bound(s string, max int) (string, bool) {
	if n := 16*max + 256; max >= 0 && len(s) > n {
		return s[:n], true
	}
	return s, false
}

// escapeCut escapes cleaned text and cuts it to max runes (max < 0: no limit); more says the
// text went on beyond s, so it ends with "…" even when s itself fits.
func escapeCut(s string, max int, more, fence bool) string {
	runes := []rune(s)
	toks := make([]string, len(runes))
	total := 0
	for i, r := range runes {
		toks[i] = escapeRune(runes, i, r, fence)
		total += utf8.RuneCountInString(toks[i])
	}
	cut := max >= 0 && (more || total > max)
	if !cut {
		return strings.Join(toks, "")
	}
	var b strings.Builder
	n := 0
	for _, tok := range toks {
		tn := utf8.RuneCountInString(tok)
		if n+tn > max-1 {
			break
		}
		b.WriteString(tok)
		n += tn
	}
	if max >= 1 {
		b.WriteString(ellipsis)
	}
	return b.String()
}

// escapeMrkdwn escapes text that perfbot wrote as mrkdwn (help, usage) but that may quote user
// input: entities and broadcast words are escaped as in escape, while formatting markers keep
// working. It cuts to max runes (max < 0: no limit).
func escapeMrkdwn(s string, max int) string {
	b, more := bound(s, max)
	return escapeCut(strings.TrimSpace(clean(b, true)), max, more, false)
}

// escapeRune is the escaped form of runes[i]; fence says whether formatting markers are replaced.
func escapeRune(runes []rune, i int, r rune, fence bool) string {
	switch r {
	case '&':
		return "&amp;"
	case '<':
		return "&lt;"
	case '>':
		return "&gt;"
	case '@':
		if broadcast(runes[i+1:]) {
			return "@" + zwsp
		}
	case '*', '_', '~', '`':
		if fence && atBoundary(runes, i) {
			return lookalike[r]
		}
	}
	return string(r)
}

// broadcast reports whether rest starts with a word Slack would turn into a broadcast mention.
func broadcast(rest []rune) bool {
	for _, w := range []string{"channel", "here", "everyone"} {
		if len(rest) >= len(w) && strings.EqualFold(string(rest[:len(w)]), w) {
			return true
		}
	}
	return false
}

// atBoundary reports whether the marker at runes[i] touches a word boundary, where Slack would
// read it as the start or the end of formatting. Markers inside words (order_items) are literal.
func atBoundary(runes []rune, i int) bool {
	return i == 0 || i == len(runes)-1 || !wordRune(runes[i-1]) || !wordRune(runes[i+1])
}

func wordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// code shows data as inline code, where formatting markers are literal: the text is one line,
// entity-escaped, with backticks replaced by a look-alike, at most max runes including the fences.
// Empty text becomes an em dash.
func code(s string, max int) string {
	s, more := bound(s, max)
	s = strings.TrimSpace(clean(s, false))
	if s == "" {
		return "—"
	}
	if more {
		s += ellipsis
	}
	s = strings.ReplaceAll(s, "`", "ˋ")
	return "`" + entities(s, max-2) + "`"
}

// entities escapes &, < and > and breaks broadcast words, leaving formatting markers alone (for
// code spans and blocks, where they are literal); it cuts to max runes without splitting an entity.
func entities(s string, max int) string {
	return escapeCut(s, max, false, false)
}

// joinFit joins a title, lines and a closing note within max runes; lines are already escaped,
// whole lines are dropped from the end when they do not fit, and the note then says so.
func joinFit(title string, lines []string, more, sep string, max int) string {
	var b strings.Builder
	n := 0
	add := func(s string) {
		if n > 0 {
			b.WriteString(sep)
			n += len([]rune(sep))
		}
		b.WriteString(s)
		n += len([]rune(s))
	}
	if title != "" {
		add(title)
	}
	const reserve = 40 // room for a "…and N more" note
	for i, l := range lines {
		if n+len([]rune(sep))+len([]rune(l)) > max-reserve {
			more = fmt.Sprintf("_…and %d more not shown_", len(lines)-i)
			break
		}
		add(l)
	}
	if more != "" {
		add(more)
	}
	return b.String()
}

// cutEscaped cuts an already escaped line to max runes without splitting an entity, a mention
// or a link.
func cutEscaped(s string, max int) string {
	if len([]rune(s)) <= max {
		return s
	}
	r := string([]rune(s)[:max-1])
	if i := strings.LastIndexByte(r, '&'); i >= 0 && !strings.Contains(r[i:], ";") {
		r = r[:i]
	}
	if i := strings.LastIndexByte(r, '<'); i >= 0 && !strings.Contains(r[i:], ">") {
		r = r[:i]
	}
	return r + ellipsis
}
