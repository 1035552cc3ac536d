package incidents

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// hostile is text from people and alerts that tries every trick the postmortem must defuse.
const hostile = "<!channel> [x](https://evil.example) a|b \\| `code` ** # h"

// hostile2 adds line breaks that would start blocks, a fake table row and a fake mention.
const hostile2 = "first\n# not a heading\n| fake | row |\r\n<@U0EVIL> &lt;!here&gt; _x_ ~y~ \\"

// special is what must never appear unescaped inside untrusted text.
const special = "\\`*_[]()<>#|~&"

// escaped reports whether s[i] follows an odd run of backslashes.
func escaped(s string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && s[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

// unescapeCell reads text as a GFM table cell and CommonMark would: \| first, then backslash escapes.
func unescapeCell(s string) string {
	s = strings.ReplaceAll(s, `\|`, "|")
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", s[i+1]) >= 0 {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// checkInert fails unless s, as rendered, is exactly want with no live Markdown in it.
func checkInert(t *testing.T, where, s, want string) {
	t.Helper()
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(special, s[i]) >= 0 && s[i] != '\\' && !escaped(s, i) {
			t.Errorf("%s: unescaped %q at %d in %q", where, s[i], i, s)
			return
		}
	}
	if got := unescapeCell(s); got != want {
		t.Errorf("%s reads %q, want %q", where, got, want)
	}
}

// cells splits a table row at its unescaped pipes.
func cells(row string) []string {
	var out []string
	start := 0
	for i := 0; i < len(row); i++ {
		if row[i] == '|' && !escaped(row, i) {
			out = append(out, row[start:i])
			start = i + 1
		}
	}
	return append(out, row[start:])
}

func TestMarkdownHelpers(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text", "plain text"},
		{"a|b", `a\|b`},
		{`a\|b`, `a\\\|b`},
		{"<!channel> <@U1>", `\<!channel\> \<@U1\>`},
		{"[x](https://e)", `\[x\]\(https://e\)`},
		{"# h\n- item", `\# h - item`},
		{"*b* _i_ ~s~ `c` &amp;", "\\*b\\* \\_i\\_ \\~s\\~ \\`c\\` \\&amp;"},
	} {
		t.Run("md "+tc.in, func(t *testing.T) {
			if got := md(tc.in); got != tc.want {
				t.Errorf("md(%q) = %q, want %q", tc.in, got, tc.want)
			}
			checkInert(t, "md", md(tc.in), lineBreaks.Replace(tc.in))
		})
	}
	for _, tc := range []struct{ in, want string }{
		{"svc", "`svc`"},
		{"a`b", "``a`b``"},
		{"a``b`c", "```a``b`c```"},
		{"`x", "`` `x ``"},
		{"x`", "`` x` ``"},
		{"a\nb", "`a b`"},
		{"", ""},
	} {
		t.Run("code "+tc.in, func(t *testing.T) {
			got := code(tc.in)
			if got != tc.want {
				t.Errorf("code(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if content, ok := parseCodeSpan(got); tc.in != "" && (!ok || content != lineBreaks.Replace(tc.in)) {
				t.Errorf("code(%q) = %q parses as %q (%v)", tc.in, got, content, ok)
			}
		})
	}
	for _, tc := range []struct{ in, want string }{
		{"https://slack.example/archives/C1/p2", " ([link](https://slack.example/archives/C1/p2))"},
		{"http://127.0.0.1:19090/graph?g0.expr=rate(x[5m])", " ([link](http://127.0.0.1:19090/graph?g0.expr=rate%28x[5m]%29))"},
		{"https://e.example/a b)c|d<e>", " ([link](https://e.example/a%20b%29c%7Cd%3Ce%3E))"},
		{"HTTPS://E.EXAMPLE/x", " ([link](HTTPS://E.EXAMPLE/x))"},
		{"javascript:alert(1)", ""},
		{"/relative/path", ""},
		{"https://", ""},
		{"", ""},
	} {
		t.Run("link "+tc.in, func(t *testing.T) {
			if got := mdLink(tc.in); got != tc.want {
				t.Errorf("mdLink(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	for _, tc := range []struct{ in, want string }{
		{"U01ALICE", "@U01ALICE"},
		{"W0ENTERPRISE", "@W0ENTERPRISE"},
		{"U1<!CHANNEL>", `U1\<!CHANNEL\>`},
		{"u01alice", "u01alice"},
		{"console", "console"},
		{"", "—"},
	} {
		t.Run("who "+tc.in, func(t *testing.T) {
			if got := who(tc.in); got != tc.want {
				t.Errorf("who(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// parseCodeSpan reads s as exactly one CommonMark code span and returns its content.
func parseCodeSpan(s string) (string, bool) {
	n := len(s) - len(strings.TrimLeft(s, "`"))
	if n == 0 {
		return "", false
	}
	rest := s[n:]
	for i := 0; i < len(rest); {
		if rest[i] != '`' {
			i++
			continue
		}
		j := i
		for j < len(rest) && rest[j] == '`' {
			j++
		}
		if j-i == n { // the closing run: it must end the string
			content := rest[:i]
			if len(content) > 1 && content[0] == ' ' && content[len(content)-1] == ' ' && strings.Trim(content, " ") != "" {
				content = content[1 : len(content)-1]
			}
			return content, j == len(rest)
		}
		i = j
	}
	return "", false
}

// hostileIncident plays an incident whose every outside-supplied text is hostile.
func hostileIncident(t *testing.T, st *Store) Incident {
	t.Helper()
	ctx := context.Background()
	d, err := st.HandleAlert(ctx, Alert{Status: AlertFiring, StartsAt: t0, Fingerprint: "evil",
		GeneratorURL: "javascript:alert(1)",
		Labels:       map[string]string{"alertname": "Bad`Alert<!here>", "service": "api``<!channel>|x"},
		Annotations:  map[string]string{"summary": hostile}})
	if err != nil {
		t.Fatal(err)
	}
	inc := d.Incident
	for i, ev := range []Event{
		{Kind: KindNote, Actor: "U1<!channel>", Summary: hostile2},
		{Kind: KindPin, Actor: "U02BOB", Summary: "pinned " + hostile, Link: "https://ok.example/a b)c|d(e"},
		{Kind: KindCommand, Actor: "U01ALICE", Summary: "/perf db", Link: "data:text/html,<b>x</b>",
			Detail: JSON(CommandDetail{Command: "/perf db", Status: "CRIT", Findings: []Finding{
				{Check: "latency | p95 **", Status: "CRIT|X", Subject: hostile, Value: 2, Threshold: 1, Unit: "s|x", Message: hostile2},
			}})},
	} {
		ev.OccurredAt, ev.DedupeKey = t0.Add(time.Duration(i+1)*time.Minute), fmt.Sprintf("hostile:%d", i)
		if _, err := st.Record(ctx, inc.ID, ev); err != nil {
			t.Fatal(err)
		}
	}
	inc, err = st.Resolve(ctx, inc.ID, "U01ALICE", hostile+"\n"+hostile2)
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

// TestPostmortemHostileText: text from people and alerts renders literally, with no live link,
// no mention, no heading and no extra table column, in both table layouts.
func TestPostmortemHostileText(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	st, _ := newStore(t, Options{})
	inc := hostileIncident(t, st)
	oneline := lineBreaks.Replace
	for _, loc := range []*time.Location{time.UTC, berlin} {
		t.Run(loc.String(), func(t *testing.T) {
			doc, err := st.Postmortem(context.Background(), inc.ID, loc)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(doc, "\n")
			checkTables(t, lines)
			checkLinksAndMentions(t, doc)
			headings := 0
			for _, l := range lines {
				if strings.HasPrefix(l, "#") {
					headings++
				}
			}
			if headings != 10 { // the title and nine sections
				t.Errorf("%d heading lines, want 10", headings)
			}
			title, _ := strings.CutPrefix(lines[0], "# Postmortem: incident #1 — ")
			checkInert(t, "H1 title", title, hostile)
			checkInert(t, "title cell", rowCell(t, lines, "| Title |", 2), hostile)
			checkInert(t, "note", rowCell(t, lines, "| note |", -2), oneline(hostile2))
			checkInert(t, "note author", rowCell(t, lines, "| note |", -3), "U1<!channel>")
			checkInert(t, "finding subject", rowCell(t, lines, "| 1 | ", 4), hostile)
			checkInert(t, "finding check", rowCell(t, lines, "| 1 | ", 3), "latency | p95 **")
			rc := lineWith(t, lines, "**Root cause (as recorded at resolution):** ")
			checkInert(t, "root cause", strings.TrimPrefix(rc, "**Root cause (as recorded at resolution):** "), oneline(hostile+" "+hostile2))
			msg := lineWith(t, lines, "1. ")
			checkInert(t, "finding message", strings.TrimPrefix(msg, "1. "), oneline(hostile2))
			impact := lineWith(t, lines, "` was degraded for ")
			for _, want := range []string{"```api``<!channel>|x``` was degraded", "Alerts that fired: ``Bad`Alert<!here>``."} {
				if !strings.Contains(impact, want) {
					t.Errorf("impact line lacks %q: %s", want, impact)
				}
			}
		})
	}
}

// lineWith returns the first line containing s.
func lineWith(t *testing.T, lines []string, s string) string {
	t.Helper()
	for _, l := range lines {
		if strings.Contains(l, s) {
			return l
		}
	}
	t.Fatalf("no line contains %q", s)
	return ""
}

// rowCell returns cell i (negative: from the end) of the first table row starting with or
// containing prefix, without its padding.
func rowCell(t *testing.T, lines []string, prefix string, i int) string {
	t.Helper()
	c := cells(lineWith(t, lines, prefix))
	if i < 0 {
		i += len(c)
	}
	return strings.TrimSpace(c[i])
}

// checkTables fails when a table row has more or fewer cells than its table's header.
func checkTables(t *testing.T, lines []string) {
	t.Helper()
	want := 0
	for n, l := range lines {
		if !strings.HasPrefix(l, "|") {
			want = 0
			continue
		}
		got := len(cells(l))
		if want == 0 {
			want = got
		}
		if got != want {
			t.Errorf("line %d has %d cells, its table %d: %s", n+1, got-2, want-2, l)
		}
	}
}

// codeSpanEnd returns the length of the code span s starts with (CommonMark: a run of n
// backticks up to the next run of exactly n), or 0 when the backticks open none.
func codeSpanEnd(s string) int {
	n := len(s) - len(strings.TrimLeft(s, "`"))
	for i := n; i < len(s); {
		if s[i] != '`' {
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] == '`' {
			j++
		}
		if j-i == n {
			return j
		}
		i = j
	}
	return 0
}

// checkLinksAndMentions fails on any unescaped < outside code spans, on any [ that is not
// perfbot's own link or follow-up checkbox, and on links that are not plain http(s) destinations.
func checkLinksAndMentions(t *testing.T, doc string) {
	t.Helper()
	for i := 0; i < len(doc); i++ {
		if escaped(doc, i) {
			continue
		}
		rest := doc[i:]
		if doc[i] == '`' { // a code span is literal: skip to its closing run
			line, _, _ := strings.Cut(rest, "\n") // perfbot's code spans never span lines
			if end := codeSpanEnd(line); end > 0 {
				i += end - 1
			}
			continue
		}
		switch {
		case doc[i] == '<':
			t.Errorf("live < at %d: %.40q", i, rest)
		case doc[i] == '[' && strings.HasPrefix(rest, "[link]("):
			dest, _, ok := strings.Cut(rest[len("[link]("):], ")")
			if !ok || !(strings.HasPrefix(dest, "https://") || strings.HasPrefix(dest, "http://")) ||
				strings.ContainsAny(dest, " (|<>") || strings.Contains(dest, "evil.example") {
				t.Errorf("bad link at %d: %.80q", i, rest)
			}
		case doc[i] == '[' && !strings.HasPrefix(rest, "[ ] "):
			t.Errorf("live [ at %d: %.40q", i, rest)
		}
	}
	if !strings.Contains(doc, "([link](https://ok.example/a%20b%29c%7Cd%28e))") {
		t.Error("the pin's http link is missing or not encoded")
	}
	if strings.Contains(doc, "javascript") || strings.Contains(doc, "data:text") {
		t.Error("a non-http link was rendered")
	}
}

// TestPostmortemPeople: the document shows people as plain @U… text by default, and a publisher's
// Person formats user IDs only: actors that merely look like IDs stay escaped text.
func TestPostmortemPeople(t *testing.T) {
	st, _ := newStore(t, Options{})
	inc := hostileIncident(t, st)
	src, err := st.PostmortemSource(context.Background(), inc.ID, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := src.Markdown(nil)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := st.SavePostmortem(context.Background(), src)
	if err != nil || stored != plain {
		t.Fatalf("SavePostmortem = %v, or differs from Markdown(nil)", err)
	}
	lines := strings.Split(plain, "\n")
	if got := rowCell(t, lines, "| Resolved by |", 2); got != "@U01ALICE" {
		t.Errorf("resolved by %q, want @U01ALICE", got)
	}
	var asked []string
	canvas, err := src.Markdown(func(id string) string {
		asked = append(asked, id)
		return "![](@" + id + ")"
	})
	if err != nil {
		t.Fatal(err)
	}
	lines = strings.Split(canvas, "\n")
	if got := rowCell(t, lines, "| Resolved by |", 2); got != "![](@U01ALICE)" {
		t.Errorf("resolved by %q, want the injected mention", got)
	}
	if got := rowCell(t, lines, "| note |", -3); got != `U1\<!channel\>` {
		t.Errorf("note author %q: an actor that is not a user ID must stay escaped text", got)
	}
	for _, id := range asked {
		if id != "U01ALICE" && id != "U02BOB" {
			t.Errorf("Person was asked to format %q", id)
		}
	}
	for _, doc := range []string{plain, canvas} {
		if strings.Contains(strings.ReplaceAll(doc, `\<`, ""), "<@") {
			t.Error("the postmortem holds a chat mention")
		}
	}
}
