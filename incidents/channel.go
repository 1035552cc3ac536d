package incidents

import (
	"strconv"
	"strings"
	"time"
)

// maxChannelName is Slack's limit on channel name length.
const maxChannelName = 80

// ChannelName names an incident channel inc-YYYYMMDD-<slug>: lowercase, only [a-z0-9-], at most
// 80 characters. When taken reports a name in use, it tries -2, -3, … until one is free.
// The date is now's date in UTC.
func ChannelName(now time.Time, title string, taken func(string) bool) string {
	prefix := "inc-" + now.UTC().Format("20060102") + "-"
	slug := Slug(title)
	if slug == "" {
		slug = "incident"
	}
	for n := 1; ; n++ {
		suffix := ""
		switch {
		case n > 1000: // taken is lying or the day is absurd: fall back to a time-based suffix
			suffix = "-" + strconv.FormatInt(now.UnixNano()+int64(n), 36)
		case n > 1:
			suffix = "-" + strconv.Itoa(n)
		}
		room := maxChannelName - len(prefix) - len(suffix)
		// The slug is ASCII, and a cut needs no ellipsis (which a channel name cannot hold).
		name := prefix + strings.TrimRight(slug[:min(len(slug), room)], "-") + suffix
		if taken == nil || !taken(name) || n > 1100 {
			return name
		}
	}
}

// Slug turns free text into lowercase words of [a-z0-9] joined by single hyphens.
func Slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		default:
			dash = true
		}
	}
	return b.String()
}
