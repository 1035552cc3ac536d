package slackserver_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/perfbot/perfbot/dev/slackserver"
)

// TestPostMessageLimitIsPerResolvedChannel checks that naming a channel by ID, "#name"
// or name (or a DM by its ID or its user's ID) spends one bucket, not one per spelling.
func TestPostMessageLimitIsPerResolvedChannel(t *testing.T) {
	for _, tc := range []struct {
		name  string
		refs  func(srv *slackserver.Server, user, ch string) []string
		burst int
	}{
		{"channel by name and ID", func(_ *slackserver.Server, _, ch string) []string { return []string{"perf-test", ch} }, 2},
		{"channel by #name, ID and name", func(_ *slackserver.Server, _, ch string) []string { return []string{"#perf-test", ch, "perf-test"} }, 3},
		{"DM by user ID and DM ID", func(srv *slackserver.Server, user, _ string) []string {
			return []string{user, srv.DirectChannel(user)}
		}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := &stepClock{now: time.Unix(1_700_000_000, 0)}
			srv := slackserver.NewTestServer(t, slackserver.Options{
				Clock: clock, RateLimits: slackserver.RateLimits{PostMessagePerSecond: 1, PostMessageBurst: tc.burst},
			})
			user, ch := workspace(srv)
			api := newAPI(srv)
			refs := tc.refs(srv, user, ch)
			post := func(ref string) error {
				_, _, err := api.PostMessageContext(context.Background(), ref, slack.MsgOptionText("x", false))
				return err
			}
			for i := range tc.burst {
				if err := post(refs[i%len(refs)]); err != nil {
					t.Fatalf("burst post %d to %s: %v", i, refs[i%len(refs)], err)
				}
			}
			for _, ref := range refs {
				var rl *slack.RateLimitedError
				if err := post(ref); !errors.As(err, &rl) {
					t.Fatalf("post to %s after the burst = %v, want RateLimitedError", ref, err)
				}
			}
		})
	}
}
