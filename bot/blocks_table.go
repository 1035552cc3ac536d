package bot

import (
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/perfbot/perfbot/internal/textfmt"
	"github.com/perfbot/perfbot/probes"
)

// findingColumns are the columns of the alert-trigger table.
var findingColumns = []string{"Status", "Check", "Subject", "Value", "Threshold"}

// findingsTable shows the findings as the message's one table block, worst first. Findings
// beyond the table's 99 data rows are counted in a note and returned, all of them, as overflow.
func findingsTable(fs []probes.Finding) ([]slack.Block, []probes.Table) {
	t := slack.NewTableBlock("")
	t.WithColumnSettings(
		slack.ColumnSetting{Align: slack.ColumnAlignmentLeft},
		slack.ColumnSetting{Align: slack.ColumnAlignmentLeft, IsWrapped: true},
		slack.ColumnSetting{Align: slack.ColumnAlignmentLeft, IsWrapped: true},
		slack.ColumnSetting{Align: slack.ColumnAlignmentRight},
		slack.ColumnSetting{Align: slack.ColumnAlignmentRight},
	)
	t.AddRow(cells(findingColumns)...)
	shown := min(len(fs), maxTableRows-1)
	for _, f := range fs[:shown] {
		t.AddRow(cells(findingRow(f))...)
	}
	blocks := []slack.Block{t}
	if shown == len(fs) {
		return blocks, nil
	}
	blocks = append(blocks, contextBlock(fmt.Sprintf(":page_facing_up: %d of %d checks shown; all of them are in the thread.", shown, len(fs))))
	return blocks, []probes.Table{findingsAsTable(fs)}
}

// findingFields is the fallback where a table block cannot go: one section field per finding,
// ten per section, in at most two sections.
func findingFields(fs []probes.Finding) ([]slack.Block, []probes.Table) {
	const maxSections = 2
	var blocks []slack.Block
	shown := 0
	for shown < len(fs) && len(blocks) < maxSections {
		end := min(shown+maxFields, len(fs))
		var fields []*slack.TextBlockObject
		for _, f := range fs[shown:end] {
			text := fmt.Sprintf("%s *%s*", statusEmoji(f.Status), nameOf(f.Check, "", "check", 200))
			if strings.TrimSpace(f.Subject) != "" {
				text += " " + code(f.Subject, 300)
			}
			text += "\n" + escapeLine(valueText(f), 200)
			fields = append(fields, mrkdwn(text))
		}
		blocks = append(blocks, slack.NewSectionBlock(nil, fields, nil))
		shown = end
	}
	if shown == len(fs) {
		return blocks, nil
	}
	blocks = append(blocks, contextBlock(fmt.Sprintf(":page_facing_up: %d of %d checks shown; all of them are in the thread.", shown, len(fs))))
	return blocks, []probes.Table{findingsAsTable(fs)}
}

// findingRow is a finding's cells in findingColumns order.
func findingRow(f probes.Finding) []string {
	th := "—"
	if f.Threshold != 0 {
		th = formatValue(f.Threshold, f.Unit)
	}
	return []string{statusGlyph(f.Status) + " " + f.Status.String(), f.Check, f.Subject, formatValue(f.Value, f.Unit), th}
}

// findingsAsTable is every finding as a plain table, for the thread.
func findingsAsTable(fs []probes.Finding) probes.Table {
	t := probes.Table{Title: "Alert triggers (all)", Columns: append(append([]string{}, findingColumns...), "Message")}
	t.Rows = make([][]string, 0, len(fs))
	for _, f := range fs {
		row := findingRow(f)
		row[0] = f.Status.String()
		t.Rows = append(t.Rows, append(row, f.Message))
	}
	return t
}

// cells turns texts into raw_text table cells: one line, ≤ 200 runes, never empty.
func cells(texts []string) []slack.TableCell {
	out := make([]slack.TableCell, len(texts))
	for i, s := range texts {
		out[i] = slack.NewTableRawTextCell(orDefault(plain(s, maxTableCellText), "—"))
	}
	return out
}

// firstTableFit is the index of the first table that fits a table block (1..20 columns), or -1.
func firstTableFit(ts []probes.Table) int {
	for i, t := range ts {
		if n := len(t.Columns); n > 0 && n <= maxTableCells {
			return i
		}
	}
	return -1
}

// dataTable shows a report table as the table block, with its title above it. A table with more
// rows than fit is cut, noted and returned as overflow.
func dataTable(t probes.Table) ([]slack.Block, []probes.Table) {
	tb := slack.NewTableBlock("")
	tb.AddRow(cells(t.Columns)...)
	shown := min(len(t.Rows), maxTableRows-1)
	for _, row := range t.Rows[:shown] {
		tb.AddRow(cells(fitRow(row, len(t.Columns)))...)
	}
	blocks := []slack.Block{mrkdwnSection("*" + nameOf(t.Title, "", "Table", 200) + "*"), tb}
	if shown == len(t.Rows) {
		return blocks, nil
	}
	blocks = append(blocks, contextBlock(fmt.Sprintf(":page_facing_up: %d of %d rows shown; the full table is in the thread.", shown, len(t.Rows))))
	return blocks, []probes.Table{t}
}

// fitRow pads or cuts a row to n cells, so every table row has the header's width.
func fitRow(row []string, n int) []string {
	out := make([]string, n)
	copy(out, row)
	return out
}

// codeTables shows up to inlineTables tables as aligned text in code blocks; tables cut or left
// out are returned as overflow.
func codeTables(ts []probes.Table) ([]slack.Block, []probes.Table) {
	var blocks []slack.Block
	var overflow []probes.Table
	for i, t := range ts {
		if i >= inlineTables {
			overflow = append(overflow, t)
			continue
		}
		text, complete := codeTable(t)
		blocks = append(blocks, mrkdwnSection(text))
		if !complete {
			overflow = append(overflow, t)
		}
	}
	if len(ts) > inlineTables {
		blocks = append(blocks, contextBlock(fmt.Sprintf(":page_facing_up: %d more tables are in the thread.", len(ts)-inlineTables)))
	}
	return blocks, overflow
}

// codeTable renders a table as "*Title*" and a code block of aligned columns, within one
// section's 3000 runes. complete is false when rows, columns or cell text were cut.
func codeTable(t probes.Table) (text string, complete bool) {
	const maxCols, maxCell, maxWidth = 8, 40, 100
	complete = len(t.Columns) <= maxCols && len(t.Rows) <= inlineRows
	cols := min(len(t.Columns), maxCols)
	rows := [][]string{fitRow(t.Columns, cols)}
	for _, r := range t.Rows[:min(len(t.Rows), inlineRows)] {
		rows = append(rows, fitRow(r, cols))
	}
	width := make([]int, cols)
	for _, r := range rows {
		for j := range r {
			c := plain(r[j], maxCell)
			complete = complete && c == strings.TrimSpace(r[j])
			r[j] = strings.ReplaceAll(c, "```", "ˋˋˋ")
			width[j] = max(width[j], len([]rune(r[j])))
		}
	}
	lines := make([]string, 0, len(rows))
	for _, r := range rows {
		var b strings.Builder
		for j, c := range r {
			b.WriteString(c + strings.Repeat(" ", width[j]-len([]rune(c))+2))
		}
		lines = append(lines, entities(strings.TrimRight(b.String(), " "), maxWidth))
	}
	head := "*" + nameOf(t.Title, "", "Table", 200) + "*"
	note := ""
	if len(t.Rows) > inlineRows {
		note = fmt.Sprintf("_%d of %d rows shown; the full table is in the thread._", inlineRows, len(t.Rows))
	}
	body := "```\n" + joinFit("", lines, "", "\n", maxSectionText-len([]rune(head))-len([]rune(note))-20) + "\n```"
	return strings.TrimSpace(head + "\n" + body + "\n" + note), complete
}

// formatValue prints a measured value compactly with its unit, the unit made plain: "812 ms".
func formatValue(v float64, unit string) string { return textfmt.Value(v, plain(unit, 20)) }

// statusEmoji is the mrkdwn/plain_text emoji shortcode for a status.
func statusEmoji(s probes.Status) string {
	switch s {
	case probes.OK:
		return ":large_green_circle:"
	case probes.Warn:
		return ":large_yellow_circle:"
	case probes.Crit:
		return ":red_circle:"
	default:
		return ":white_circle:"
	}
}

// statusGlyph is the Unicode emoji for a status, for raw_text table cells, which show text as is.
func statusGlyph(s probes.Status) string {
	switch s {
	case probes.OK:
		return "🟢"
	case probes.Warn:
		return "🟡"
	case probes.Crit:
		return "🔴"
	default:
		return "⚪"
	}
}

// formatDuration prints a probe time the way people read it, escaped for mrkdwn: "340 ms", "1.2 s".
func formatDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return "&lt;1 ms"
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	default:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
}
