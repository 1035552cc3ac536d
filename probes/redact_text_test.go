package probes

import (
	"strings"
	"testing"
)

func TestRedactText(t *testing.T) {
	cases := map[string]string{
		"WARN slow query duration=1.2s sql=\"SELECT * FROM users WHERE email='alice@example.com'\"": "WARN slow query duration=1.2s sql=\"SELECT * FROM users WHERE email='…'\"",
		"ERROR dial postgres://app:s3cret@db:5432/studio failed":                                    "ERROR dial postgres://…@db:5432/studio failed",
		"login failed for bob.smith+x@corp.example.org":                                             "login failed for …@…",
		"charge card 4111111111111111 declined":                                                     "charge card … declined",
		"config password=hunter2 token: abc.def api_key=\"k-123\"":                                  "config password=… token: … api_key=…",
		"ERROR request failed endpoint=/api/ideas status=500 duration=812ms":                        "ERROR request failed endpoint=/api/ideas status=500 duration=812ms",
	}
	for in, want := range cases {
		if got := RedactText(in); got != want {
			t.Errorf("RedactText(%q)\n got %q\nwant %q", in, got, want)
		}
	}
	for _, secret := range []string{"alice@example.com", "s3cret", "4111111111111111", "hunter2"} {
		for in := range cases {
			if strings.Contains(RedactText(in), secret) {
				t.Errorf("%q survived in %q", secret, RedactText(in))
			}
		}
	}
}
