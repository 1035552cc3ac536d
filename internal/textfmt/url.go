package textfmt

import (
	"fmt"
	"net/url"
	"strings"
)

// WebURL returns u made safe to embed in a markup link: only absolute http and https URLs
// qualify ("" otherwise, so a javascript: or relative link never becomes live), with spaces,
// control bytes, non-ASCII bytes and every byte in unsafe percent-encoded.
func WebURL(u, unsafe string) string {
	u = strings.TrimSpace(u)
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return ""
	}
	var b strings.Builder
	for i := 0; i < len(u); i++ {
		c := u[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(unsafe, c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
