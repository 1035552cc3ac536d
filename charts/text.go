package charts

import "unicode"

// cleanText makes data-derived text safe to draw: control and invisible format characters
// (newlines, tabs, zero-width joiners, bidi overrides) become spaces or vanish, runs of spaces
// collapse, and anything longer than max runes is cut with a visible "…".
func cleanText(s string, max int) string {
	out := make([]rune, 0, min(len(s), max+1))
	space := false
	for _, r := range s {
		switch {
		case r == unicode.ReplacementChar || unicode.Is(unicode.Cf, r):
			continue
		case unicode.IsSpace(r) || unicode.IsControl(r):
			space = len(out) > 0
			continue
		}
		if space {
			out = append(out, ' ')
			space = false
		}
		out = append(out, r)
		if len(out) > max {
			out = append(out[:max-1], '…')
			break
		}
	}
	return string(out)
}
