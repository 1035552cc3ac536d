package slackserver

import "fmt"

// table checks a table block: one per message, 1..100 rows of 1..20 cells,
// cells raw_text or rich_text, at most 20 column settings.
func (v *validator) table(b map[string]any, p ptr) error {
	v.tables++
	if v.tables > 1 {
		return &BlockError{Code: "invalid_attachments", Messages: []string{
			"only_one_table_allowed [json-pointer:" + string(p) + "]",
		}}
	}
	if err := nonEmptyArray(b, p, "rows", MaxTableRows); err != nil {
		return err
	}
	for i, row := range b["rows"].([]any) {
		rp := p.at("rows").at(i)
		cells, ok := row.([]any)
		if !ok {
			return bad(rp, "expected array")
		}
		if len(cells) == 0 {
			return bad(rp, "must contain at least 1 item")
		}
		if len(cells) > MaxTableCells {
			return bad(rp, fmt.Sprintf("must contain less than %d items", MaxTableCells+1))
		}
		for j, cell := range cells {
			if err := tableCell(cell, rp.at(j)); err != nil {
				return err
			}
		}
	}
	if cs, ok := b["column_settings"]; ok {
		arr, ok := cs.([]any)
		if !ok {
			return bad(p.at("column_settings"), "expected array")
		}
		if len(arr) > MaxTableCells {
			return bad(p.at("column_settings"), fmt.Sprintf("must contain less than %d items", MaxTableCells+1))
		}
	}
	return nil
}

func tableCell(raw any, p ptr) error {
	c, ok := raw.(map[string]any)
	if !ok {
		return bad(p, "expected object")
	}
	switch c["type"] {
	case "raw_text":
		_, err := requiredStr(c, p, "text", 1, MaxSectionText)
		if err != nil {
			return &BlockError{Code: "invalid_blocks", Messages: append(
				[]string{"failed to match all allowed schemas [json-pointer:" + string(p) + "]"},
				err.(*BlockError).Messages...)}
		}
		return nil
	case "rich_text":
		return nonEmptyArray(c, p, "elements", 0)
	default:
		return bad(p.at("type"), fmt.Sprintf("unsupported type: %v", c["type"]), p)
	}
}
