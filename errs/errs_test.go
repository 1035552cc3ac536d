package errs

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

func TestUserMessage(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{Invalidf("usage: /perf %s", "db"), "usage: /perf db"},
		{fmt.Errorf("wrapped: %w", Forbiddenf("not an approver")), "Not allowed: not an approver"},
		{NotFoundf("deployment x"), "Not found: deployment x"},
		{Conflictf("already approved"), "already approved"},
		{Unavailablef("no kubeconfig"), "Unavailable: no kubeconfig"},
		{fmt.Errorf("pq: password authentication failed"), "internal error (ref r1)"},
	}
	for _, c := range cases {
		got := UserMessage(c.err, "r1")
		if !strings.Contains(got, c.want) {
			t.Errorf("UserMessage(%v) = %q, want it to contain %q", c.err, got, c.want)
		}
		if KindOf(c.err) == Internal && strings.Contains(got, "password") {
			t.Errorf("an internal error leaked its text to the user: %q", got)
		}
	}
}

var emojiCode = regexp.MustCompile(`:[a-z0-9_+-]+:`)

func TestUserMessageIsPlainText(t *testing.T) {
	for _, err := range []error{Invalidf("x"), NotFoundf("x"), Forbiddenf("x"), Conflictf("x"), Unavailablef("x"), fmt.Errorf("x")} {
		got := UserMessage(err, "r1")
		if emojiCode.MatchString(got) {
			t.Errorf("UserMessage(%v) = %q carries an emoji code", err, got)
		}
	}
	if got := UserMessage(Conflictf("already approved"), "r1"); got != "already approved" {
		t.Errorf("conflict = %q, want the message alone", got)
	}
}
