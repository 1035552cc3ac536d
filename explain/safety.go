package explain

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/jackc/pgx/v5"

	"github.com/perfbot/perfbot/errs"
)

// scanned is a statement's words and symbols outside comments, string literals and quoted identifiers.
type scanned struct {
	tokens []string // lower-cased words; single-character symbols
	params bool     // $1-style parameters appear
	many   bool     // a second statement follows a semicolon
}

// scan tokenizes SQL text just enough to judge it: comments, '…', E'…', $tag$…$tag$ and "…" are skipped.
func scan(text string) scanned {
	var s scanned
	r := []rune(text)
	ended := false
	for i := 0; i < len(r); {
		c := r[i]
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '-' && i+1 < len(r) && r[i+1] == '-':
			for i < len(r) && r[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(r) && r[i+1] == '*':
			i = skipBlock(r, i)
		case c == '\'':
			i = skipQuoted(r, i, c)
		case c == '"': // a quoted identifier is a word as written (a quoted function name is still a call)
			j := skipQuoted(r, i, c)
			if ended {
				s.many = true
			}
			s.tokens = append(s.tokens, strings.Trim(string(r[i:j]), `"`))
			i = j
		case c == '$' && i+1 < len(r) && unicode.IsDigit(r[i+1]):
			s.params = true
			i += 2
			for i < len(r) && unicode.IsDigit(r[i]) {
				i++
			}
		case c == '$':
			i = skipDollar(r, i)
		case c == ';':
			ended = true
			i++
		case unicode.IsLetter(c) || c == '_':
			j := i
			for j < len(r) && (unicode.IsLetter(r[j]) || unicode.IsDigit(r[j]) || r[j] == '_' || r[j] == '$') {
				j++
			}
			if ended {
				s.many = true
			}
			s.tokens = append(s.tokens, strings.ToLower(string(r[i:j])))
			i = j
		default:
			if ended {
				s.many = true
			}
			s.tokens = append(s.tokens, string(c))
			i++
		}
	}
	return s
}

func skipBlock(r []rune, i int) int {
	depth := 0
	for i < len(r) {
		switch {
		case r[i] == '/' && i+1 < len(r) && r[i+1] == '*':
			depth, i = depth+1, i+2
		case r[i] == '*' && i+1 < len(r) && r[i+1] == '/':
			depth, i = depth-1, i+2
			if depth == 0 {
				return i
			}
		default:
			i++
		}
	}
	return i
}

func skipQuoted(r []rune, i int, q rune) int {
	escapes := q == '\'' && i > 0 && (r[i-1] == 'E' || r[i-1] == 'e')
	for i++; i < len(r); i++ {
		switch {
		case escapes && r[i] == '\\':
			i++
		case r[i] == q && i+1 < len(r) && r[i+1] == q:
			i++
		case r[i] == q:
			return i + 1
		}
	}
	return i
}

// skipDollar skips a $tag$…$tag$ string; a lone $ is a symbol.
func skipDollar(r []rune, i int) int {
	j := i + 1
	for j < len(r) && (unicode.IsLetter(r[j]) || unicode.IsDigit(r[j]) || r[j] == '_') {
		j++
	}
	if j >= len(r) || r[j] != '$' {
		return i + 1
	}
	tag := string(r[i : j+1])
	rest := string(r[j+1:])
	k := strings.Index(rest, tag)
	if k < 0 {
		return len(r)
	}
	return j + 1 + len([]rune(rest[:k])) + len([]rune(tag))
}

// writeWords are words that make a statement change data, lock rows or create objects.
var writeWords = []string{"insert", "update", "delete", "merge", "into", "truncate", "copy", "lock", "call", "do"}

// checkReadOnly refuses anything but one SELECT (or WITH/VALUES/TABLE query) without side effects:
// DDL, statements that write, SELECT … INTO, row locks (FOR UPDATE/SHARE), several statements.
func checkReadOnly(text string) (scanned, error) {
	s := scan(text)
	if len(s.tokens) == 0 {
		return s, errs.Invalidf("the statement is empty")
	}
	if s.many {
		return s, errs.Invalidf("the statement text holds more than one statement; perfbot explains one SELECT at a time")
	}
	first := ""
	for _, t := range s.tokens {
		if t != "(" {
			first = t
			break
		}
	}
	if !slices.Contains([]string{"select", "with", "values", "table"}, first) {
		return s, errs.Invalidf("only SELECT statements are explained; this is a %s statement (DDL and statements that change data are refused)",
			strings.ToUpper(first))
	}
	for i, t := range s.tokens {
		if slices.Contains(writeWords, t) {
			return s, errs.Invalidf("the statement contains %s, so it may change data, create a table or lock rows; only plain SELECT statements are explained",
				strings.ToUpper(t))
		}
		if t == "for" && i+1 < len(s.tokens) && slices.Contains([]string{"share", "no", "key"}, s.tokens[i+1]) {
			return s, errs.Invalidf("the statement locks rows (FOR %s); only plain SELECT statements are explained", strings.ToUpper(s.tokens[i+1]))
		}
	}
	return s, nil
}

// harmlessVolatile are volatile functions that change nothing but their own output.
var harmlessVolatile = []string{"random", "random_normal", "clock_timestamp", "timeofday", "gen_random_uuid", "uuid_generate_v4"}

// checkFunctions refuses a statement that calls a volatile function (nextval, pg_terminate_backend,
// dblink_exec, …): such a function may change something even inside a SELECT.
func checkFunctions(ctx context.Context, q pgx.Tx, s scanned) error {
	var called []string
	for i := 0; i+1 < len(s.tokens); i++ {
		if s.tokens[i+1] == "(" && isWord(s.tokens[i]) && !slices.Contains(harmlessVolatile, s.tokens[i]) {
			called = append(called, s.tokens[i])
		}
	}
	if len(called) == 0 {
		return nil
	}
	rows, err := q.Query(ctx, `SELECT DISTINCT proname::text FROM pg_proc WHERE proname = ANY($1) AND provolatile = 'v' ORDER BY 1`, called)
	if err != nil {
		return fmt.Errorf("look up the functions the statement calls: %w", err)
	}
	volatile, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("look up the functions the statement calls: %w", err)
	}
	if len(volatile) > 0 {
		return errs.Invalidf("the statement calls %s, a volatile function that may have side effects; only plain SELECT statements are explained",
			strings.Join(volatile, ", "))
	}
	return nil
}

func isWord(t string) bool {
	r := []rune(t)
	return len(r) > 0 && (unicode.IsLetter(r[0]) || r[0] == '_')
}
