package incidents

import (
	"strings"

	"github.com/perfbot/perfbot/internal/textfmt"
)

// The postmortem is Markdown that people paste into wikis and that the bot uploads as a Slack
// canvas, and much of it comes from outside: incident titles, notes, root causes, alert names and
// annotations, finding subjects. The helpers here make such text inert: it reads the same, but
// cannot add links, headings, emphasis, table columns or chat mentions.

// mdEscaper backslash-escapes every character that could start Markdown (or chat) syntax in
// running text, and turns line breaks into spaces so text cannot start a block of its own.
// & is escaped too, so an entity (&lt;) cannot spell a character escaped here.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "(", `\(`, ")", `\)`,
	"<", `\<`, ">", `\>`, "#", `\#`, "|", `\|`, "~", `\~`, "&", `\&`,
	"\r\n", " ", "\n", " ", "\r", " ")

// md makes untrusted text literal in running Markdown text, on one line.
func md(s string) string { return mdEscaper.Replace(s) }

// mdCell makes untrusted text literal inside a Markdown table cell: md, trimmed. Every | comes
// out as \| after an even run of backslashes, so it can never end the cell.
func mdCell(s string) string { return strings.TrimSpace(md(s)) }

// lineBreaks turns line breaks into spaces.
var lineBreaks = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")

// code shows untrusted text as an inline code span, literal whatever it holds: its fence is one
// backtick longer than the longest run of backticks inside, and a space pads content that starts
// or ends with a backtick. Not for table cells (a | inside would still split the cell).
func code(s string) string {
	s = strings.TrimSpace(lineBreaks.Replace(s))
	if s == "" {
		return ""
	}
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if s[0] == '`' || s[len(s)-1] == '`' {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// mdLink is " ([link](u))" for an absolute http or https URL, with the bytes that could end the
// link or a table cell percent-encoded; for anything else (javascript:, relative, garbage) it is
// empty, so a timeline event cannot smuggle a live link of another kind into the document.
func mdLink(u string) string {
	if safe := textfmt.WebURL(u, "()|<>\\`\""); safe != "" {
		return " ([link](" + safe + "))"
	}
	return ""
}

// Person shows a person, given by chat user ID, in Markdown. What it returns goes into the
// document as is: a platform that publishes the document can put its own mention syntax there.
type Person func(userID string) string

// PlainPerson shows a user ID as "@U…": plain text that reads the same in any Markdown viewer.
func PlainPerson(userID string) string { return "@" + userID }

// who is whoWith(PlainPerson).
var who = whoWith(PlainPerson)

// whoWith shows actors: a chat user ID through person, anything else (a name such as
// "alertmanager", or text that merely starts like an ID) as literal text, nobody as "—".
func whoWith(person Person) func(actor string) string {
	if person == nil {
		person = PlainPerson
	}
	return func(actor string) string {
		switch {
		case actor == "":
			return "—"
		case textfmt.IsUserID(actor):
			return person(actor)
		}
		return mdCell(actor)
	}
}
