// Package handlers turns /perf commands into platform-neutral Reports by running probes.
package handlers

import (
	"time"

	"github.com/perfbot/perfbot/probes"
)

// Report is what a command produced, independent of where it is shown (Slack, terminal, Markdown).
type Report struct {
	Command string // e.g. "/perf assess"
	Service string
	Title   string
	Status  probes.Status
	// Headline is the one-line verdict: what is wrong first.
	Headline string
	// Findings are ranked, worst first.
	Findings []probes.Finding
	// Sections say how each probe fared (status, summary, error, duration).
	Sections []Section
	Tables   []probes.Table
	Charts   []probes.Chart
	// Next are suggested follow-up commands, shown as buttons in Slack.
	Next    []NextStep
	Elapsed time.Duration
	// AskedBy is who ran the command (a user ID), shown with the timings: in a shared incident
	// channel everyone sees who asked for what. Empty for what perfbot runs by itself.
	AskedBy string
	// Text is free text for reports that are not probe results (help, usage, incident replies).
	Text Text
	// Ephemeral reports are shown only to the user who asked (usage errors, help).
	Ephemeral bool
	// Markdown is a whole document shown as it is (the postmortem in the terminal).
	Markdown string
	// Approval is set on reports that ask a second person to approve a change.
	Approval *Approval
}

// Approval is a requested change waiting for, or past, a second person's decision.
type Approval struct {
	ID          string
	Summary     string // e.g. "scale agentic-studio/agentic-studio to 5 replicas"
	RequestedBy string
	Changes     []Change
	DryRun      string
	Warnings    []string
	// Approvers are the user IDs allowed to approve, and ApproverGroup a user group whose members may.
	Approvers     []string
	ApproverGroup string
	ExpiresAt     time.Time
	Status        string // pending, denied, expired, executing, succeeded, failed
	DecidedBy     string
	Result        string
}

// Change is one thing an approved action will change.
type Change struct{ What, From, To string }

// Section is one probe's outcome as shown in a report.
type Section struct {
	Probe    string
	Title    string
	Status   probes.Status
	Summary  string
	Err      string
	TimedOut bool
	Duration time.Duration
}

// NextStep is a follow-up command offered to the user.
type NextStep struct {
	Label   string // button text, e.g. "DB details"
	Command string // e.g. "/perf db agentic-studio"
	// Confirm, when set, is the question a front end asks before running the step: the step
	// changes something (opens a channel, pages people), so one click must not do it by accident.
	Confirm string
	// Ask, when set, is what a front end asks the user for before running the step (in Slack: a
	// modal with one text field); the answer is appended to Command.
	Ask string
}

// Step is one progress report: which command on which service, how many checks are done.
type Step struct {
	Command string // e.g. "/perf assess"
	Service string
	Done    int
	Total   int
	// Last is the check that just finished; empty when Done is 0.
	Last Section
}

// Progress is told once with Done=0 before any probe runs, then each time a probe finishes,
// so a front end can show "3/9 checks". Calls are serialized and should return quickly.
type Progress func(Step)
