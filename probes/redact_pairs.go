package probes

import (
	"regexp"
	"strings"
)

// secretPairValue is the value right after a separator: an HTTP auth scheme (Bearer, Basic, …, kept),
// then a JSON string, an escaped JSON string, a single-quoted string, a string cut before its
// closing quote, or a run of non-space characters.
var secretPairValue = regexp.MustCompile(`^((?i:bearer|basic|digest|negotiate|token)[ \t]+)?` + // 1: an auth scheme
	`("(?:[^"\\]|\\.)*"|\\"(?:[^"\\]|\\[^"])*\\"|'[^']*'|"(?:[^"\\]|\\.)*$|'[^']*$|\S+)`) // 2: the value

// notSecretSuffixes end keys that name something about a secret rather than the secret itself
// (max_tokens, token_count, token_type, password_expiry, secret_name), compared without case or separators.
var notSecretSuffixes = []string{"tokens", "count", "type", "ttl", "expiry", "expires", "expiresin", "expiresat",
	"length", "len", "limit", "url", "uri", "endpoint", "path", "file", "usage", "remaining", "used", "name", "format"}

// keyWords are what a key that names a secret holds, compared without case or separators.
var keyWords = []string{"password", "passwd", "pwd", "passphrase", "secret", "token", "apikey", "accesskey",
	"privatekey", "credential", "cookie", "sessionid", "signature", "authorization", "authkey", "authcode"}

// secretKey reports whether a key names a secret (password, client_secret, OPENAI_API_KEY, apiKey,
// x-auth-token, basic_auth, …) rather than something else (author, max_tokens, secret_name).
func secretKey(key string) bool {
	if len(key) < 3 {
		return false
	}
	nk := make([]byte, 0, len(key))
	for i := 0; i < len(key); i++ {
		switch c := key[i]; {
		case c == '_' || c == '-' || c == '.':
		case c >= 'A' && c <= 'Z':
			nk = append(nk, c+'a'-'A')
		default:
			nk = append(nk, c)
		}
	}
	k := string(nk)
	for _, suf := range notSecretSuffixes {
		if strings.HasSuffix(k, suf) {
			return false
		}
	}
	for _, w := range keyWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	// "auth" alone or at the end (basic_auth, proxyAuth), not author or authenticated.
	return strings.HasSuffix(k, "auth")
}

// redactPairs replaces the value of every pair whose key names a secret: key=value, key: value,
// key := value, key => value, with the key bare or quoted ("key", 'key', \"key\"), in any case and
// any snake, kebab, dotted or camel spelling. It keeps the key, the separator, the value's quotes
// and an auth scheme. Keys are runs of letters, digits and _ . -, read once from left to right; a
// key inside a redacted value goes with it, and one inside the value of a key that is no secret
// (max_tokens=5,api_key=x) is still found.
func redactPairs(s string, _ []int) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		if !isKeyByte(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isKeyByte(s[j]) {
			j++
		}
		at := afterSeparator(s, j)
		if at < 0 || !secretKey(s[i:j]) {
			i = j
			continue
		}
		v := secretPairValue.FindStringSubmatchIndex(s[at:])
		if v == nil {
			i = at
			continue
		}
		if last == 0 {
			b.Grow(len(s))
		}
		b.WriteString(s[last:at])
		if v[2] >= 0 {
			b.WriteString(s[at+v[2] : at+v[3]])
		}
		b.WriteString(redactedValue(s[at+v[4] : at+v[5]]))
		last = at + v[1]
		i = last
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func isKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
}

// afterSeparator reads what may follow a key at i: a closing quote (", ', \"), blanks, and one of
// = : := =>, then blanks. It returns where the value starts, or -1 when no separator follows.
func afterSeparator(s string, i int) int {
	if i < len(s) && s[i] == '\\' && i+1 < len(s) && s[i+1] == '"' {
		i += 2
	} else if i < len(s) && (s[i] == '"' || s[i] == '\'') {
		i++
	}
	i = skipBlanks(s, i)
	switch {
	case strings.HasPrefix(s[i:], ":="), strings.HasPrefix(s[i:], "=>"):
		i += 2
	case i < len(s) && (s[i] == ':' || s[i] == '='):
		i++
	default:
		return -1
	}
	return skipBlanks(s, i)
}

func skipBlanks(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
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
