package bot

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "p95 is 812 ms", "p95 is 812 ms"},
		{"user mention", "<@U123>", "&lt;@U123&gt;"},
		{"channel broadcast", "<!channel> hi", "&lt;!channel&gt; hi"},
		{"here broadcast", "<!here|here>", "&lt;!here|here&gt;"},
		{"link", "<https://evil.example|click>", "&lt;https://evil.example|click&gt;"},
		{"entity in data stays literal", "&lt;!channel&gt;", "&amp;lt;!channel&amp;gt;"},
		{"bare broadcast words", "@channel @HERE @everyone @chan", "@" + zwsp + "channel @" + zwsp + "HERE @" + zwsp + "everyone @chan"},
		{"bold at boundary replaced", "*bold*", "∗bold∗"},
		{"snake case untouched", "order_items", "order_items"},
		{"italic at boundary replaced", "_it_", "ˍitˍ"},
		{"strike at boundary replaced", "~gone~", "∼gone∼"},
		{"code replaced", "`x`", "ˋxˋ"},
		{"zero-width and bidi dropped", "a\u200bb\u202ec\ufeff", "abc"},
		{"controls become spaces", "a\x00b\tc", "a b c"},
		{"newlines kept, runs capped", "a\n\n\n\nb", "a\n\nb"},
		{"invalid UTF-8 dropped", "a\xff\xfeb", "ab"},
		{"emoji kept", "🔥 :fire:", "🔥 :fire:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := escape(tt.in); got != tt.want {
				t.Errorf("escape(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestEscapeTrunc(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"fits", "hello", 5, "hello"},
		{"cut with ellipsis", "hello world", 6, "hello…"},
		{"entity kept whole", "ab<cd", 5, "ab…"},
		{"entity fits exactly", "a<", 5, "a&lt;"},
		{"multi-byte runes not split", "🔥🔥🔥🔥", 3, "🔥🔥…"},
		{"replaced marker", "ab *c", 5, "ab ∗c"},
		{"one rune budget", "hello", 1, "…"},
		{"zero budget", "hello", 0, ""},
		{"huge input bounded", strings.Repeat("x", 50_000), 10, "xxxxxxxxx…"},
		{"huge invisible input still says it was cut", strings.Repeat("\u200b", 50_000) + "tail", 10, "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := escapeTrunc(tt.in, tt.max)
			if got != tt.want {
				t.Errorf("escapeTrunc(%.40q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
		})
	}
}

func TestPlainAndCode(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"plain one line", plain("  a\nb\tc  ", 10), "a b c"},
		{"plain breaks mentions", plain("<!channel> <@U1> <#C1>", 40), "<" + zwsp + "!channel> <" + zwsp + "@U1> <" + zwsp + "#C1>"},
		{"plain cuts", plain(strings.Repeat("é", 100), 5), "éééé…"},
		{"code span", code("a_b *c* <x>", 40), "`a_b *c* &lt;x&gt;`"},
		{"code backtick", code("a`b", 40), "`aˋb`"},
		{"code empty", code(" \u200b ", 40), "—"},
		{"code cut", code(strings.Repeat("<", 50), 10), "`&lt;…`"},
		{"mrkdwn keeps formatting", escapeMrkdwn("*Usage:* `/perf db <service>`", -1), "*Usage:* `/perf db &lt;service&gt;`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func FuzzEscapeTrunc(f *testing.F) {
	for _, s := range []string{"<!channel>", "&lt;", "*a* _b_ `c`", "🔥\u200d🔥", "\xff", "@here", strings.Repeat("<", 100)} {
		f.Add(s, 10)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		max = max%4000 + 1
		if max < 1 {
			max = -max + 1
		}
		for name, got := range map[string]string{
			"escapeTrunc": escapeTrunc(s, max), "escapeLine": escapeLine(s, max),
			"escapeMrkdwn": escapeMrkdwn(s, max), "code": code(s, max+2),
		} {
			limit := max
			if name == "code" {
				limit = max + 2
			}
			if n := utf8.RuneCountInString(got); n > limit {
				t.Fatalf("%s(%q, %d) has %d runes", name, s, max, n)
			}
			if !utf8.ValidString(got) || strings.ContainsAny(got, "<>") {
				t.Fatalf("%s(%q, %d) = %q: invalid UTF-8 or raw < >", name, s, max, got)
			}
			checkSafe(t, name, "mrkdwn", got)
		}
		if got := plain(s, max); utf8.RuneCountInString(got) > max || strings.Contains(got, "<!") || strings.Contains(got, "<@") {
			t.Fatalf("plain(%q, %d) = %q", s, max, got)
		}
	})
}
