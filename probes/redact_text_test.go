package probes

import (
	"bufio"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// corpusCase is one line of testdata/redact/corpus.txt with what must be gone from its redaction
// and what must stay.
type corpusCase struct {
	shape, in  string
	gone, keep []string
	line       int
}

func readCorpus(t testing.TB) []corpusCase {
	t.Helper()
	f, err := os.Open("testdata/redact/corpus.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []corpusCase
	shape := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		tag, rest, _ := strings.Cut(line, ":")
		rest = strings.TrimLeft(rest, " ")
		switch {
		case strings.HasPrefix(line, "# "):
			shape = strings.TrimPrefix(line, "# ")
		case tag == "in":
			out = append(out, corpusCase{shape: shape, in: rest, line: n})
		case tag == "gone" && len(out) > 0 && rest != "":
			out[len(out)-1].gone = append(out[len(out)-1].gone, rest)
		case tag == "keep" && len(out) > 0 && rest != "":
			out[len(out)-1].keep = append(out[len(out)-1].keep, rest)
		case strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#"):
		default:
			t.Fatalf("corpus.txt:%d: %q is not in:, gone:, keep: or a # heading", n, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRedactTextCorpus runs every line of the corpus: each secret is gone, each kept part is still
// there, and redacting the output again changes nothing.
func TestRedactTextCorpus(t *testing.T) {
	cases := readCorpus(t)
	if len(cases) < 50 {
		t.Fatalf("corpus has %d cases; it was read wrong", len(cases))
	}
	shapes := map[string]int{}
	for _, c := range cases {
		shapes[c.shape]++
		got := RedactText(c.in)
		for _, g := range c.gone {
			if strings.Contains(got, g) {
				t.Errorf("corpus.txt:%d (%s): %q survived\n in: %s\nout: %s", c.line, c.shape, g, c.in, got)
			}
		}
		for _, k := range c.keep {
			if !strings.Contains(got, k) {
				t.Errorf("corpus.txt:%d (%s): %q was lost\n in: %s\nout: %s", c.line, c.shape, k, c.in, got)
			}
		}
		if again := RedactText(got); again != got {
			t.Errorf("corpus.txt:%d: not a fixed point: %q -> %q", c.line, got, again)
		}
	}
	for _, want := range []string{"key=value in any case and separator", "JSON and YAML pairs", "Bearer/Basic Authorization headers",
		"URL credentials", "DSNs", "API tokens", "JWTs", "PEM blocks", "secret flags", "personal data", "kept as is"} {
		if shapes[want] == 0 {
			t.Errorf("the corpus has no case under %q", want)
		}
	}
}

// TestRedactTextExact pins the exact output for a few lines, so the text around a secret is kept as it was.
func TestRedactTextExact(t *testing.T) {
	cases := map[string]string{
		`OPENAI_API_KEY=sk-proj-Xq1wE9rT5yU7iO3pA2sD4fG6hJ8kL0zX`:                `OPENAI_API_KEY=…`,
		`{"password":"x y","user":"bob"}`:                                        `{"password":"…","user":"bob"}`,
		`Authorization: Bearer abc.def`:                                          `Authorization: Bearer …`,
		`ERROR dial postgres://app:s3cret@db:5432/studio failed`:                 `ERROR dial postgres://…@db:5432/studio failed`,
		`config password=hunter2 token: abc.def api_key="k-123"`:                 `config password=… token: … api_key="…"`,
		`host=db user=app password=pw dbname=studio`:                             `host=db user=app password=… dbname=studio`,
		`max_tokens=5,api_key=x prompt_tokens=812`:                               `max_tokens=5,api_key=… prompt_tokens=812`,
		`-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----`: `-----BEGIN EC PRIVATE KEY-----…-----END EC PRIVATE KEY-----`,
		"ERROR request failed endpoint=/api/ideas status=500 duration=812ms":     "ERROR request failed endpoint=/api/ideas status=500 duration=812ms",
		`WARN sql="SELECT * FROM users WHERE email='alice@example.com'"`:         `WARN sql="SELECT * FROM users WHERE email='…'"`,
	}
	for in, want := range cases {
		if got := RedactText(in); got != want {
			t.Errorf("RedactText(%q)\n got %q\nwant %q", in, got, want)
		}
	}
}

// secretTemplates place a secret (the %s) in each shape that carries a free-form value.
var secretTemplates = []string{
	"level=error password=%s status=500", "OPENAI_API_KEY=%s", "client_secret: %s", "Access-Token = %s",
	`{"access_token":"%s","user":"bob"}`, `{\"password\":\"%s\"}`, "db_password: '%s'", "  smtp_password: %s",
	"Authorization: Bearer %s", "proxy-authorization: Basic %s", "Cookie: a=1; session=%s", "x-api-key: %s",
	"postgres://app:%s@db:5432/studio", "redis://:%s@cache:6379", "host=db user=app password=%s dbname=x",
	"Server=db;Password=%s;Database=x", "app:%s@tcp(db:3306)/studio", "--password %s -h db", "max_tokens=5,api_key=%s",
	"map[secret:%s]",
}

// tokenTemplates place a run of letters and digits (the %s) where a known token shape needs one.
var tokenTemplates = []string{
	"key sk-%s used", "x=sk-proj-%s", "xoxb-%s", "slack xapp-1-%s", "ghp_%s pushed", "github_pat_%s",
	"eyJ%s.eyJ%s.%s", "-----BEGIN PRIVATE KEY-----\\n%s\\n-----END PRIVATE KEY-----", "sent Bearer %s now",
}

// freeSecret reports whether s can stand as a secret value in every secretTemplate: printable ASCII
// without spaces, quotes, backslashes or '/', starting with a letter or digit.
func freeSecret(s string) bool {
	if len(s) < 6 || len(s) > 64 || !isAlnum(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"'\\`/", c) >= 0 {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// alnumRun keeps s's letters and digits, for the token templates.
func alnumRun(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if isAlnum(s[i]) {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// checkGone fails when secret, placed in template, survives redaction. A secret that also occurs in
// the template's own text cannot be told apart and is not checked.
func checkGone(t *testing.T, template, secret string) {
	t.Helper()
	if strings.Contains(strings.ReplaceAll(template, "%s", "\x00"), secret) {
		return
	}
	in := strings.ReplaceAll(template, "%s", secret)
	if out := RedactText(in); strings.Contains(out, secret) {
		t.Fatalf("secret %q survived\n in: %s\nout: %s", secret, in, out)
	}
}

// FuzzRedactText checks that no input makes RedactText panic, return invalid UTF-8 for valid input,
// grow past twice what it reads or change on a second pass, and that any secret value placed in a
// known shape is gone. The seed corpus is testdata/fuzz/FuzzRedactText plus the corpus lines.
func FuzzRedactText(f *testing.F) {
	for _, c := range readCorpus(f) {
		secret := ""
		if len(c.gone) > 0 {
			secret = c.gone[0]
		}
		f.Add(c.in, secret)
	}
	f.Fuzz(func(t *testing.T, line, secret string) {
		out := RedactText(line)
		if utf8.ValidString(line) && !utf8.ValidString(out) {
			t.Fatalf("RedactText(%q) = %q: invalid UTF-8", line, out)
		}
		if len(out) > 2*min(len(line), MaxRedactBytes+len(Redacted)) {
			t.Fatalf("RedactText(%q) grew from %d to %d bytes: %q", line, len(line), len(out), out)
		}
		if again := RedactText(out); len(out) <= MaxRedactBytes && again != out {
			t.Fatalf("not a fixed point: %q -> %q -> %q", line, out, again)
		}
		if freeSecret(secret) {
			for _, tpl := range secretTemplates {
				checkGone(t, tpl, secret)
			}
		}
		if tok := alnumRun(secret); len(tok) >= 20 {
			for _, tpl := range tokenTemplates {
				checkGone(t, tpl, tok)
			}
		}
	})
}

func BenchmarkRedactText(b *testing.B) {
	line := `2024-05-01T10:00:00Z ERROR request failed endpoint=/api/ideas status=500 duration=812ms user=alice@example.com ` +
		`OPENAI_API_KEY=sk-proj-Xq1wE9rT5yU7iO3pA2sD4fG6hJ8kL0zX {"password":"x","retries":3} Authorization: Bearer abc`
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		_ = RedactText(line)
	}
}

// TestRedactTextBounded: a megabyte line is cut to MaxRedactBytes and redacted quickly, its
// secrets before the cut gone.
func TestRedactTextBounded(t *testing.T) {
	line := "password=hunter2 " + strings.Repeat("max_tokens=", 100_000)
	out := RedactText(line)
	if len(out) > MaxRedactBytes+len(Redacted) || !strings.HasSuffix(out, Redacted) || strings.Contains(out, "hunter2") {
		t.Fatalf("RedactText of %d bytes gave %d bytes ending %q", len(line), len(out), out[max(0, len(out)-20):])
	}
}

// TestRunnerRedactsProbeErrors: a failed probe's error and the message of a finding that could not
// be checked reach users without the secrets a backend put in them.
func TestRunnerRedactsProbeErrors(t *testing.T) {
	list := []Probe{
		{Name: "fails", Run: func(context.Context, *Env) (Result, error) {
			return Result{}, errors.New(`call failed: OPENAI_API_KEY=sk-proj-Xq1wE9rT5yU7iO3pA2sD4fG6hJ8kL0zX header Authorization: Bearer opaque-token-1`)
		}},
		{Name: "partly", Run: func(context.Context, *Env) (Result, error) {
			var r Result
			r.Add(Finding{Check: "DB locks", Status: Unknown, Message: `could not check locks: {"password":"pw-in-json"} client_secret=cs-1`})
			r.Add(Finding{Check: "DB size", Status: OK, Message: "size 1234567890 bytes"})
			return r, nil
		}},
	}
	res := Runner{Timeout: 5 * time.Second}.Run(context.Background(), testEnv(), list, nil)
	text := res[0].Summary + " " + res[1].Findings[0].Message
	for _, secret := range []string{"Xq1wE9rT5yU7iO3pA2sD4fG6hJ8kL0zX", "opaque-token-1", "pw-in-json", "cs-1"} {
		if strings.Contains(text, secret) {
			t.Errorf("%q reached users: %s", secret, text)
		}
	}
	if got := res[1].Findings[1].Message; got != "size 1234567890 bytes" {
		t.Errorf("a measured finding was changed: %q", got)
	}
}
