package textfmt

import "testing"

func TestSeconds(t *testing.T) {
	for _, c := range []struct {
		s    float64
		want string
	}{{0, "0ms"}, {0.85, "850ms"}, {12.34, "12.3s"}, {303, "5m03s"}, {7500, "2h05m"}} {
		if got := Seconds(c.s); got != c.want {
			t.Errorf("Seconds(%v) = %q, want %q", c.s, got, c.want)
		}
	}
}
