package textfmt

import (
	"math"
	"testing"
	"unicode/utf8"
)

func TestValue(t *testing.T) {
	for _, c := range []struct {
		v    float64
		unit string
		want string
	}{
		{812, "ms", "812 ms"}, {1.25, "s", "1.25 s"}, {0.0234, "", "0.0234"}, {3.5, "%", "3.5%"},
		{0, "ms", "0 ms"}, {12.34, "x", "12.3 x"}, {2e6, "B", "2e+06 B"}, {math.NaN(), "ms", "n/a"}, {math.Inf(1), "", "n/a"},
	} {
		if got := Value(c.v, c.unit); got != c.want {
			t.Errorf("Value(%v, %q) = %q, want %q", c.v, c.unit, got, c.want)
		}
	}
	if got := Millis(0.8123); got != "812 ms" {
		t.Errorf("Millis = %q", got)
	}
	if got := Percent(0.0123); got != "1.23 %" {
		t.Errorf("Percent = %q", got)
	}
}

func TestTruncate(t *testing.T) {
	for _, c := range []struct {
		s    string
		max  int
		want string
	}{
		{"hello", 5, "hello"}, {"hello!", 5, "hell…"}, {"äöüßé", 3, "äö…"}, {"x", 0, ""}, {"", 3, ""},
	} {
		got := Truncate(c.s, c.max)
		if got != c.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", c.s, c.max, got, c.want)
		}
		if c.max > 0 && utf8.RuneCountInString(got) > c.max {
			t.Errorf("Truncate(%q, %d) is %d runes", c.s, c.max, utf8.RuneCountInString(got))
		}
	}
}

func TestIDs(t *testing.T) {
	if !IsUserID("U012AB") || !IsUserID("W0ABC") || IsUserID("S012AB") || IsUserID("U0<!here>") || IsUserID("u012") {
		t.Error("IsUserID")
	}
	if !IsGroupID("S0ABC") || IsGroupID("U0ABC") {
		t.Error("IsGroupID")
	}
	if !IsChannelID("C0ABC") || !IsChannelID("G0ABC") || IsChannelID("U0ABC") {
		t.Error("IsChannelID")
	}
	if !IsID("B0ABC") || IsID("b0abc") {
		t.Error("IsID")
	}
}

func TestWebURL(t *testing.T) {
	for _, c := range []struct{ in, unsafe, want string }{
		{"https://grafana.example/d/x?a=1&b=2", "|<>", "https://grafana.example/d/x?a=1&b=2"},
		{"http://h/a b|c", "|", "http://h/a%20b%7Cc"},
		{"javascript:alert(1)", "", ""},
		{"/relative", "", ""},
		{"https://h/ü", "", "https://h/%C3%BC"},
	} {
		if got := WebURL(c.in, c.unsafe); got != c.want {
			t.Errorf("WebURL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 512: "512 B", 1536: "1.5 KiB", 13_107_200: "12.5 MiB", 3 << 30: "3 GiB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}
