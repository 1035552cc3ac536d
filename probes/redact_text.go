package probes

import "regexp"

var (
	redactEmail    = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)
	redactUserinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://)[^/\s@]+@`)
	redactSecret   = regexp.MustCompile(`(?i)\b(password|passwd|pwd|secret|token|api[_-]?key|authorization)(\s*[=:]\s*)("[^"]*"|'[^']*'|\S+)`)
	redactDigits   = regexp.MustCompile(`\b\d{9,}\b`)
	redactQuoted   = regexp.MustCompile(`'[^']*'`)
)

// RedactText removes what may be personal data or a secret from free text shown to users, such as an
// application's log line or a health check's error: e-mail addresses, credentials in URLs
// (scheme://user:pass@host), values after password=/token=/api_key=, long digit runs (card or phone
// numbers) and single-quoted SQL literals. It keeps the rest, so the line still says what happened.
func RedactText(s string) string {
	s = redactUserinfo.ReplaceAllString(s, "${1}…@")
	s = redactSecret.ReplaceAllString(s, "${1}${2}…")
	s = redactEmail.ReplaceAllString(s, "…@…")
	s = redactQuoted.ReplaceAllString(s, "'…'")
	return redactDigits.ReplaceAllString(s, "…")
}
