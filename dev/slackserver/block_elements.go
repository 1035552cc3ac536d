package slackserver

import (
	"fmt"
	"slices"
	"unicode/utf8"
)

// Element types Slack accepts in each place of a message.
var (
	selectTypes = []string{
		"static_select", "external_select", "users_select", "conversations_select", "channels_select",
		"multi_static_select", "multi_external_select", "multi_users_select",
		"multi_conversations_select", "multi_channels_select",
	}
	actionTypes = append([]string{
		"button", "checkboxes", "datepicker", "datetimepicker", "overflow", "radio_buttons",
		"timepicker", "workflow_button", "rich_text_input", "plain_text_input",
	}, selectTypes...)
	accessoryTypes = append([]string{
		"button", "checkboxes", "datepicker", "image", "overflow", "radio_buttons", "timepicker",
		"workflow_button",
	}, selectTypes...)
	inputTypes = append([]string{
		"checkboxes", "datepicker", "datetimepicker", "email_text_input", "file_input", "number_input",
		"plain_text_input", "radio_buttons", "rich_text_input", "timepicker", "url_text_input",
	}, selectTypes...)
	contextActionTypes = []string{"feedback_buttons", "icon_button"}
)

// element checks one block element; ids collects action_ids that must be unique in a block.
func element(raw any, p ptr, allowed []string, ids map[string]bool) error {
	el, ok := raw.(map[string]any)
	if !ok {
		return bad(p, "expected object")
	}
	typ, _ := el["type"].(string)
	if !slices.Contains(allowed, typ) {
		return bad(p.at("type"), "unsupported type: "+typ, p)
	}
	if id, ok := el["action_id"]; ok {
		s, err := str(id, p.at("action_id"), 1, MaxActionID)
		if err != nil {
			return err
		}
		if ids[s] {
			return bad(p.at("action_id"), "action_id must be unique within the block: "+s)
		}
		ids[s] = true
	}
	if c, ok := el["confirm"]; ok {
		if err := confirm(c, p.at("confirm")); err != nil {
			return err
		}
	}
	switch typ {
	case "button":
		return button(el, p)
	case "image":
		return image(el, p)
	case "overflow":
		return options(el, p, "options", 5, false)
	case "checkboxes", "radio_buttons":
		return options(el, p, "options", 10, true)
	case "static_select", "multi_static_select":
		if _, ok := el["option_groups"]; ok {
			return nil
		}
		return options(el, p, "options", 100, false)
	}
	if ph, ok := el["placeholder"]; ok {
		return textObject(ph, p.at("placeholder"), 150, false)
	}
	return nil
}

func button(el map[string]any, p ptr) error {
	t, ok := el["text"]
	if !ok {
		return bad(p.at("text"), "missing required field: text", p)
	}
	if err := textObject(t, p.at("text"), MaxButtonText, false); err != nil {
		return err
	}
	if err := optionalStr(el, p, "value", MaxButtonValue); err != nil {
		return err
	}
	if err := optionalStr(el, p, "url", maxURL); err != nil {
		return err
	}
	if err := optionalStr(el, p, "accessibility_label", 75); err != nil {
		return err
	}
	if st, ok := el["style"]; ok && st != "primary" && st != "danger" {
		return bad(p.at("style"), "must be one of primary, danger", p)
	}
	return nil
}

func image(el map[string]any, p ptr) error {
	_, hasURL := el["image_url"]
	_, hasFile := el["slack_file"]
	if !hasURL && !hasFile {
		return bad(p.at("image_url"), "must provide either image_url or slack_file")
	}
	if err := optionalStr(el, p, "image_url", maxURL); err != nil {
		return err
	}
	if _, err := requiredStr(el, p, "alt_text", 1, MaxAltText); err != nil {
		return err
	}
	if t, ok := el["title"]; ok {
		return textObject(t, p.at("title"), maxImageTitle, false)
	}
	return nil
}

func confirm(raw any, p ptr) error {
	c, ok := raw.(map[string]any)
	if !ok {
		return bad(p, "expected object")
	}
	checks := []struct {
		key      string
		max      int
		mrkdwnOK bool
	}{{"title", MaxConfirmTitle, false}, {"text", MaxConfirmText, true}, {"confirm", 30, false}, {"deny", 30, false}}
	for _, ck := range checks {
		v, ok := c[ck.key]
		if !ok {
			return bad(p.at(ck.key), "missing required field: "+ck.key, p)
		}
		if err := textObject(v, p.at(ck.key), ck.max, ck.mrkdwnOK); err != nil {
			return err
		}
	}
	if st, ok := c["style"]; ok && st != "primary" && st != "danger" {
		return bad(p.at("style"), "must be one of primary, danger", p)
	}
	return nil
}

func options(el map[string]any, p ptr, key string, maxItems int, mrkdwnOK bool) error {
	if err := nonEmptyArray(el, p, key, maxItems); err != nil {
		return err
	}
	for i, o := range el[key].([]any) {
		op := p.at(key).at(i)
		m, ok := o.(map[string]any)
		if !ok {
			return bad(op, "expected object")
		}
		t, ok := m["text"]
		if !ok {
			return bad(op.at("text"), "missing required field: text", op)
		}
		if err := textObject(t, op.at("text"), 75, mrkdwnOK); err != nil {
			return err
		}
		if _, err := requiredStr(m, op, "value", 1, 150); err != nil {
			return err
		}
	}
	return nil
}

// textObject checks a plain_text (or, if mrkdwnOK, mrkdwn) text object of 1..max characters.
func textObject(raw any, p ptr, max int, mrkdwnOK bool) error {
	t, ok := raw.(map[string]any)
	if !ok {
		return bad(p, "expected object")
	}
	typ, _ := t["type"].(string)
	if typ != "plain_text" && (typ != "mrkdwn" || !mrkdwnOK) {
		want := "plain_text"
		if mrkdwnOK {
			want = "plain_text, mrkdwn"
		}
		return bad(p.at("type"), "must be one of "+want, p)
	}
	text, ok := t["text"]
	if !ok {
		return bad(p.at("text"), "missing required field: text", p)
	}
	if _, err := str(text, p.at("text"), 1, max); err != nil {
		err.Messages = append([]string{"failed to match all allowed schemas [json-pointer:" + string(p) + "]"}, err.Messages...)
		return err
	}
	return nil
}

// str checks that raw is a string of min..max characters.
func str(raw any, p ptr, min, max int) (string, *BlockError) {
	s, ok := raw.(string)
	if !ok {
		return "", bad(p, fmt.Sprintf("expected string, got %T", raw))
	}
	n := runeLen(s)
	if n < min {
		return "", bad(p, fmt.Sprintf("must be more than %d characters", min-1))
	}
	if n > max {
		return "", bad(p, fmt.Sprintf("must be less than %d characters", max+1))
	}
	return s, nil
}

func requiredStr(m map[string]any, p ptr, key string, min, max int) (string, error) {
	v, ok := m[key]
	if !ok {
		return "", bad(p.at(key), "missing required field: "+key)
	}
	s, err := str(v, p.at(key), min, max)
	if err != nil {
		return "", err
	}
	return s, nil
}

func optionalStr(m map[string]any, p ptr, key string, max int) error {
	v, ok := m[key]
	if !ok {
		return nil
	}
	if _, err := str(v, p.at(key), 0, max); err != nil {
		return err
	}
	return nil
}

func runeLen(s string) int { return utf8.RuneCountInString(s) }
