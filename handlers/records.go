package handlers

import (
	"time"

	"github.com/perfbot/perfbot/probes"
)

// CommandRecord is a finished command as a front end saw it: who ran what where, and what it posted.
type CommandRecord struct {
	ID                  string // unique per command run (e.g. the message timestamp)
	User, Channel, Text string
	Report              Report
	At                  time.Time
	Permalink           string
	Charts              []PostedChart
	Err                 error
}

// PostedChart is a chart a front end posted, with where it went.
type PostedChart struct {
	Chart  probes.Chart
	FileID string
}

// EventRecord is a chat event the incident timeline may want (pins, reactions).
type EventRecord struct {
	ID        string // the platform's event id: the same on every redelivery
	Type      string // "pin_added", "reaction_added"
	User      string
	Channel   string
	ItemTS    string
	Reaction  string
	Link      string
	EventTime time.Time
}
