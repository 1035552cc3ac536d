package slackserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"
)

// triggerTTL is how long a trigger_id may be exchanged for a view (Slack: three seconds).
const triggerTTL = 3 * time.Second

// maxViewBytes is Slack's limit on a view payload (250 kB).
const maxViewBytes = 250 * 1024

// trigger is one issued trigger_id: whose interaction it came from, when, and whether it was used.
type trigger struct {
	user   string
	issued time.Time
	used   bool
}

// View is a modal open for a user.
type View struct {
	ID              string
	UserID          string
	CallbackID      string
	PrivateMetadata string
	Title           string
	Blocks          json.RawMessage
	raw             map[string]any
}

var triggerShape = regexp.MustCompile(`^\d+\.\d+\.[0-9a-f]+$`)

// viewsOpen exchanges a trigger for a modal shown to the user who caused the trigger.
func (s *Server) viewsOpen(c *call) (map[string]any, error) {
	tid := c.arg("trigger_id")
	if tid == "" {
		tid = c.arg("interactivity_pointer")
	}
	if tid == "" {
		return nil, errCode("invalid_arguments", "missing required field: trigger_id")
	}
	if len(c.arg("view")) > maxViewBytes {
		return nil, errCode("view_too_large")
	}
	t := s.ws.triggers[tid]
	switch {
	case t == nil && !triggerShape.MatchString(tid):
		return nil, errCode("invalid_trigger_id")
	case t == nil:
		return nil, errCode("expired_trigger_id") // well formed, but not one this server issued lately
	case t.used:
		return nil, errCode("exchanged_trigger_id")
	case s.clock.Now().Sub(t.issued) > triggerTTL:
		return nil, errCode("expired_trigger_id")
	}
	v, err := parseView(c.arg("view"))
	if err != nil {
		return nil, err
	}
	t.used = true
	v.ID, v.UserID = s.ws.nextID('V'), t.user
	s.ws.views[v.ID] = v
	s.ws.viewOrder = append(s.ws.viewOrder, v.ID)
	return map[string]any{"view": s.viewJSON(v)}, nil
}

// parseView checks a modal as Slack does: type modal, a plain_text title of at most 24
// characters, valid blocks, a submit button when it has inputs, and the length limits.
func parseView(raw string) (*View, error) {
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, errCode("invalid_arguments", "invalid view JSON: "+err.Error())
	}
	if m["type"] != "modal" {
		return nil, errCode("invalid_arguments", "must be a valid enum value [json-pointer:/view/type]")
	}
	title, _ := m["title"].(map[string]any)
	tt, _ := title["text"].(string)
	if title == nil || title["type"] != "plain_text" || tt == "" || runeLen(tt) > 24 {
		return nil, errCode("invalid_arguments", "must be a plain_text object of at most 24 characters [json-pointer:/view/title]")
	}
	blocks, _ := json.Marshal(m["blocks"])
	if err := ValidateBlocks(blocks); err != nil {
		var be *BlockError
		if errors.As(err, &be) {
			return nil, errCode("invalid_arguments", be.Messages...)
		}
		return nil, errCode("invalid_arguments", err.Error())
	}
	var bs []map[string]any
	_ = json.Unmarshal(blocks, &bs)
	hasInput := slices.ContainsFunc(bs, func(b map[string]any) bool { return b["type"] == "input" })
	if _, ok := m["submit"]; hasInput && !ok {
		return nil, errCode("invalid_arguments", "must provide submit when the view has input blocks [json-pointer:/view/submit]")
	}
	for k, limit := range map[string]int{"private_metadata": 3000, "callback_id": 255, "external_id": 255} {
		if v, _ := m[k].(string); len(v) > limit {
			return nil, errCode("invalid_arguments", fmt.Sprintf("must be at most %d characters [json-pointer:/view/%s]", limit, k))
		}
	}
	v := &View{Title: tt, Blocks: blocks, raw: m}
	v.CallbackID, _ = m["callback_id"].(string)
	v.PrivateMetadata, _ = m["private_metadata"].(string)
	return v, nil
}

// viewJSON is a view as Slack returns it and sends it in view_submission payloads.
func (s *Server) viewJSON(v *View) map[string]any {
	out := map[string]any{}
	for k, x := range v.raw {
		out[k] = x
	}
	out["id"], out["team_id"], out["app_id"], out["bot_id"] = v.ID, s.opts.TeamID, s.opts.AppID, "B"+s.opts.AppID
	out["root_view_id"], out["hash"] = v.ID, fmt.Sprintf("%d.%s", s.clock.Now().Unix(), randomHex(8))
	out["state"] = map[string]any{"values": map[string]any{}}
	return out
}

// Views lists the modals open for userID, oldest first.
func (s *Server) Views(userID string) []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []View
	for _, id := range s.ws.viewOrder {
		if v := s.ws.views[id]; v != nil && v.UserID == userID {
			out = append(out, *v)
		}
	}
	return out
}

// SubmitView sends a view_submission envelope as if userID filled in the open modal viewID
// (values: block_id → action_id → text of its plain_text_input) and clicked its submit
// button, then closes the modal once the app acks.
func (s *Server) SubmitView(ctx context.Context, userID, viewID string, values map[string]map[string]string) error {
	s.mu.Lock()
	v, u := s.ws.views[viewID], s.ws.users[userID]
	if v == nil || u == nil || v.UserID != userID {
		s.mu.Unlock()
		return fmt.Errorf("submit view %s: no such view open for %s", viewID, userID)
	}
	state := map[string]any{}
	for block, actions := range values {
		st := map[string]any{}
		for action, text := range actions {
			st[action] = map[string]any{"type": "plain_text_input", "value": text}
		}
		state[block] = st
	}
	view := s.viewJSON(v)
	view["state"] = map[string]any{"values": state}
	payload := map[string]any{
		"type": "view_submission", "token": verificationToken, "api_app_id": s.opts.AppID,
		"team":       map[string]any{"id": s.opts.TeamID, "domain": s.opts.TeamName},
		"user":       map[string]any{"id": u.ID, "username": u.Name, "name": u.Name, "team_id": s.opts.TeamID},
		"trigger_id": s.triggerID(u.ID), "view": view, "response_urls": []any{}, "is_enterprise_install": false,
	}
	s.mu.Unlock()
	e := newEnvelope("interactive", mustJSON(payload))
	if err := s.sendAndWait(ctx, e); err != nil {
		return fmt.Errorf("submit view %s: %w", viewID, err)
	}
	s.mu.Lock()
	delete(s.ws.views, viewID)
	s.mu.Unlock()
	return nil
}
