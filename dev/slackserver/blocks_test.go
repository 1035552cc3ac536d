package slackserver_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/perfbot/perfbot/dev/slackserver"
)

func section(text string) map[string]any {
	return map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": text}}
}

func btn(actionID, text, value string) map[string]any {
	return map[string]any{"type": "button", "action_id": actionID, "value": value,
		"text": map[string]any{"type": "plain_text", "text": text}}
}

func actions(els ...any) map[string]any { return map[string]any{"type": "actions", "elements": els} }

func cell(s string) map[string]any { return map[string]any{"type": "raw_text", "text": s} }

func table(rows, cols int) map[string]any {
	rs := make([]any, rows)
	for i := range rs {
		r := make([]any, cols)
		for j := range r {
			r[j] = cell(fmt.Sprint(i, j))
		}
		rs[i] = r
	}
	return map[string]any{"type": "table", "rows": rs}
}

func repeat(n int, f func(i int) any) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func textObj(typ, s string) map[string]any { return map[string]any{"type": typ, "text": s} }

func TestValidateBlocks(t *testing.T) {
	x := strings.Repeat
	confirmBtn := func(title, text string) map[string]any {
		b := btn("a", "Go", "v")
		b["confirm"] = map[string]any{"title": textObj("plain_text", title), "text": textObj("mrkdwn", text),
			"confirm": textObj("plain_text", "Yes"), "deny": textObj("plain_text", "No")}
		return b
	}
	cases := []struct {
		name     string
		blocks   []any
		wantCode string // "" means valid
		pointer  string
	}{
		{"a full report is valid", []any{
			map[string]any{"type": "header", "text": textObj("plain_text", "🔴 Critical: studio")},
			section("*p95* 812 ms"), map[string]any{"type": "divider"},
			map[string]any{"type": "section", "fields": repeat(10, func(int) any { return textObj("mrkdwn", "f") })},
			table(100, 20),
			map[string]any{"type": "context", "elements": repeat(10, func(int) any { return textObj("mrkdwn", "c") })},
			actions(btn("db", "DB details", "x"), btn("logs", "Logs", "y")),
			actions(btn("db", "again", "z")), // action_id need only be unique within a block
			map[string]any{"type": "image", "image_url": "https://example.com/a.png", "alt_text": "chart"},
			map[string]any{"type": "markdown", "text": x("m", 12000)},
		}, "", ""},
		{"3000 emoji fit a section (characters, not bytes)", []any{section(x("🔥", 3000))}, "", ""},
		{"51 blocks", repeat(51, func(int) any { return map[string]any{"type": "divider"} }), "invalid_blocks", "/blocks"},
		{"section text 3001", []any{section("ok"), section("ok"), section("ok"), section(x("a", 3001))}, "invalid_blocks", "/blocks/3/text/text"},
		{"section without text or fields", []any{map[string]any{"type": "section"}}, "invalid_blocks", "/blocks/0/type"},
		{"11 fields", []any{map[string]any{"type": "section", "fields": repeat(11, func(int) any { return textObj("mrkdwn", "f") })}}, "invalid_blocks", "/blocks/0/fields"},
		{"field of 2001", []any{map[string]any{"type": "section", "fields": []any{textObj("mrkdwn", "a"), textObj("mrkdwn", "b"), textObj("mrkdwn", x("c", 2001))}}}, "invalid_blocks", "/blocks/0/fields/2/text"},
		{"header 151", []any{map[string]any{"type": "header", "text": textObj("plain_text", x("h", 151))}}, "invalid_blocks", "/blocks/0/text/text"},
		{"header in mrkdwn", []any{map[string]any{"type": "header", "text": textObj("mrkdwn", "h")}}, "invalid_blocks", "/blocks/0/text/type"},
		{"empty section text", []any{section("")}, "invalid_blocks", "/blocks/0/text/text"},
		{"11 context elements", []any{map[string]any{"type": "context", "elements": repeat(11, func(int) any { return textObj("mrkdwn", "c") })}}, "invalid_blocks", "/blocks/0/elements"},
		{"26 actions", []any{actions(repeat(26, func(i int) any { return btn(fmt.Sprint(i), "b", "v") })...)}, "invalid_blocks", "/blocks/0/elements"},
		{"button text 76", []any{actions(btn("a", x("b", 76), "v"))}, "invalid_blocks", "/blocks/0/elements/0/text/text"},
		{"action_id 256", []any{actions(btn(x("a", 256), "b", "v"))}, "invalid_blocks", "/blocks/0/elements/0/action_id"},
		{"action_id twice in a block", []any{actions(btn("a", "b", "v"), btn("a", "c", "w"))}, "invalid_blocks", "/blocks/0/elements/1/action_id"},
		{"button value 2001", []any{actions(btn("a", "b", x("v", 2001)))}, "invalid_blocks", "/blocks/0/elements/0/value"},
		{"button style", []any{actions(func() any { b := btn("a", "b", "v"); b["style"] = "red"; return b }())}, "invalid_blocks", "/blocks/0/elements/0/style"},
		{"confirm title 101", []any{actions(confirmBtn(x("t", 101), "sure?"))}, "invalid_blocks", "/blocks/0/elements/0/confirm/title/text"},
		{"confirm text 301", []any{actions(confirmBtn("Scale?", x("t", 301)))}, "invalid_blocks", "/blocks/0/elements/0/confirm/text/text"},
		{"image alt_text 2001", []any{map[string]any{"type": "image", "image_url": "https://e/a.png", "alt_text": x("a", 2001)}}, "invalid_blocks", "/blocks/0/alt_text"},
		{"image without alt_text", []any{map[string]any{"type": "image", "image_url": "https://e/a.png"}}, "invalid_blocks", "/blocks/0/alt_text"},
		{"block_id 256", []any{map[string]any{"type": "divider", "block_id": x("b", 256)}}, "invalid_blocks", "/blocks/0/block_id"},
		{"block_id twice", []any{map[string]any{"type": "divider", "block_id": "b"}, map[string]any{"type": "divider", "block_id": "b"}}, "invalid_blocks", "/blocks/1/block_id"},
		{"two tables", []any{table(1, 1), section("between"), table(1, 1)}, "invalid_attachments", "/blocks/2"},
		{"table of 101 rows", []any{table(101, 1)}, "invalid_blocks", "/blocks/0/rows"},
		{"table row of 21 cells", []any{table(1, 21)}, "invalid_blocks", "/blocks/0/rows/0"},
		{"table cell of another type", []any{map[string]any{"type": "table", "rows": []any{[]any{map[string]any{"type": "number", "value": 1}}}}}, "invalid_blocks", "/blocks/0/rows/0/0/type"},
		{"markdown over 12000 in total", []any{map[string]any{"type": "markdown", "text": x("m", 6000)}, map[string]any{"type": "markdown", "text": x("m", 6001)}}, "invalid_blocks", "/blocks/1/text"},
		{"unknown block type", []any{map[string]any{"type": "chart"}}, "invalid_blocks", "/blocks/0/type"},
		{"unknown element type", []any{actions(map[string]any{"type": "slider", "action_id": "s"})}, "invalid_blocks", "/blocks/0/elements/0/type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw, _ := json.Marshal(tc.blocks)
			err := slackserver.ValidateBlocks(raw)
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("valid blocks rejected: %v", err)
				}
				return
			}
			var be *slackserver.BlockError
			if !errors.As(err, &be) {
				t.Fatalf("err = %v, want a *BlockError %s", err, tc.wantCode)
			}
			if be.Code != tc.wantCode || be.Pointer() != tc.pointer {
				t.Fatalf("got %s at %q, want %s at %q (%v)", be.Code, be.Pointer(), tc.wantCode, tc.pointer, be.Messages)
			}
		})
	}
}

func TestValidateBlocksFormat(t *testing.T) {
	for _, raw := range []string{`{"type":"section"}`, `[{"type":`, `"blocks"`} {
		var be *slackserver.BlockError
		if err := slackserver.ValidateBlocks(json.RawMessage(raw)); !errors.As(err, &be) || be.Code != "invalid_blocks_format" {
			t.Errorf("%s: err = %v, want invalid_blocks_format", raw, err)
		}
	}
}

func TestSectionTooLongNamesTheSchemaLikeSlack(t *testing.T) {
	raw, _ := json.Marshal([]any{section(strings.Repeat("a", 3001))})
	var be *slackserver.BlockError
	if !errors.As(slackserver.ValidateBlocks(raw), &be) {
		t.Fatal("not rejected")
	}
	want := []string{
		"failed to match all allowed schemas [json-pointer:/blocks/0/text]",
		"must be less than 3001 characters [json-pointer:/blocks/0/text/text]",
	}
	if strings.Join(be.Messages, "|") != strings.Join(want, "|") {
		t.Fatalf("messages = %q", be.Messages)
	}
}
