package slackserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// verificationToken is the legacy token Slack puts in every payload.
const verificationToken = "local-verification-token"

// SlashCommand sends a slash_commands envelope as if userID typed command (e.g. "/perf")
// with text in channelID, and waits for the app's ack (Options.AckTimeout, 3 s by default).
// An ack payload with text or blocks is shown like Slack does: in the channel when its
// response_type is in_channel, otherwise as an ephemeral message to the user.
func (s *Server) SlashCommand(ctx context.Context, userID, channelID, command, text string) (string, error) {
	s.mu.Lock()
	u, c, err := s.userInChannel(userID, channelID)
	if err != nil {
		s.mu.Unlock()
		return "", fmt.Errorf("slash command %s: %w", command, err)
	}
	respURL := s.newResponseURL("commands", responseTarget{channelID: c.ID, userID: u.ID})
	payload := map[string]any{
		"token": verificationToken, "team_id": s.opts.TeamID, "team_domain": s.opts.TeamName,
		"channel_id": c.ID, "channel_name": c.Name, "user_id": u.ID, "user_name": u.Name,
		"command": command, "text": text, "api_app_id": s.opts.AppID,
		"response_url": respURL, "trigger_id": s.triggerID(u.ID),
	}
	s.mu.Unlock()
	e := newEnvelope("slash_commands", mustJSON(payload))
	e.acceptsResponse = true
	e.onAck = func(a *Ack) { a.Problem = s.showAckPayload(c.ID, u.ID, a.Payload) }
	if err := s.sendAndWait(ctx, e); err != nil {
		return e.id, fmt.Errorf("slash command %s %q: %w", command, text, err)
	}
	return e.id, nil
}

// ErrNotInChannel is returned (wrapped) when a user acts in a private channel or a
// direct message they are not a member of; add them first with AddMember.
var ErrNotInChannel = errors.New("not_in_channel")

// userInChannel checks the user and channel exist and that the user may act there: a
// public channel is joined on the way, as a user opening it does; a private channel or
// DM needs the user to be a member already. s.mu must be held.
func (s *Server) userInChannel(userID, channelID string) (*User, *Channel, error) {
	u := s.ws.users[userID]
	if u == nil {
		return nil, nil, fmt.Errorf("unknown user %s", userID)
	}
	c := s.ws.channels[channelID]
	if c == nil {
		return nil, nil, fmt.Errorf("unknown channel %s", channelID)
	}
	if !c.isMember(userID) {
		if c.IsPrivate || c.IM {
			return nil, nil, fmt.Errorf("user %s in private channel %s: %w (add the user with AddMember)", userID, channelID, ErrNotInChannel)
		}
		c.addMember(userID)
	}
	return u, c, nil
}

// triggerID issues a trigger for userID's interaction, good for one views.open within
// triggerTTL. s.mu must be held.
func (s *Server) triggerID(userID string) string {
	now := s.clock.Now()
	id := fmt.Sprintf("%d.%d.%s", now.Unix(), now.UnixNano()%1e9, randomHex(32))
	s.ws.triggers[id] = &trigger{user: userID, issued: now}
	return id
}

// ClickButton sends a block_actions interactive envelope as if userID clicked the button
// with actionID on the message messageTS (a message or an ephemeral message) in channelID,
// and waits for the ack. value may be "" to use the button's own value; a value that
// differs from the button's is an error, since Slack sends what the button holds.
func (s *Server) ClickButton(ctx context.Context, userID, channelID, messageTS, actionID, value string) error {
	payload, err := s.blockActionsPayload(userID, channelID, messageTS, actionID, value)
	if err != nil {
		return fmt.Errorf("click %s: %w", actionID, err)
	}
	e := newEnvelope("interactive", mustJSON(payload))
	e.acceptsResponse = false
	if err := s.sendAndWait(ctx, e); err != nil {
		return fmt.Errorf("click %s: %w", actionID, err)
	}
	return nil
}

func (s *Server) blockActionsPayload(userID, channelID, messageTS, actionID, value string) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, c, err := s.userInChannel(userID, channelID)
	if err != nil {
		return nil, err
	}
	m, ephemeral := s.ws.findMessage(c.ID, messageTS), false
	if m == nil {
		if m = s.ws.findEphemeral(c.ID, messageTS); m == nil || m.Recipient != userID {
			return nil, fmt.Errorf("no message %s in %s visible to %s", messageTS, c.ID, userID)
		}
		ephemeral = true
	}
	button, blockID, ok := findButton(m.Blocks, actionID)
	if !ok {
		return nil, fmt.Errorf("message %s has no button with action_id %q", messageTS, actionID)
	}
	bv, _ := button["value"].(string)
	if value == "" {
		value = bv
	} else if value != bv {
		return nil, fmt.Errorf("button %q holds value %q, not %q", actionID, bv, value)
	}
	action := map[string]any{
		"action_id": actionID, "block_id": blockID, "text": button["text"], "value": value,
		"type": "button", "action_ts": s.ws.nextTS(s.clock.Now()),
	}
	if st, ok := button["style"]; ok {
		action["style"] = st
	}
	target := responseTarget{channelID: c.ID, userID: u.ID, messageTS: m.TS, ephemeral: ephemeral}
	p := map[string]any{
		"type":       "block_actions",
		"user":       map[string]any{"id": u.ID, "username": u.Name, "name": u.Name, "team_id": s.opts.TeamID},
		"api_app_id": s.opts.AppID, "token": verificationToken,
		"container":  map[string]any{"type": "message", "message_ts": m.TS, "channel_id": c.ID, "is_ephemeral": ephemeral},
		"trigger_id": s.triggerID(u.ID),
		"team":       map[string]any{"id": s.opts.TeamID, "domain": s.opts.TeamName},
		"enterprise": nil, "is_enterprise_install": false,
		"channel":      map[string]any{"id": c.ID, "name": c.Name},
		"state":        map[string]any{"values": map[string]any{}},
		"response_url": s.newResponseURL("actions", target),
		"actions":      []any{action},
	}
	if !ephemeral {
		p["message"] = s.messageJSON(m)
	}
	return p, nil
}

// findButton finds a button element by action_id in actions blocks and section accessories.
func findButton(blocks json.RawMessage, actionID string) (map[string]any, string, bool) {
	var bs []map[string]any
	if json.Unmarshal(blocks, &bs) != nil {
		return nil, "", false
	}
	for _, b := range bs {
		els, _ := b["elements"].([]any)
		if acc, ok := b["accessory"]; ok {
			els = append(els, acc)
		}
		for _, el := range els {
			m, _ := el.(map[string]any)
			if m["type"] == "button" && m["action_id"] == actionID {
				id, _ := b["block_id"].(string)
				return m, id, true
			}
		}
	}
	return nil, "", false
}

// PostEvent queues an events_api envelope wrapping event (which needs a "type", e.g.
// reaction_added) and returns its envelope ID at once; it is delivered when a socket is
// open and redelivered until acked (see Options.RedeliveryDelays).
func (s *Server) PostEvent(event map[string]any) (string, error) {
	typ, _ := event["type"].(string)
	if typ == "" {
		return "", fmt.Errorf("post event: the event has no type")
	}
	s.mu.Lock()
	now := s.clock.Now()
	ev := make(map[string]any, len(event)+1)
	for k, v := range event {
		ev[k] = v
	}
	if _, ok := ev["event_ts"]; !ok {
		ev["event_ts"] = s.ws.nextTS(now)
	}
	eventID := "Ev" + s.ws.nextID('E')[1:]
	s.mu.Unlock()
	payload := map[string]any{
		"token": verificationToken, "team_id": s.opts.TeamID, "api_app_id": s.opts.AppID,
		"event": ev, "type": "event_callback", "event_id": eventID, "event_time": now.Unix(),
		"authorizations": []any{map[string]any{
			"enterprise_id": nil, "team_id": s.opts.TeamID, "user_id": s.opts.BotUserID,
			"is_bot": true, "is_enterprise_install": false,
		}},
		"is_ext_shared_channel": false,
		"event_context":         "4-" + typ + "-" + s.opts.TeamID + "-" + strconv.FormatInt(now.Unix(), 10),
	}
	e := newEnvelope("events_api", mustJSON(payload))
	s.hub.register(e)
	go func() {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			select {
			case <-s.closed:
				cancel()
			case <-ctx.Done():
			}
		}()
		if err := s.hub.deliver(ctx, e); err != nil {
			s.log.Debug("deliver event", "err", err)
		}
	}()
	return e.id, nil
}

// SendEvent posts an events_api envelope (see PostEvent) and waits until it is acked
// on some attempt, until its retries run out, or until ctx ends.
func (s *Server) SendEvent(ctx context.Context, event map[string]any) (string, error) {
	id, err := s.PostEvent(event)
	if err != nil {
		return "", err
	}
	if _, err := s.WaitAck(ctx, id); err != nil {
		return id, fmt.Errorf("send event %v: %w", event["type"], err)
	}
	return id, nil
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("marshal %T: %v", v, err))
	}
	return b
}
