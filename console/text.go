package console

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/perfbot/perfbot/handlers"
	"github.com/perfbot/perfbot/internal/textfmt"
)

// iconWord is how a terminal shows an icon; icons missing here show as nothing, the words say enough.
var iconWord = map[handlers.Icon]string{
	handlers.IconWarning: "warning: ",
}

// terminalText renders t for a terminal: icons as a short word or nothing, users and groups as
// @ID, channels as #ID, links as "label (url)", and control characters and escape sequences in
// every piece removed, so data cannot move the cursor, recolour or retitle the terminal.
func terminalText(t handlers.Text) string {
	var b strings.Builder
	if !t.Empty() {
		b.WriteString(iconWord[t.Icon])
	}
	for _, p := range t.Pieces {
		switch p.Kind {
		case handlers.PieceUser, handlers.PieceGroup:
			if textfmt.IsUserID(p.Text) || textfmt.IsGroupID(p.Text) {
				b.WriteString("@")
			}
			b.WriteString(oneLine(p.Text))
		case handlers.PieceChannel:
			if textfmt.IsChannelID(p.Text) {
				b.WriteString("#")
			}
			b.WriteString(oneLine(p.Text))
		case handlers.PieceLink:
			label, url := oneLine(p.Text), oneLine(p.URL)
			if label != "" && label != url {
				b.WriteString(label + " (" + url + ")")
			} else {
				b.WriteString(url)
			}
		case handlers.PieceBreak:
			b.WriteByte('\n')
		case handlers.PieceBold, handlers.PieceCode:
			b.WriteString(oneLine(p.Text))
		default:
			b.WriteString(sanitize(p.Text))
		}
	}
	return strings.TrimSpace(b.String())
}

// oneLine is sanitize with line breaks and tabs turned into spaces, for table cells and fields.
func oneLine(s string) string {
	return strings.TrimSpace(strings.NewReplacer("\n", " ", "\t", " ").Replace(sanitize(s)))
}

// sanitize removes what a terminal would act on rather than show: ANSI and other escape
// sequences (CSI, OSC, DCS … in their 7-bit and 8-bit forms), control characters but line breaks
// and tabs, invisible format characters (bidi overrides, zero-width joiners) and invalid UTF-8.
func sanitize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == 0x1b:
			i = skipEscape(s, i+1)
			continue
		case r == 0x9b: // CSI
			i = skipCSI(s, i+size)
			continue
		case r == 0x90 || r == 0x9d || r == 0x98 || r == 0x9e || r == 0x9f: // DCS, OSC, SOS, PM, APC
			i = skipString(s, i+size)
			continue
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r == utf8.RuneError && size <= 1, unicode.IsControl(r), unicode.Is(unicode.Cf, r):
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

// skipEscape returns the index after the escape sequence whose ESC ends just before i.
func skipEscape(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '[':
		return skipCSI(s, i+1)
	case ']', 'P', 'X', '^', '_':
		return skipString(s, i+1)
	}
	// Two-character sequences; intermediate bytes (0x20–0x2F) may come first.
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
		i++
	}
	if i < len(s) && s[i] < 0x7f {
		i++
	}
	return i
}

// skipCSI returns the index after a control sequence's final byte (0x40–0x7E), starting at its
// parameters; a sequence broken off by another byte ends there.
func skipCSI(s string, i int) int {
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x40 && c <= 0x7e:
			return i + 1
		case c < 0x20 || c > 0x3f:
			return i
		}
	}
	return i
}

// skipString returns the index after a control string (OSC, DCS …), which ends with BEL, ESC \
// or ST; an unterminated one runs to the end.
func skipString(s string, i int) int {
	for ; i < len(s); i++ {
		switch {
		case s[i] == 0x07:
			return i + 1
		case s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\':
			return i + 2
		case s[i] == 0xc2 && i+1 < len(s) && s[i+1] == 0x9c: // ST as UTF-8
			return i + 2
		}
	}
	return i
}
