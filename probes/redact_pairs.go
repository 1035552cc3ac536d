package probes

import (
	"regexp"
	"strings"
)

// secretPairKey finds a key that may name a secret and its separator: key=value, key: value,
// key := value, key => value, with the key bare or quoted ("key", 'key', \"key\"). A match starts
// where its run of key characters starts (the leading class takes the whole run), so no match
// begins inside a longer name. Whether the key really names a secret is decided by secretKey.
var secretPairKey = regexp.MustCompile(`(\\?["']?)` + // 1: the key's opening quote
	`([A-Za-z0-9_.-]*(?i:password|passwd|pwd|passphrase|secret|token|api[_.-]?key|access[_.-]?key|private[_.-]?key|credential|auth|cookie|session[_.-]?id|signature)[A-Za-z0-9_.-]*)` + // 2: the key
	`(\\?["']?[ \t]*(?::=|=>|[:=])[ \t]*)`) // 3: closing quote and separator

// secretPairValue is the value right after a separator: an HTTP auth scheme (Bearer, Basic, …, kept),
// then a JSON string, an escaped JSON string, a single-quoted string, a string cut before its
// closing quote, or a run of non-space characters.
var secretPairValue = regexp.MustCompile(`^((?i:bearer|basic|digest|negotiate|token)[ \t]+)?` + // 1: an auth scheme
	`("(?:[^"\\]|\\.)*"|\\"(?:[^"\\]|\\[^"])*\\"|'[^']*'|"(?:[^"\\]|\\.)*$|'[^']*$|\S+)`) // 2: the value

// notSecretSuffixes end keys that name something about a secret rather than the secret itself
// (max_tokens, token_count, token_type, password_expiry, secret_name), compared without case or separators.
var notSecretSuffixes = []string{"tokens", "count", "type", "ttl", "expiry", "expires", "expiresin", "expiresat",
	"length", "len", "limit", "url", "uri", "endpoint", "path", "file", "usage", "remaining", "used", "name", "format"}

// secretKey reports whether a key that secretPairKey found names a secret: password, secret, token,
// api key, credentials, …, but not author, max_tokens or secret_name.
func secretKey(key string) bool {
	k := strings.ToLower(strings.NewReplacer("_", "", "-", "", ".", "").Replace(key))
	for _, suf := range notSecretSuffixes {
		if strings.HasSuffix(k, suf) {
			return false
		}
	}
	for _, w := range []string{"password", "passwd", "pwd", "passphrase", "secret", "token", "apikey", "accesskey",
		"privatekey", "credential", "cookie", "sessionid", "signature", "authorization", "authkey", "authcode"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	// "auth" alone or at the end (basic_auth, proxyAuth), not author or authenticated.
	return strings.HasSuffix(k, "auth")
}

// redactPairs replaces the value of every pair whose key names a secret, keeping the key, the
// separator, the value's quotes and an auth scheme. Keys are found first and values read after each
// secret key only, so the work stays linear; a key inside a redacted value goes with it, and a key
// inside the value of a key that is no secret (max_tokens=5,api_key=x) is still found.
func redactPairs(s string, _ []int) string {
	keys := secretPairKey.FindAllStringSubmatchIndex(s, -1)
	if keys == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, k := range keys {
		if k[0] < last || !secretKey(s[k[4]:k[5]]) {
			continue
		}
		v := secretPairValue.FindStringSubmatchIndex(s[k[1]:])
		if v == nil {
			continue // nothing follows the separator
		}
		if last == 0 {
			b.Grow(len(s))
		}
		b.WriteString(s[last:k[1]])
		if v[2] >= 0 {
			b.WriteString(s[k[1]+v[2] : k[1]+v[3]])
		}
		b.WriteString(redactedValue(s[k[1]+v[4] : k[1]+v[5]]))
		last = k[1] + v[1]
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// redactedValue is what stands for a secret value: Redacted in the value's own quotes, a quote left
// open when the value's was (the text was cut).
func redactedValue(v string) string {
	switch {
	case strings.HasPrefix(v, `\"`):
		if len(v) >= 4 && strings.HasSuffix(v, `\"`) {
			return `\"` + Redacted + `\"`
		}
		return `\"` + Redacted
	case v != "" && (v[0] == '"' || v[0] == '\''):
		if len(v) >= 2 && v[len(v)-1] == v[0] {
			return v[:1] + Redacted + v[:1]
		}
		return v[:1] + Redacted
	}
	return Redacted
}
