package bot

import (
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/perfbot/perfbot/handlers"
	"github.com/perfbot/perfbot/internal/textfmt"
	"github.com/perfbot/perfbot/probes"
)

// Slack's Block Kit limits, in runes, that the renderer keeps every message within.
const (
	maxBlocks        = 50
	maxSectionText   = 3000
	maxFields        = 10
	maxFieldText     = 2000
	maxHeaderText    = 150
	maxContextElems  = 10
	maxContextText   = 3000
	maxActions       = 25
	maxButtonText    = 75
	maxButtonValue   = 2000
	maxTableRows     = 100
	maxTableCells    = 20
	maxMessageText   = 4000
	maxTableCellText = 200 // Slack allows more; longer cells make the table unreadable
)

// Sizes the renderer chooses, below Slack's limits, to keep a report readable.
const (
	topFindings      = 10   // ranked findings listed as text
	findingLine      = 400  // runes per ranked finding line
	inlineTables     = 3    // extra tables shown as code blocks; the rest go to the thread
	inlineRows       = 15   // rows per code-block table
	fallbackText     = 1000 // runes of the top-level notification text
	contextDetail    = 200  // runes per probe error in the context line
	textOnlySections = 10   // sections of a free-text report (help); 30,000 runes
)

// slowProbe is how long a probe may take before the report calls it slow.
const slowProbe = 1500 * time.Millisecond

// nextActionID is the action_id of the i-th follow-up button; the bot routes "perf_next:*".
func nextActionID(i int) string { return fmt.Sprintf("perf_next:%d", i) }

// RenderReport turns a report into a Slack message: the notification text and the blocks.
// Every text that comes from data is escaped and cut to Slack's limits, so Slack accepts the
// message however large or hostile the data; what does not fit is named in the message and
// returned by OverflowTables.
func RenderReport(r handlers.Report) (text string, blocks []slack.Block) {
	m := render(r)
	return m.text, m.blocks
}

// OverflowTables returns the tables RenderReport could not show in full (all findings when they
// did not fit the table block, and extra tables cut or left out), for the bot to attach to the
// thread as a file. It is empty when the message shows everything.
func OverflowTables(r handlers.Report) []probes.Table {
	return render(r).overflow
}

// message is a rendered report.
type message struct {
	text     string
	blocks   []slack.Block
	overflow []probes.Table
}

// render lays out a report: head (header, verdict, text), body (table, findings, extra tables),
// tail (timings, buttons). The body gives way when the block budget runs out.
func render(r handlers.Report) message {
	if isTextOnly(r) {
		return renderText(r)
	}
	var m message
	m.text = notification(r)
	head := []slack.Block{headerBlock(statusEmoji(r.Status) + " " + r.Status.String() + " · " + orDefault(r.Title, "perfbot report"))}
	if h := strings.TrimSpace(r.Headline); h != "" {
		head = append(head, mrkdwnSection("*"+escapeTrunc(h, maxSectionText-2)+"*"))
	}
	if !r.Text.Empty() {
		head = append(head, textSections(r.Text, 3)...)
	}
	body, overflow := reportBody(r)
	m.overflow = overflow
	tail := tailBlocks(r)
	room := maxBlocks - len(head) - len(tail)
	if len(body) > room {
		// What is left out is not known table by table: the thread gets every table in full.
		body = append(body[:room-1], contextBlock(":page_facing_up: More of this report did not fit; it is in the thread."))
		m.overflow = allTables(r)
	}
	m.blocks = append(append(head, body...), tail...)
	return m
}

// allTables is every table of a report in full, the findings first.
func allTables(r handlers.Report) []probes.Table {
	var out []probes.Table
	if len(r.Findings) > 0 {
		out = append(out, findingsAsTable(r.Findings))
	}
	return append(out, r.Tables...)
}

// isTextOnly reports whether a report is free text (help, usage, incident replies) rather than probe results.
func isTextOnly(r handlers.Report) bool {
	return len(r.Findings) == 0 && len(r.Sections) == 0 && len(r.Tables) == 0 && r.Headline == ""
}

// renderText renders a free-text report as sections, with its buttons if any.
func renderText(r handlers.Report) message {
	text := r.Text
	if text.Empty() {
		text = handlers.T(handlers.Plain(orDefault(r.Title, "(empty)")))
	}
	blocks := textSections(text, textOnlySections)
	if b := actionsBlock(r.Next); b != nil {
		blocks = append(blocks, b)
	}
	return message{text: orDefault(mrkdwnText(text, fallbackText), "—"), blocks: blocks}
}

// notification is the top-level text: what a phone notification or an old client shows.
func notification(r handlers.Report) string {
	s := r.Status.String() + " · " + orDefault(r.Title, "perfbot report")
	if h := strings.TrimSpace(r.Headline); h != "" {
		s += ": " + h
	}
	return escapeLine(s, fallbackText)
}

// reportBody is the findings table, the ranked findings and the extra tables.
func reportBody(r handlers.Report) (body []slack.Block, overflow []probes.Table) {
	tables := r.Tables
	switch {
	case len(r.Findings) > 0 && r.Ephemeral:
		body, overflow = findingFields(r.Findings)
	case len(r.Findings) > 0:
		body, overflow = findingsTable(r.Findings)
	default:
		if i := firstTableFit(tables); i >= 0 {
			b, o := dataTable(tables[i])
			body, overflow = b, o
			tables = append(append([]probes.Table{}, tables[:i]...), tables[i+1:]...)
		}
	}
	if b := rankedFindings(r.Findings); b != nil {
		body = append(body, b)
	}
	b, o := codeTables(tables)
	return append(body, b...), append(overflow, o...)
}

// tailBlocks is the timing context and the follow-up buttons.
func tailBlocks(r handlers.Report) []slack.Block {
	var tail []slack.Block
	if b := timingContext(r); b != nil {
		tail = append(tail, b)
	}
	if b := actionsBlock(r.Next); b != nil {
		tail = append(tail, b)
	}
	return tail
}

// rankedFindings lists the worst non-OK findings, one line each, in one section.
func rankedFindings(fs []probes.Finding) slack.Block {
	var lines []string
	bad := 0
	for _, f := range fs {
		if f.Status == probes.OK {
			continue
		}
		bad++
		if len(lines) < topFindings {
			lines = append(lines, findingText(len(lines)+1, f))
		}
	}
	if bad == 0 {
		if len(fs) == 0 {
			return nil
		}
		return mrkdwnSection(":large_green_circle: Every alert trigger is within its threshold.")
	}
	title := "*Findings, worst first*"
	more := ""
	if bad > len(lines) {
		more = fmt.Sprintf("_…and %d more in the table_", bad-len(lines))
	}
	return mrkdwnSection(joinFit(title, lines, more, "\n", maxSectionText))
}

// findingText is one ranked finding: "1. 🔴 *Check* `subject` — message".
func findingText(n int, f probes.Finding) string {
	s := fmt.Sprintf("%d. %s *%s*", n, statusEmoji(f.Status), nameOf(f.Check, "", "check", 80))
	if strings.TrimSpace(f.Subject) != "" {
		s += " " + code(f.Subject, 120)
	}
	msg := f.Message
	if strings.TrimSpace(msg) == "" {
		msg = valueText(f)
	}
	return s + " — " + escapeLine(msg, findingLine-len([]rune(s))-3)
}

// valueText says a finding's value against its threshold, e.g. "812 ms (threshold 500 ms)".
func valueText(f probes.Finding) string {
	if f.Threshold == 0 {
		return formatValue(f.Value, f.Unit)
	}
	return formatValue(f.Value, f.Unit) + " (threshold " + formatValue(f.Threshold, f.Unit) + ")"
}

// headerBlock is a plain_text header with emoji shortcodes rendered, at most 150 runes.
func headerBlock(text string) slack.Block {
	return slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, plain(text, maxHeaderText), true, false))
}

// mrkdwnSection is a section of already escaped mrkdwn. Verbatim stops Slack from turning bare
// URLs, channel names and words like "@here" in data into links and mentions.
func mrkdwnSection(text string) slack.Block {
	return slack.NewSectionBlock(mrkdwn(text), nil, nil)
}

// mrkdwn is an escaped, verbatim mrkdwn text object of 1..3000 runes.
func mrkdwn(text string) *slack.TextBlockObject {
	if strings.TrimSpace(text) == "" {
		text = "—"
	}
	return slack.NewTextBlockObject(slack.MarkdownType, text, false, true)
}

// contextBlock is a context block with one escaped mrkdwn element.
func contextBlock(text string) slack.Block {
	return slack.NewContextBlock("", mrkdwn(text))
}

// textSections renders text into at most maxSections sections of ≤ 3000 runes, split at line
// breaks; text beyond them is cut with a visible "…".
func textSections(text handlers.Text, maxSections int) []slack.Block {
	esc := mrkdwnText(text, maxSections*maxSectionText)
	var chunks, cur []string
	n := 0
	for _, line := range strings.Split(esc, "\n") {
		line = cutEscaped(line, maxSectionText)
		ln := len([]rune(line))
		if n > 0 && n+ln > maxSectionText {
			chunks = append(chunks, strings.Join(cur, "\n"))
			cur, n = nil, 0
		}
		cur = append(cur, line)
		n += ln + 1
	}
	chunks = append(chunks, strings.Join(cur, "\n"))
	if len(chunks) > maxSections {
		chunks = chunks[:maxSections]
		chunks[maxSections-1] = cutEscaped(chunks[maxSections-1], maxSectionText-2) + "\n" + ellipsis
	}
	blocks := make([]slack.Block, 0, len(chunks))
	for _, c := range chunks {
		blocks = append(blocks, mrkdwnSection(c))
	}
	return blocks
}

// actionsBlock is one button per follow-up command; nil when there are none.
func actionsBlock(next []handlers.NextStep) slack.Block {
	var els []slack.BlockElement
	for i, n := range next {
		cmd := strings.TrimSpace(clean(n.Command, false))
		if cmd == "" || len([]rune(cmd)) > maxButtonValue || len(els) == maxActions {
			continue
		}
		label := plain(n.Label, maxButtonText)
		if label == "" {
			label = plain(cmd, maxButtonText)
		}
		id := nextActionID(i)
		if n.Ask != "" {
			id = askActionID(i)
		}
		b := slack.NewButtonBlockElement(id, cmd, slack.NewTextBlockObject(slack.PlainTextType, label, true, false))
		if q := plain(n.Confirm, 300); q != "" {
			b.Confirm = slack.NewConfirmationBlockObject(
				slack.NewTextBlockObject(slack.PlainTextType, plain(label, 100), false, false),
				slack.NewTextBlockObject(slack.PlainTextType, q, false, false),
				slack.NewTextBlockObject(slack.PlainTextType, plain(label, 30), false, false),
				slack.NewTextBlockObject(slack.PlainTextType, "Cancel", false, false))
		}
		els = append(els, b)
	}
	if len(els) == 0 {
		return nil
	}
	return slack.NewActionBlock("perf_next", els...)
}

// nameOf is the escaped one-line name of something: its title, else its id, else def.
func nameOf(title, id, def string, max int) string {
	if s := escapeLine(title, max); s != "" {
		return s
	}
	if s := escapeLine(id, max); s != "" {
		return s
	}
	return def
}

// orDefault is s, or def when s is blank.
func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

// timingContext says how long the report took and each probe's time, and names the probes that
// were slow, timed out or could not look.
func timingContext(r handlers.Report) slack.Block {
	if len(r.Sections) == 0 && r.Elapsed == 0 {
		return nil
	}
	var times, slow, timedOut, failed []string
	for _, s := range r.Sections {
		name := nameOf(s.Title, s.Probe, "probe", 60)
		times = append(times, name+" "+formatDuration(s.Duration))
		switch {
		case s.TimedOut:
			timedOut = append(timedOut, name)
		case s.Err != "":
			failed = append(failed, name+" ("+escapeLine(s.Err, contextDetail)+")")
		case s.Duration >= slowProbe:
			slow = append(slow, name+" ("+formatDuration(s.Duration)+")")
		}
	}
	lead := ":stopwatch: " + formatDuration(r.Elapsed) + " in all"
	if textfmt.IsUserID(r.AskedBy) {
		lead = "asked by " + userMention(r.AskedBy) + " · " + lead
	}
	els := []slack.MixedElement{mrkdwn(joinFit(lead, times, "", " · ", maxContextText))}
	for _, part := range []struct {
		label string
		names []string
	}{{":turtle: slow:", slow}, {":hourglass: timed out:", timedOut}, {":electric_plug: could not check:", failed}} {
		if len(part.names) > 0 {
			els = append(els, mrkdwn(part.label+" "+joinFit("", part.names, "", ", ", maxContextText-len([]rune(part.label))-1)))
		}
	}
	return slack.NewContextBlock("", els...)
}

// RenderProgress renders the placeholder shown while a command runs, e.g.
// "Assessing agentic-studio… 3/9 checks", with a status emoji for each check that has finished.
func RenderProgress(command, service string, done, total int, sections []handlers.Section) (text string, blocks []slack.Block) {
	line := progressLine(command, service)
	count := fmt.Sprintf("%d/%d checks", done, total)
	text = escapeLine(line+" "+count, fallbackText)
	head := ":hourglass_flowing_sand: *" + escapeLine(line, 500) + "* " + count
	if bar := progressBar(done, total); bar != "" {
		head += "\n" + bar
	}
	blocks = []slack.Block{mrkdwnSection(head)}
	if len(sections) == 0 {
		return text, blocks
	}
	items := make([]string, 0, len(sections))
	for _, s := range sections {
		items = append(items, sectionEmoji(s)+" "+nameOf(s.Title, s.Probe, "check", 60)+" "+formatDuration(s.Duration))
	}
	per := (len(items) + maxContextElems - 1) / maxContextElems
	var els []slack.MixedElement
	for i := 0; i < len(items); i += per {
		els = append(els, mrkdwn(joinFit("", items[i:min(i+per, len(items))], "", " · ", maxContextText)))
	}
	return text, append(blocks, slack.NewContextBlock("", els...))
}

// progressLine is "Assessing agentic-studio…" or "Running /perf db on agentic-studio…".
func progressLine(command, service string) string {
	command = strings.TrimSpace(command)
	on := ""
	if s := strings.TrimSpace(service); s != "" {
		on = " " + s
	}
	if command == "" || command == "/perf assess" {
		return "Assessing" + on + "…"
	}
	if on != "" {
		on = " on" + on
	}
	return "Running " + command + on + "…"
}

// progressBar is a bar of up to 20 cells, e.g. "▰▰▰▱▱▱▱▱▱".
func progressBar(done, total int) string {
	if total <= 0 {
		return ""
	}
	done = max(0, min(done, total))
	cells := min(total, 20)
	filled := done * cells / total
	return strings.Repeat("▰", filled) + strings.Repeat("▱", cells-filled)
}

// sectionEmoji is the emoji for a finished check: its status, or why it could not look.
func sectionEmoji(s handlers.Section) string {
	switch {
	case s.TimedOut:
		return ":hourglass:"
	case s.Err != "":
		return ":electric_plug:"
	}
	return statusEmoji(s.Status)
}
