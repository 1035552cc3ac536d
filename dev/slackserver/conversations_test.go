package slackserver_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/perfbot/perfbot/dev/slackserver"
)

func TestConversationsCreateNameRules(t *testing.T) {
	srv := slackserver.NewTestServer(t)
	srv.AddChannel("taken")
	api := newAPI(srv)
	cases := []struct{ name, want string }{
		{"inc-2024-p95-latency", ""},
		{"inc_ünïcode", ""},
		{"", "invalid_name_required"},
		{strings.Repeat("a", 81), "invalid_name_maxlength"},
		{"Incident", "invalid_name_specials"},
		{"inc 1", "invalid_name_specials"},
		{"inc#1", "invalid_name_specials"},
		{"---", "invalid_name_punctuation"},
		{"taken", "name_taken"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ch, err := api.CreateConversationContext(context.Background(), slack.CreateConversationParams{ChannelName: tc.name})
			if tc.want == "" {
				if err != nil || ch.Name != tc.name || !ch.IsMember {
					t.Fatalf("create: %+v %v", ch, err)
				}
				return
			}
			if se := slackErr(t, err); se.Err != tc.want {
				t.Fatalf("error = %s, want %s", se.Err, tc.want)
			}
		})
	}
}

// incidentChannel creates an incident channel through the Web API, as the bot does.
func incidentChannel(t *testing.T) (*slackserver.Server, *slack.Client, *slack.Channel, string) {
	t.Helper()
	srv := slackserver.NewTestServer(t, slackserver.Options{RateLimits: slackserver.RateLimits{Disabled: true}})
	user, _ := workspace(srv)
	srv.AddUser("U0BOB00001", "bob")
	api := newAPI(srv)
	ch, err := api.CreateConversationContext(context.Background(), slack.CreateConversationParams{ChannelName: "inc-42"})
	if err != nil {
		t.Fatal(err)
	}
	return srv, api, ch, user
}

func TestIncidentChannelSetup(t *testing.T) {
	srv, api, ch, user := incidentChannel(t)
	ctx := context.Background()
	if _, err := api.InviteUsersToConversationContext(ctx, ch.ID, user, "U0BOB00001"); err != nil {
		t.Fatalf("invite: %v", err)
	}
	_, err := api.InviteUsersToConversationContext(ctx, ch.ID, user)
	if se := slackErr(t, err); se.Err != "already_in_channel" {
		t.Fatalf("re-invite: %s", se.Err)
	}
	if _, err := api.SetTopicOfConversationContext(ctx, ch.ID, "SEV2 p95 latency"); err != nil {
		t.Fatal(err)
	}
	_, err = api.SetTopicOfConversationContext(ctx, ch.ID, strings.Repeat("t", 251))
	if se := slackErr(t, err); se.Err != "too_long" {
		t.Fatalf("long topic: %s", se.Err)
	}
	info, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: ch.ID})
	if err != nil || info.Topic.Value != "SEV2 p95 latency" {
		t.Fatalf("info: %+v %v", info, err)
	}
	members, _, err := api.GetUsersInConversationContext(ctx, &slack.GetUsersInConversationParameters{ChannelID: ch.ID})
	if err != nil || !slices.Equal(members, []string{srv.BotUserID(), user, "U0BOB00001"}) {
		t.Fatalf("members = %v %v", members, err)
	}
	if c, _ := srv.Channel(ch.ID); c.Topic != "SEV2 p95 latency" || len(c.Members) != 3 {
		t.Fatalf("channel = %+v", c)
	}
}

func TestThreadsPinsReactionsBookmarks(t *testing.T) {
	_, api, ch, _ := incidentChannel(t)
	ctx := context.Background()
	_, ts, err := api.PostMessageContext(ctx, ch.ID, slack.MsgOptionText("timeline", false))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"note 1", "note 2"} {
		if _, _, err := api.PostMessageContext(ctx, ch.ID, slack.MsgOptionText(s, false), slack.MsgOptionTS(ts)); err != nil {
			t.Fatal(err)
		}
	}
	hist, err := api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: ch.ID})
	if err != nil || len(hist.Messages) != 1 || hist.Messages[0].ReplyCount != 2 {
		t.Fatalf("history = %+v %v", hist, err)
	}
	replies, _, _, err := api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{ChannelID: ch.ID, Timestamp: ts})
	if err != nil || len(replies) != 3 || replies[2].Text != "note 2" {
		t.Fatalf("replies = %+v %v", replies, err)
	}
	if err := api.AddPinContext(ctx, ch.ID, slack.ItemRef{Channel: ch.ID, Timestamp: ts}); err != nil {
		t.Fatalf("pin: %v", err)
	}
	err = api.AddPinContext(ctx, ch.ID, slack.ItemRef{Channel: ch.ID, Timestamp: ts})
	if se := slackErr(t, err); se.Err != "already_pinned" {
		t.Fatalf("re-pin: %s", se.Err)
	}
	pins, _, err := api.ListPinsContext(ctx, ch.ID)
	if err != nil || len(pins) != 1 || pins[0].Message.Timestamp != ts {
		t.Fatalf("pins = %+v %v", pins, err)
	}
	if err := api.AddReactionContext(ctx, "eyes", slack.ItemRef{Channel: ch.ID, Timestamp: ts}); err != nil {
		t.Fatalf("react: %v", err)
	}
	err = api.AddReactionContext(ctx, "eyes", slack.ItemRef{Channel: ch.ID, Timestamp: ts})
	if se := slackErr(t, err); se.Err != "already_reacted" {
		t.Fatalf("re-react: %s", se.Err)
	}
	item, err := api.GetReactionsContext(ctx, slack.ItemRef{Channel: ch.ID, Timestamp: ts}, slack.GetReactionsParameters{})
	if err != nil || len(item.Reactions) != 1 || item.Reactions[0].Name != "eyes" {
		t.Fatalf("reactions = %+v %v", item, err)
	}
	bm, err := api.AddBookmarkContext(ctx, ch.ID, slack.AddBookmarkParameters{Title: "Runbook", Type: "link", Link: "https://example.com/runbook"})
	if err != nil || bm.Title != "Runbook" {
		t.Fatalf("bookmark = %+v %v", bm, err)
	}
	_, err = api.AddBookmarkContext(ctx, ch.ID, slack.AddBookmarkParameters{Title: "x", Type: "link", Link: "ftp://x"})
	if se := slackErr(t, err); se.Err != "invalid_link" {
		t.Fatalf("bad link: %s", se.Err)
	}
}

func TestJoinAndNotInChannel(t *testing.T) {
	srv := slackserver.NewTestServer(t)
	ch := srv.AddChannel("ops")
	srv.RemoveMember(ch, srv.BotUserID())
	api, ctx := newAPI(srv), context.Background()
	_, err := api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: ch})
	if se := slackErr(t, err); se.Err != "not_in_channel" {
		t.Fatalf("history outside: %s", se.Err)
	}
	if _, _, _, err := api.JoinConversationContext(ctx, ch); err != nil {
		t.Fatal(err)
	}
	if _, _, err := api.PostMessageContext(ctx, ch, slack.MsgOptionText("hi", false)); err != nil {
		t.Fatalf("post after join: %v", err)
	}
}

func TestUsersAndUserGroups(t *testing.T) {
	srv := slackserver.NewTestServer(t)
	srv.AddUser("U0ALICE001", "alice")
	srv.AddUserGroup("S0SRE00001", "U0ALICE001")
	api, ctx := newAPI(srv), context.Background()
	u, err := api.GetUserInfoContext(ctx, "U0ALICE001")
	if err != nil || u.Name != "alice" {
		t.Fatalf("user = %+v %v", u, err)
	}
	_, err = api.GetUserInfoContext(ctx, "U404")
	if se := slackErr(t, err); se.Err != "user_not_found" {
		t.Fatalf("unknown user: %s", se.Err)
	}
	users, err := api.GetUserGroupMembersContext(ctx, "S0SRE00001")
	if err != nil || !slices.Equal(users, []string{"U0ALICE001"}) {
		t.Fatalf("group = %v %v", users, err)
	}
	_, err = api.GetUserGroupMembersContext(ctx, "S404")
	if se := slackErr(t, err); se.Err != "no_such_subteam" {
		t.Fatalf("unknown group: %s", se.Err)
	}
	free := slackserver.NewTestServer(t, slackserver.Options{FreePlan: true})
	free.AddUserGroup("S0SRE00001")
	_, err = newAPI(free).GetUserGroupMembersContext(ctx, "S0SRE00001")
	if se := slackErr(t, err); se.Err != "plan_upgrade_required" {
		t.Fatalf("free plan: %s", se.Err)
	}
}

func TestCanvases(t *testing.T) {
	srv := slackserver.NewTestServer(t)
	_, ch := workspace(srv)
	api, ctx := newAPI(srv), context.Background()
	doc := slack.DocumentContent{Type: "markdown", Markdown: "# Incident 42\n"}
	id, err := api.CreateChannelCanvasContext(ctx, ch, doc)
	if err != nil {
		t.Fatal(err)
	}
	_, err = api.CreateChannelCanvasContext(ctx, ch, doc)
	if se := slackErr(t, err); se.Err != "channel_canvas_already_exists" {
		t.Fatalf("second channel canvas: %s", se.Err)
	}
	err = api.EditCanvasContext(ctx, slack.EditCanvasParams{CanvasID: id, Changes: []slack.CanvasChange{{
		Operation: "insert_at_end", DocumentContent: slack.DocumentContent{Type: "markdown", Markdown: "- 10:02 p95 alert fired\n"},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	pm, err := api.CreateCanvasContext(ctx, "Postmortem", doc, slack.CreateCanvasOptionChannelID(ch))
	if err != nil {
		t.Fatal(err)
	}
	cvs := srv.Canvases(ch)
	if len(cvs) != 2 || cvs[0].ID != id || cvs[0].Markdown != "# Incident 42\n- 10:02 p95 alert fired\n" || cvs[0].Edits != 1 ||
		cvs[1].ID != pm || cvs[1].Title != "Postmortem" {
		t.Fatalf("canvases = %+v", cvs)
	}
	err = api.EditCanvasContext(ctx, slack.EditCanvasParams{CanvasID: "F404", Changes: []slack.CanvasChange{{Operation: "replace"}}})
	if se := slackErr(t, err); se.Err != "canvas_not_found" {
		t.Fatalf("unknown canvas: %s", se.Err)
	}
	free := slackserver.NewTestServer(t, slackserver.Options{FreePlan: true})
	_, err = newAPI(free).CreateCanvasContext(ctx, "x", doc)
	if se := slackErr(t, err); se.Err != "free_teams_cannot_create_standalone_canvases" {
		t.Fatalf("free standalone canvas: %s", se.Err)
	}
}

func TestUnknownMethodAndMissingArguments(t *testing.T) {
	srv := slackserver.NewTestServer(t)
	api, ctx := newAPI(srv), context.Background()
	_, err := api.GetUserInfoContext(ctx, "")
	// users.info's response type hides response_metadata, so read Slack's "errors" list.
	if se := slackErr(t, err); se.Err != "invalid_arguments" || len(se.Errors) != 1 ||
		se.Errors[0].Message == nil || *se.Errors[0].Message != "missing required field: user" {
		t.Fatalf("missing user: %+v", se)
	}
	_, _, err = api.PostMessageContext(ctx, "", slack.MsgOptionText("x", false))
	if se := slackErr(t, err); se.Err != "channel_not_found" {
		t.Fatalf("missing channel: %s", se.Err)
	}
}
