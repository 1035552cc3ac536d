// Package textfmt is the one home of perfbot's small text helpers: a measured value with its
// unit, rune-safe truncation, and the shapes of the chat IDs people configure.
package textfmt

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Value prints a measured value compactly with its unit: "812 ms", "1.25 s", "0.0234", "3.5%".
// NaN and infinities print as "n/a".
func Value(v float64, unit string) string {
	var s string
	switch a := math.Abs(v); {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "n/a"
	case a >= 1e6:
		s = strconv.FormatFloat(v, 'g', 4, 64)
	case a >= 100:
		s = strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		s = strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1 || a == 0:
		s = strconv.FormatFloat(v, 'f', 2, 64)
	default:
		s = strconv.FormatFloat(v, 'g', 3, 64)
	}
	if strings.Contains(s, ".") && !strings.Contains(s, "e") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	switch unit {
	case "":
		return s
	case "%":
		return s + "%"
	}
	return s + " " + unit
}

// Millis prints a duration given in seconds as whole milliseconds: "812 ms".
func Millis(sec float64) string { return strconv.FormatFloat(sec*1000, 'f', 0, 64) + " ms" }

// Percent prints a fraction as a percentage with two decimals: 0.0123 → "1.23 %".
func Percent(f float64) string { return strconv.FormatFloat(f*100, 'f', 2, 64) + " %" }

// Truncate cuts s to at most max runes, marking a cut with an ellipsis (which counts toward max).
// It never splits a rune; max ≤ 0 gives "".
func Truncate(s string, max int) string {
	if max <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + "…"
}

var (
	userID  = regexp.MustCompile(`^[UW][A-Z0-9]{2,30}$`)
	groupID = regexp.MustCompile(`^S[A-Z0-9]{2,30}$`)
	chanID  = regexp.MustCompile(`^[CGD][A-Z0-9]{2,30}$`)
	anyID   = regexp.MustCompile(`^[A-Z0-9]{2,30}$`)
)

// IsUserID reports whether s has the shape of a chat user ID (U…, or W… in Enterprise Grid).
func IsUserID(s string) bool { return userID.MatchString(s) }

// IsGroupID reports whether s has the shape of a user group ID (S…).
func IsGroupID(s string) bool { return groupID.MatchString(s) }

// IsChannelID reports whether s has the shape of a channel ID (C…, G… or D…).
func IsChannelID(s string) bool { return chanID.MatchString(s) }

// IsID reports whether s has the shape of any chat ID (upper-case letters and digits).
func IsID(s string) bool { return anyID.MatchString(s) }
