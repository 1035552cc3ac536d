package slackserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// BlockError is Slack's answer to blocks it rejects: a code (invalid_blocks,
// invalid_blocks_format, or invalid_attachments for a second table) and messages
// that end in the JSON pointer of the offending field.
type BlockError struct {
	Code     string
	Messages []string
}

// Error returns the code and the messages.
func (e *BlockError) Error() string { return e.Code + ": " + strings.Join(e.Messages, "; ") }

var pointerRE = regexp.MustCompile(`\[json-pointer:([^\]]*)\]`)

// Pointer returns the JSON pointer of the most specific message (e.g. /blocks/3/text/text).
func (e *BlockError) Pointer() string {
	for i := len(e.Messages) - 1; i >= 0; i-- {
		if m := pointerRE.FindStringSubmatch(e.Messages[i]); m != nil {
			return m[1]
		}
	}
	return ""
}

// Limits Slack enforces on a message's blocks.
const (
	MaxBlocks           = 50
	MaxSectionText      = 3000
	MaxSectionFields    = 10
	MaxSectionFieldText = 2000
	MaxHeaderText       = 150
	MaxContextElements  = 10
	MaxActionsElements  = 25
	MaxButtonText       = 75
	MaxActionID         = 255
	MaxButtonValue      = 2000
	MaxConfirmTitle     = 100
	MaxConfirmText      = 300
	MaxAltText          = 2000
	MaxBlockID          = 255
	MaxTableRows        = 100
	MaxTableCells       = 20
	MaxMarkdownTotal    = 12000
	MaxMessageText      = 40000
	maxURL              = 3000
	maxImageTitle       = 2000
)

// ptr is a JSON pointer under construction.
type ptr string

func (p ptr) at(k any) ptr { return ptr(fmt.Sprintf("%s/%v", p, k)) }

// bad builds an invalid_blocks error at p; schema, when set, adds Slack's leading
// "failed to match all allowed schemas" line for the enclosing object.
func bad(p ptr, msg string, schema ...ptr) *BlockError {
	var msgs []string
	for _, s := range schema {
		msgs = append(msgs, "failed to match all allowed schemas [json-pointer:"+string(s)+"]")
	}
	msgs = append(msgs, msg+" [json-pointer:"+string(p)+"]")
	return &BlockError{Code: "invalid_blocks", Messages: msgs}
}

// ValidateBlocks checks a message's blocks array the way Slack does and returns a
// *BlockError for the first violation, or nil.
func ValidateBlocks(blocks json.RawMessage) error {
	dec := json.NewDecoder(bytes.NewReader(blocks))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return &BlockError{Code: "invalid_blocks_format", Messages: []string{"invalid JSON: " + err.Error()}}
	}
	arr, ok := v.([]any)
	if !ok {
		return &BlockError{Code: "invalid_blocks_format", Messages: []string{"must provide an array [json-pointer:/blocks]"}}
	}
	if len(arr) > MaxBlocks {
		return bad("/blocks", fmt.Sprintf("must contain less than %d items", MaxBlocks+1))
	}
	val := &validator{blockIDs: map[string]int{}}
	for i, b := range arr {
		if err := val.block(ptr("/blocks").at(i), b); err != nil {
			return err
		}
	}
	return nil
}

type validator struct {
	blockIDs      map[string]int
	tables        int
	markdownChars int
}

type blockCheck func(v *validator, b map[string]any, p ptr) error

// blockChecks lists the block types Slack accepts in messages.
var blockChecks = map[string]blockCheck{
	"section":         (*validator).section,
	"divider":         func(*validator, map[string]any, ptr) error { return nil },
	"header":          (*validator).header,
	"context":         (*validator).context,
	"actions":         (*validator).actions,
	"image":           func(_ *validator, b map[string]any, p ptr) error { return image(b, p) },
	"markdown":        (*validator).markdown,
	"table":           (*validator).table,
	"rich_text":       func(_ *validator, b map[string]any, p ptr) error { return nonEmptyArray(b, p, "elements", 0) },
	"input":           (*validator).input,
	"file":            (*validator).file,
	"video":           (*validator).video,
	"context_actions": (*validator).contextActions,
}

func (v *validator) block(p ptr, raw any) error {
	b, ok := raw.(map[string]any)
	if !ok {
		return bad(p, "expected object")
	}
	typ, ok := b["type"].(string)
	if !ok {
		return bad(p.at("type"), "missing required field: type")
	}
	check, ok := blockChecks[typ]
	if !ok {
		return bad(p.at("type"), "unsupported type: "+typ)
	}
	if id, present := b["block_id"]; present {
		s, err := str(id, p.at("block_id"), 1, MaxBlockID)
		if err != nil {
			return err
		}
		if _, dup := v.blockIDs[s]; dup {
			return bad(p.at("block_id"), "duplicate block_id: "+s)
		}
		v.blockIDs[s] = 1
	}
	return check(v, b, p)
}

func (v *validator) section(b map[string]any, p ptr) error {
	text, hasText := b["text"]
	fields, hasFields := b["fields"]
	if !hasText && !hasFields {
		return bad(p.at("type"), "must define either `text` or `fields`")
	}
	if hasText {
		if err := textObject(text, p.at("text"), MaxSectionText, true); err != nil {
			return err
		}
	}
	if hasFields {
		arr, ok := fields.([]any)
		if !ok || len(arr) == 0 {
			return bad(p.at("fields"), "must contain at least 1 item")
		}
		if len(arr) > MaxSectionFields {
			return bad(p.at("fields"), fmt.Sprintf("must contain less than %d items", MaxSectionFields+1))
		}
		for i, f := range arr {
			if err := textObject(f, p.at("fields").at(i), MaxSectionFieldText, true); err != nil {
				return err
			}
		}
	}
	if acc, ok := b["accessory"]; ok {
		return element(acc, p.at("accessory"), accessoryTypes, map[string]bool{})
	}
	return nil
}

func (v *validator) header(b map[string]any, p ptr) error {
	t, ok := b["text"]
	if !ok {
		return bad(p.at("text"), "missing required field: text")
	}
	return textObject(t, p.at("text"), MaxHeaderText, false)
}

func (v *validator) context(b map[string]any, p ptr) error {
	if err := nonEmptyArray(b, p, "elements", MaxContextElements); err != nil {
		return err
	}
	for i, el := range b["elements"].([]any) {
		ep := p.at("elements").at(i)
		m, _ := el.(map[string]any)
		if m["type"] == "image" {
			if err := image(m, ep); err != nil {
				return err
			}
			continue
		}
		if err := textObject(el, ep, MaxSectionText, true); err != nil {
			return err
		}
	}
	return nil
}

func (v *validator) actions(b map[string]any, p ptr) error {
	if err := nonEmptyArray(b, p, "elements", MaxActionsElements); err != nil {
		return err
	}
	ids := map[string]bool{}
	for i, el := range b["elements"].([]any) {
		if err := element(el, p.at("elements").at(i), actionTypes, ids); err != nil {
			return err
		}
	}
	return nil
}

func (v *validator) contextActions(b map[string]any, p ptr) error {
	if err := nonEmptyArray(b, p, "elements", 5); err != nil {
		return err
	}
	ids := map[string]bool{}
	for i, el := range b["elements"].([]any) {
		if err := element(el, p.at("elements").at(i), contextActionTypes, ids); err != nil {
			return err
		}
	}
	return nil
}

func (v *validator) markdown(b map[string]any, p ptr) error {
	t, ok := b["text"]
	if !ok {
		return bad(p.at("text"), "missing required field: text")
	}
	s, err := str(t, p.at("text"), 1, MaxMarkdownTotal)
	if err != nil {
		return err
	}
	v.markdownChars += runeLen(s)
	if v.markdownChars > MaxMarkdownTotal {
		return bad(p.at("text"), fmt.Sprintf("markdown blocks must total less than %d characters", MaxMarkdownTotal+1))
	}
	return nil
}

func (v *validator) input(b map[string]any, p ptr) error {
	l, ok := b["label"]
	if !ok {
		return bad(p.at("label"), "missing required field: label")
	}
	if err := textObject(l, p.at("label"), 2000, false); err != nil {
		return err
	}
	el, ok := b["element"]
	if !ok {
		return bad(p.at("element"), "missing required field: element")
	}
	return element(el, p.at("element"), inputTypes, map[string]bool{})
}

func (v *validator) file(b map[string]any, p ptr) error {
	for _, k := range []string{"external_id", "source"} {
		if _, err := requiredStr(b, p, k, 1, 255); err != nil {
			return err
		}
	}
	return nil
}

func (v *validator) video(b map[string]any, p ptr) error {
	for _, k := range []string{"alt_text", "thumbnail_url", "video_url"} {
		if _, err := requiredStr(b, p, k, 1, maxURL); err != nil {
			return err
		}
	}
	t, ok := b["title"]
	if !ok {
		return bad(p.at("title"), "missing required field: title")
	}
	return textObject(t, p.at("title"), 200, false)
}

func nonEmptyArray(b map[string]any, p ptr, key string, maxItems int) error {
	raw, ok := b[key]
	if !ok {
		return bad(p.at(key), "missing required field: "+key)
	}
	arr, ok := raw.([]any)
	if !ok {
		return bad(p.at(key), "expected array")
	}
	if len(arr) == 0 {
		return bad(p.at(key), "must contain at least 1 item")
	}
	if maxItems > 0 && len(arr) > maxItems {
		return bad(p.at(key), fmt.Sprintf("must contain less than %d items", maxItems+1))
	}
	return nil
}
