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

// TestTiersLimitEveryMethod: with RateLimits.Tiers each method spends its own documented
// tier (chat.postEphemeral tier 4, conversations.invite tier 3, conversations.setTopic
// tier 2); a 429 says when to come back, and refusals are counted per method and code.
func TestTiersLimitEveryMethod(t *testing.T) {
	clock := &stepClock{now: time.Unix(1_700_000_000, 0)}
	srv := slackserver.NewTestServer(t, slackserver.Options{Clock: clock, RateLimits: slackserver.RateLimits{Tiers: true}})
	user, ch := workspace(srv)
	api, ctx := newAPI(srv), context.Background()
	for _, tc := range []struct {
		method string
		calls  int
		wait   time.Duration
		call   func() error
	}{
		{"chat.postEphemeral", 100, time.Second, func() error {
			_, err := api.PostEphemeralContext(ctx, ch, user, slack.MsgOptionText("x", false))
			return err
		}},
		{"conversations.setTopic", 20, 3 * time.Second, func() error {
			_, err := api.SetTopicOfConversationContext(ctx, ch, "topic")
			return err
		}},
		{"conversations.info", 50, 2 * time.Second, func() error {
			_, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: ch})
			return err
		}},
	} {
		for i := range tc.calls {
			if err := tc.call(); err != nil {
				t.Fatalf("%s call %d of its tier: %v", tc.method, i+1, err)
			}
		}
		var rl *slack.RateLimitedError
		if err := tc.call(); !errors.As(err, &rl) || rl.RetryAfter != tc.wait {
			t.Fatalf("%s beyond its tier = %v, want RateLimitedError after %s", tc.method, err, tc.wait)
		}
		if n := srv.Refusals(tc.method, "ratelimited"); n != 1 {
			t.Errorf("%s: %d ratelimited refusals counted, want 1", tc.method, n)
		}
	}
	clock.Add(3 * time.Second)
	if _, err := api.SetTopicOfConversationContext(ctx, ch, "topic"); err != nil {
		t.Fatalf("after Retry-After: %v", err)
	}
}

// TestWithoutTiersOnlyTheNamedMethodsAreLimited: the default limits leave chat.postEphemeral alone.
func TestWithoutTiersOnlyTheNamedMethodsAreLimited(t *testing.T) {
	clock := &stepClock{now: time.Unix(1_700_000_000, 0)}
	srv := slackserver.NewTestServer(t, slackserver.Options{Clock: clock})
	user, ch := workspace(srv)
	api := newAPI(srv)
	for i := range 150 {
		if _, err := api.PostEphemeralContext(context.Background(), ch, user, slack.MsgOptionText("x", false)); err != nil {
			t.Fatalf("ephemeral %d: %v", i+1, err)
		}
	}
}

// TestBurstCapsEveryMethod: with Burst 1 a method limited to 60 calls a minute takes one a second.
func TestBurstCapsEveryMethod(t *testing.T) {
	clock := &stepClock{now: time.Unix(1_700_000_000, 0)}
	srv := slackserver.NewTestServer(t, slackserver.Options{Clock: clock,
		RateLimits: slackserver.RateLimits{Tiers: true, Burst: 1, PerMinute: map[string]int{"conversations.setTopic": 60}}})
	_, ch := workspace(srv)
	api := newAPI(srv)
	setTopic := func() error { _, err := api.SetTopicOfConversationContext(context.Background(), ch, "t"); return err }
	if err := setTopic(); err != nil {
		t.Fatal(err)
	}
	var rl *slack.RateLimitedError
	if err := setTopic(); !errors.As(err, &rl) || rl.RetryAfter != time.Second {
		t.Fatalf("second call at once = %v, want RateLimitedError after 1s", err)
	}
	clock.Add(time.Second)
	if err := setTopic(); err != nil {
		t.Fatalf("a second later: %v", err)
	}
}
