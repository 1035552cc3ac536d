package probes

import (
	"strings"

	"github.com/perfbot/perfbot/internal/textfmt"
)

// MaxRedactedSQL is how many characters of redacted query text RedactSQL keeps, the ellipsis included.
const MaxRedactedSQL = 200

// RedactSQL returns SQL text that is safe to show in Slack: every string literal ('…', E'…', U&'…',
// B'…', X'…', N'…' and dollar-quoted $tag$…$tag$) becomes '…' and every numeric literal becomes ?,
// so personal data such as the email in `WHERE email = 'x@y'` never leaves the database.
// Identifiers (users2, "Quoted Name"), keywords, operators and $1-style placeholders are kept.
// Comments are dropped (they may carry anything), whitespace runs collapse to one space, and text
// longer than MaxRedactedSQL characters is cut and ends in "…".
// A literal left open at the end (pg_stat_activity truncates long queries) is redacted to the end.
func RedactSQL(q string) string {
	var b strings.Builder
	b.Grow(min(len(q), 4*MaxRedactedSQL))
	r := sqlRedactor{src: strings.ToValidUTF8(q, "\uFFFD"), out: &b}
	r.run()
	return sqlTruncate(strings.TrimSpace(b.String()), MaxRedactedSQL)
}

type sqlRedactor struct {
	src string
	i   int
	out *strings.Builder
	// space is true when whitespace (or a dropped comment) is pending output.
	space bool
}

func (r *sqlRedactor) run() {
	// Past 4*MaxRedactedSQL bytes the output is sure to be cut, so the rest need not be read.
	for r.i < len(r.src) && r.out.Len() <= 4*MaxRedactedSQL {
		c := r.src[r.i]
		switch {
		case sqlIsSpace(c):
			r.space = true
			r.i++
		case c == '-' && r.peek(1) == '-':
			r.skipLineComment()
		case c == '/' && r.peek(1) == '*':
			r.skipBlockComment()
		case c == '\'':
			r.literal(sqlSkipQuoted(r.src, r.i+1, false))
		case c == '"':
			end := sqlSkipIdent(r.src, r.i+1)
			r.emit(r.src[r.i:end])
			r.i = end
		case c == '$':
			r.dollar()
		case sqlIsDigit(c) || (c == '.' && sqlIsDigit(r.peek(1))):
			// Never inside users2 or $12: word and dollar consume those whole.
			r.i = sqlSkipNumber(r.src, r.i)
			r.emit("?")
		case sqlIdentStart(c):
			r.word()
		default:
			r.emit(string(c))
			r.i++
		}
	}
}

func (r *sqlRedactor) peek(n int) byte {
	if r.i+n < len(r.src) {
		return r.src[r.i+n]
	}
	return 0
}

func (r *sqlRedactor) emit(s string) {
	if r.space && r.out.Len() > 0 {
		r.out.WriteByte(' ')
	}
	r.space = false
	r.out.WriteString(s)
}

func (r *sqlRedactor) skipLineComment() {
	end := strings.IndexByte(r.src[r.i:], '\n')
	if end < 0 {
		r.i = len(r.src)
	} else {
		r.i += end
	}
	r.space = true
}

// skipBlockComment skips a /* */ comment; PostgreSQL nests them.
func (r *sqlRedactor) skipBlockComment() {
	depth := 0
	for r.i < len(r.src) {
		switch {
		case strings.HasPrefix(r.src[r.i:], "/*"):
			depth++
			r.i += 2
		case strings.HasPrefix(r.src[r.i:], "*/"):
			depth--
			r.i += 2
			if depth == 0 {
				r.space = true
				return
			}
		default:
			r.i++
		}
	}
	r.space = true
}

// dollar handles '$' at a token start: a $1 placeholder is kept, $tag$…$tag$ is a literal.
func (r *sqlRedactor) dollar() {
	if sqlIsDigit(r.peek(1)) {
		end := r.i + 1
		for end < len(r.src) && sqlIsDigit(r.src[end]) {
			end++
		}
		r.emit(r.src[r.i:end])
		r.i = end
		return
	}
	tagEnd := r.i + 1
	for tagEnd < len(r.src) && sqlIdentByte(r.src[tagEnd]) && r.src[tagEnd] != '$' {
		tagEnd++
	}
	if tagEnd >= len(r.src) || r.src[tagEnd] != '$' {
		r.emit("$")
		r.i++
		return
	}
	tag := r.src[r.i : tagEnd+1]
	body := tagEnd + 1
	if end := strings.Index(r.src[body:], tag); end >= 0 {
		r.literal(body+end+len(tag), true)
	} else {
		r.literal(len(r.src), false)
	}
}

// literal replaces a string literal ending at end; one left open (cut text) shows as '… with no closing quote.
// A space keeps the replacement from fusing with a quote, & or word before it (U&'…' would read as one literal).
func (r *sqlRedactor) literal(end int, closed bool) {
	r.i = end
	if out := r.out.String(); out != "" {
		if c := out[len(out)-1]; c == '\'' || c == '&' || sqlIdentByte(c) {
			r.space = true
		}
	}
	if closed {
		r.emit(`'…'`)
	} else {
		r.emit(`'…`)
	}
}

// word copies an identifier or keyword, or redacts a prefixed string literal such as E'…'.
func (r *sqlRedactor) word() {
	start := r.i
	if end, closed, ok := sqlPrefixedLiteral(r.src, start); ok {
		r.literal(end, closed)
		return
	}
	end := start
	for end < len(r.src) && sqlIdentByte(r.src[end]) {
		end++
	}
	r.emit(r.src[start:end])
	r.i = end
}

// sqlPrefixedLiteral recognises E'…', B'…', X'…', N'…' and U&'…' at i: where the literal ends, whether it is closed.
func sqlPrefixedLiteral(s string, i int) (end int, closed, ok bool) {
	rest := s[i:]
	switch {
	case len(rest) >= 2 && rest[1] == '\'' && strings.ContainsRune("eEbBxXnN", rune(rest[0])):
		end, closed = sqlSkipQuoted(s, i+2, rest[0] == 'e' || rest[0] == 'E')
		return end, closed, true
	case len(rest) >= 3 && (rest[0] == 'u' || rest[0] == 'U') && rest[1] == '&' && rest[2] == '\'':
		end, closed = sqlSkipQuoted(s, i+3, false)
		return end, closed, true
	}
	return 0, false, false
}

// sqlSkipQuoted returns the index after the quote closing a literal whose body starts at i, and whether
// there was one. A doubled quote is an escaped quote; with backslash set, \' and \\ are escapes too
// (E-prefixed strings). Plain strings follow standard_conforming_strings = on, PostgreSQL's default.
func sqlSkipQuoted(s string, i int, backslash bool) (int, bool) {
	for i < len(s) {
		switch s[i] {
		case '\\':
			if backslash {
				i += 2
				continue
			}
		case '\'':
			if i+1 < len(s) && s[i+1] == '\'' {
				i += 2
				continue
			}
			return i + 1, true
		}
		i++
	}
	return len(s), false
}

// sqlSkipIdent returns the index after the quote closing a "quoted identifier" whose body starts at i.
func sqlSkipIdent(s string, i int) int {
	for i < len(s) {
		if s[i] == '"' {
			if i+1 < len(s) && s[i+1] == '"' {
				i += 2
				continue
			}
			return i + 1
		}
		i++
	}
	return len(s)
}

// sqlSkipNumber returns the index after a numeric literal at i: 42, 4.2, .5, 1e-3, 0x1F, 1_000.
func sqlSkipNumber(s string, i int) int {
	for i < len(s) {
		c := s[i]
		switch {
		case sqlIsDigit(c) || c == '.' || c == '_' || sqlIsLetter(c):
			i++
		case (c == '+' || c == '-') && (s[i-1] == 'e' || s[i-1] == 'E') && i+1 < len(s) && sqlIsDigit(s[i+1]):
			i++
		default:
			return i
		}
	}
	return i
}

// sqlTruncate cuts s to at most n runes, the ellipsis included, dropping a space left before the cut.
func sqlTruncate(s string, n int) string {
	cut := textfmt.Truncate(s, n)
	if cut == s {
		return s
	}
	return strings.TrimRight(strings.TrimSuffix(cut, "…"), " ") + "…"
}

func sqlIsSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}
func sqlIsDigit(c byte) bool { return c >= '0' && c <= '9' }
func sqlIsLetter(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// sqlIdentStart is a byte that may begin an identifier; bytes >= 0x80 are parts of UTF-8 letters.
func sqlIdentStart(c byte) bool { return sqlIsLetter(c) || c == '_' || c >= 0x80 }

// sqlIdentByte is a byte that may continue an identifier (PostgreSQL allows $ after the first character).
func sqlIdentByte(c byte) bool { return sqlIdentStart(c) || sqlIsDigit(c) || c == '$' }
