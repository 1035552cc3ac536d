package probes

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// MaxRedactBytes is how much of a text RedactText reads; what follows is cut. Shown lines are far
// shorter, and reading no more keeps a 1 MiB log line from costing seconds.
const MaxRedactBytes = 64 << 10

// Redacted is what stands in for a removed secret or personal datum.
const Redacted = "…"

// textShape is one kind of secret or personal datum RedactText removes: what it looks like and
// what a match becomes. Shapes apply in table order, each to the output of the one before.
type textShape struct {
	name string
	re   *regexp.Regexp
	// repl is a regexp template (${1}…) for the match; when rewrite is set it is used instead.
	repl    string
	rewrite func(s string, m []int) string
	// hints are lower-case strings of which a text must hold one for the shape to match at all;
	// none means every text is searched. They save the regexp a pass over most lines.
	hints []string
}

// tokenEdge starts a shape that must not begin inside a word: the start of the text or a byte that
// is not a letter or digit ('_', '-', '=', ':' and quotes all qualify, so OPENAI_API_KEY=sk-… is found).
const tokenEdge = `(^|[^A-Za-z0-9])`

// textShapes is the table of what RedactText removes, in the order it applies them. The corpus in
// testdata/redact/corpus.txt has lines of every shape; each shape's name is the corpus's heading.
var textShapes = []textShape{
	// -----BEGIN RSA PRIVATE KEY----- … -----END RSA PRIVATE KEY----- (on one line, or cut before its end).
	{name: "PEM block", re: regexp.MustCompile(`-----BEGIN ([A-Z0-9 ]{1,40})-----(?s:.*?)(-----END [A-Z0-9 ]{1,40}-----|$)`),
		repl: "-----BEGIN ${1}-----" + Redacted + "${2}", hints: []string{"-----begin "}},
	// Authorization: Bearer x, Proxy-Authorization: Basic x, Cookie: a=b; c=d, Set-Cookie: … — to the end of the line.
	{name: "credential header", re: regexp.MustCompile(`(?i)(^|[^A-Za-z0-9_-])((?:proxy-)?authorization|(?:set-)?cookie|x-api-key|x-auth-token)(\s*:[ \t]*)((?:bearer|basic|digest|negotiate|token)[ \t]+)?[^\r\n]+`),
		repl: "${1}${2}${3}${4}" + Redacted, hints: []string{"authorization", "cookie", "x-api-key", "x-auth-token"}},
	// scheme://user:pass@host, also a password holding '@' (the last '@' before the path ends the user part).
	{name: "URL credentials", re: regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://)[^/\s]*@`), repl: "${1}" + Redacted + "@", hints: []string{"://"}},
	// Go's MySQL DSN: user:pass@tcp(host:3306)/db.
	{name: "MySQL DSN", re: regexp.MustCompile(`[A-Za-z0-9._-]*:\S*?@(tcp|udp|unix)\(`), repl: Redacted + "@${1}(", hints: []string{"@tcp(", "@udp(", "@unix("}},
	// Slack incoming webhooks carry their secret in the path.
	{name: "Slack webhook URL", re: regexp.MustCompile(`(hooks\.slack\.com/(?:services|workflows|triggers)/)[A-Za-z0-9/_-]+`), repl: "${1}" + Redacted,
		hints: []string{"hooks.slack.com/"}},
	// Tokens recognisable by their prefix, wherever they appear.
	{name: "API token", re: regexp.MustCompile(tokenEdge + `(?:` +
		`sk-[A-Za-z0-9_-]{16,}` + // OpenAI (sk-…, sk-proj-…), Anthropic (sk-ant-…)
		`|[sr]k_(?:live|test)_[A-Za-z0-9]{10,}` + // Stripe
		`|xox[abposre]-[A-Za-z0-9-]{8,}` + // Slack bot, user, app-level and refresh tokens
		`|xapp-[A-Za-z0-9-]{8,}` + // Slack app-level token
		`|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}` + // GitHub
		`|glpat-[A-Za-z0-9_-]{20,}` + // GitLab
		`|(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA)[A-Z0-9]{16}` + // AWS access key IDs
		`|AIza[A-Za-z0-9_-]{35}` + // Google API keys
		`|eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*` + // JWTs ({"alg":… base64url-encoded)
		`)`), repl: "${1}" + Redacted,
		hints: []string{"sk-", "sk_", "rk_", "xox", "xapp-", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-",
			"akia", "asia", "abia", "acca", "agpa", "aida", "aipa", "anpa", "anva", "aroa", "apka", "aiza", "eyj"}},
	// password=x, "api_key": "x", client_secret: x, OPENAI_API_KEY=x, token := "x", \"password\":\"x\".
	{name: "secret key=value", rewrite: redactPairs},
	// --password x, -token x (command lines; --password=x is a key=value pair).
	{name: "secret flag", re: regexp.MustCompile(`(^|\s)(--?[A-Za-z0-9_-]*(?i:password|passwd|passphrase|token|secret|api-?key)[A-Za-z0-9_-]*)[ \t]+([^\s-]\S*)`),
		repl: "${1}${2} " + Redacted, hints: []string{"password", "passwd", "passphrase", "token", "secret", "apikey", "api-key"}},
	// Bearer x and Basic x outside a header ("sent Bearer abc…").
	{name: "Bearer/Basic credentials", re: regexp.MustCompile(`(?i)(^|[^A-Za-z0-9_-])(bearer|basic)[ \t]+[A-Za-z0-9._~+/=-]{8,}`),
		repl: "${1}${2} " + Redacted, hints: []string{"bearer", "basic"}},
	// 40 or more base64 characters mixing upper case, lower case and digits: a PEM body line, an AWS
	// secret access key, a random token. Hex (hashes, trace IDs) and words are kept.
	{name: "random base64 run", rewrite: redactRandomRuns},
	// Personal data.
	{name: "e-mail address", re: regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`), repl: Redacted + "@" + Redacted, hints: []string{"@"}},
	{name: "single-quoted literal", re: regexp.MustCompile(`'[^']*'`), repl: "'" + Redacted + "'", hints: []string{"'"}},
	// Card and phone numbers; not a part of a UUID or a name (…-446655440000, build_123456789).
	{name: "long digit run", re: regexp.MustCompile(`\b\d{9,}\b`), rewrite: redactDigits},
}

// RedactText removes secrets and what may be personal data from free text shown to users, such as
// an application's log line, a health check's detail or a backend's error. What it removes is the
// table textShapes: PEM blocks; Authorization, Cookie and API-key headers; credentials in URLs and
// DSNs; tokens known by their prefix (OpenAI, Anthropic, Stripe, Slack, GitHub, GitLab, AWS, Google,
// JWTs); the value of any key=value, key: value, JSON or YAML pair whose key names a secret
// (password, secret, token, api_key, credentials, …, in any case and any snake, kebab or camel
// spelling); secret command-line flags; long random base64 runs; e-mail addresses, single-quoted
// literals and long digit runs. It keeps the rest, so the line still says what happened. Text past
// MaxRedactBytes is cut (and ends in Redacted), so the work is bounded; the output is never more
// than twice as long as what is read, and redacting it again changes nothing.
func RedactText(s string) string {
	if len(s) > MaxRedactBytes {
		cut := MaxRedactBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + Redacted
	}
	lower := strings.ToLower(s) // hints are looked for in the input: redaction only removes text
	for _, sh := range textShapes {
		if len(sh.hints) > 0 && !containsAny(lower, sh.hints) {
			continue
		}
		if sh.re == nil {
			s = sh.rewrite(s, nil)
			continue
		}
		if sh.rewrite != nil {
			s = replaceMatches(sh.re, s, sh.rewrite)
			continue
		}
		s = sh.re.ReplaceAllString(s, sh.repl)
	}
	return s
}

// replaceMatches replaces each match of re in s by what rewrite makes of it; m holds the match's
// submatch indexes into s.
func replaceMatches(re *regexp.Regexp, s string, rewrite func(s string, m []int) string) string {
	all := re.FindAllStringSubmatchIndex(s, -1)
	if all == nil {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for _, m := range all {
		b.WriteString(s[last:m[0]])
		b.WriteString(rewrite(s, m))
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// redactRandomRuns redacts every run of 40 or more base64 characters (and up to two '=' after it)
// that looks random: upper case, lower case and digits all present, and a stretch of at least 20
// without '/' (so a long URL path stays).
func redactRandomRuns(s string, _ []int) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		if !isBase64(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isBase64(s[j]) {
			j++
		}
		end := j
		for k := 0; k < 2 && end < len(s) && s[end] == '='; k++ {
			end++
		}
		if j-i >= 40 && looksRandom(s[i:j]) {
			b.WriteString(s[last:i])
			b.WriteString(Redacted)
			last = end
		}
		i = end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func isBase64(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/'
}

// looksRandom reports whether a base64 run mixes upper case, lower case and digits and has 20
// characters without a '/' somewhere.
func looksRandom(run string) bool {
	var upper, lower, digit bool
	longest, cur := 0, 0
	for i := 0; i < len(run); i++ {
		c := run[i]
		switch {
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= '0' && c <= '9':
			digit = true
		}
		if c == '/' {
			cur = 0
			continue
		}
		cur++
		longest = max(longest, cur)
	}
	return upper && lower && digit && longest >= 20
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// redactDigits redacts a run of 9 or more digits unless a '-' or '_' joins it to more of an identifier.
func redactDigits(s string, m []int) string {
	joined := func(i int) bool { return i >= 0 && i < len(s) && (s[i] == '-' || s[i] == '_') }
	if joined(m[0]-1) || joined(m[1]) {
		return s[m[0]:m[1]]
	}
	return Redacted
}
