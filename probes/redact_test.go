package probes

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRedactSQL(t *testing.T) {
	long := "SELECT " + strings.Repeat("col_a, ", 60) + "col_b FROM t"
	tests := []struct {
		name, in, want string
	}{
		{"email", "SELECT * FROM users WHERE email = 'alice@example.com'", "SELECT * FROM users WHERE email = '…'"},
		{"doubled quote", "UPDATE t SET note = 'it''s O''Brien''s' WHERE id = 7", "UPDATE t SET note = '…' WHERE id = ?"},
		{"quote inside quote then more", "SELECT 'a''b', 'c' || 'd''' FROM x", "SELECT '…', '…' || '…' FROM x"},
		{"E string backslash", `SELECT E'it\'s \\ secret', 'x'`, "SELECT '…', '…'"},
		{"lowercase e string", `WHERE a = e'\'' AND b = 2`, "WHERE a = '…' AND b = ?"},
		{"not an E prefix", `WHERE name = 'e\' AND x = 'y'`, `WHERE name = '…' AND x = '…'`},
		{"unicode string", `SELECT U&'d\0061t\+000061'`, "SELECT '…'"},
		{"bit and hex strings", `SELECT B'1010', X'1F', N'nat'`, "SELECT '…', '…', '…'"},
		{"dollar quoted", "SELECT $$bob's secret$$, $fn$ it's $$ nested $fn$", "SELECT '…', '…'"},
		{"placeholders kept", "SELECT * FROM t WHERE id = $1 AND name = $12", "SELECT * FROM t WHERE id = $1 AND name = $12"},
		{"numbers in identifiers", "SELECT col1, t2.x3 FROM users2 u2 WHERE u2.id = 42", "SELECT col1, t2.x3 FROM users2 u2 WHERE u2.id = ?"},
		{"number forms", "SELECT 1.5, .5, 1e-3, 2E+10, 0x1F, 1_000, -7", "SELECT ?, ?, ?, ?, ?, ?, -?"},
		{"cast kept", "SELECT 5::int, '5'::text", "SELECT ?::int, '…'::text"},
		{"quoted identifier kept", `SELECT "User Email" FROM "Orders 2024" WHERE "a""b" = 'x'`, `SELECT "User Email" FROM "Orders 2024" WHERE "a""b" = '…'`},
		{"identifier with dollar", "SELECT a$1, x$$y FROM t", "SELECT a$1, x$$y FROM t"},
		{"line comment dropped", "SELECT 1 -- alice@example.com\nFROM t", "SELECT ? FROM t"},
		{"nested block comment", "SELECT /* a /* b */ 'c' */ x", "SELECT x"},
		{"whitespace collapsed", "  SELECT\n\t*\r\n  FROM   t  ", "SELECT * FROM t"},
		{"unterminated string", "SELECT * FROM t WHERE email = 'alice@exa", "SELECT * FROM t WHERE email = '…"},
		{"unterminated dollar", "DO $body$ BEGIN RAISE 'x'", "DO '…"},
		{"lone dollar", "SELECT $ + 1", "SELECT $ + ?"},
		{"in list", "WHERE id IN (1, 2, 3) AND s IN ('a','b')", "WHERE id IN (?, ?, ?) AND s IN ('…','…')"},
		{"unicode identifier", "SELECT naïve2 FROM café WHERE x = 'ü'", "SELECT naïve2 FROM café WHERE x = '…'"},
		{"long text cut", long, long[:MaxRedactedSQL-1] + "…"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := RedactSQL(tt.in)
			if tt.name == "long text cut" {
				want := strings.TrimRight(tt.want[:len(tt.want)-len("…")], " ") + "…"
				if got != want || utf8.RuneCountInString(got) > MaxRedactedSQL {
					t.Fatalf("RedactSQL(long) = %q (%d runes), want %q", got, utf8.RuneCountInString(got), want)
				}
				return
			}
			if got != tt.want {
				t.Errorf("RedactSQL(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

// redactLiteralForms wraps secret in each kind of SQL string literal, escaped as PostgreSQL requires.
func redactLiteralForms(secret string) []string {
	forms := []string{
		"'" + strings.ReplaceAll(secret, "'", "''") + "'",
		"E'" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(secret) + "'",
		"U&'" + strings.ReplaceAll(secret, "'", "''") + "'",
	}
	if strings.Index(secret+"$q$", "$q$") == len(secret) { // else the tag would close early, in PostgreSQL too
		forms = append(forms, "$q$"+secret+"$q$")
	}
	return forms
}

// FuzzRedactSQL checks two properties: a literal holding any text at all is replaced whole (the query's
// shape around it is exactly kept), and for any input the output is valid, bounded and a fixed point.
func FuzzRedactSQL(f *testing.F) {
	for _, s := range []string{"alice@example.com", "it's", `back\slash`, "$$", "'; DROP TABLE x; --", "42", "/*", "ü"} {
		f.Add(s, int64(42))
	}
	f.Fuzz(func(t *testing.T, secret string, n int64) {
		if !utf8.ValidString(secret) || strings.ContainsRune(secret, 0) {
			t.Skip()
		}
		want := "SELECT * FROM users2 WHERE email = '…' AND id = ? AND k = $1"
		if n < 0 {
			want = strings.Replace(want, "id = ?", "id = -?", 1)
		}
		for _, lit := range redactLiteralForms(secret) {
			q := "SELECT *\nFROM users2 WHERE email = " + lit + " AND id = " + strconv.FormatInt(n, 10) + " AND k = $1"
			if got := RedactSQL(q); got != want {
				t.Fatalf("RedactSQL(%q)\n got %q\nwant %q", q, got, want)
			}
		}

		// Any text: valid UTF-8, bounded, and redacting again changes nothing.
		out := RedactSQL(secret)
		if !utf8.ValidString(out) || utf8.RuneCountInString(out) > MaxRedactedSQL {
			t.Fatalf("RedactSQL(%q) = %q: invalid or too long", secret, out)
		}
		if again := RedactSQL(out); again != out {
			t.Fatalf("not a fixed point: %q -> %q -> %q", secret, out, again)
		}
	})
}

func BenchmarkRedactSQL(b *testing.B) {
	q := `SELECT u.id, u.email, o.total FROM users2 u JOIN orders o ON o.user_id = u.id
	      WHERE u.email = 'alice@example.com' AND o.created_at > '2024-01-01'::date
	      AND o.total > 99.95 AND o.status IN ('paid', 'shipped', E'it\'s') /* trace=abc */
	      ORDER BY o.created_at DESC LIMIT 50 OFFSET $1`
	b.SetBytes(int64(len(q)))
	b.ReportAllocs()
	for b.Loop() {
		_ = RedactSQL(q)
	}
}
