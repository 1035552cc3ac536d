package handlers_test

import (
	"strings"
	"testing"

	"github.com/perfbot/perfbot/handlers"
)

const zwsp = "\u200b"

func TestDataBreaksBroadcastsAndMarkup(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"a < b && c > d", "a &lt; b &amp;&amp; c &gt; d"},
		{"<!channel> <@U0ALICE01>", "&lt;!channel&gt; &lt;@U0ALICE01&gt;"},
		{"ping @here now", "ping @" + zwsp + "here now"},
		{"@channel", "@" + zwsp + "channel"},
		{"@EVERYONE and @Here", "@" + zwsp + "EVERYONE and @" + zwsp + "Here"},
		{"x@everyone.example", "x@" + zwsp + "everyone.example"},
		{"@@here", "@@" + zwsp + "here"},
		{"@heroku @chan", "@heroku @chan"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got := handlers.Data(tc.in)
			if got != tc.want {
				t.Errorf("Data(%q) = %q, want %q", tc.in, got, tc.want)
			}
			for _, w := range []string{"@here", "@channel", "@everyone"} {
				if strings.Contains(strings.ToLower(got), w) {
					t.Errorf("Data(%q) = %q still says %s", tc.in, got, w)
				}
			}
		})
	}
}

func TestMentionOnlyForSlackIDs(t *testing.T) {
	cases := []struct{ in, want string }{
		{"U0ALICE001", "<@U0ALICE001>"},
		{"W012AB3CD", "<@W012AB3CD>"},
		{"S0SREGROUP", "<!subteam^S0SREGROUP>"},
		{"U1> <!channel", "U1&gt; &lt;!channel"},
		{"S1> <!here", "S1&gt; &lt;!here"},
		{"Ualice", "Ualice"},
		{"U1", "U1"},
		{"Sam @channel", "Sam @" + zwsp + "channel"},
		{"U0ALICE001\n", "U0ALICE001\n"},
		{"", ""},
		{"C0CHANNEL1", "C0CHANNEL1"},
	}
	for _, tc := range cases {
		if got := handlers.Mention(tc.in); got != tc.want {
			t.Errorf("Mention(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
