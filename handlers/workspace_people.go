package handlers

import "context"

// Prompter posts a message with buttons (in Slack: a section and an actions block). A Workspace
// that is not one posts the text alone.
type Prompter interface {
	Prompt(ctx context.Context, channelID string, text Text, steps []NextStep) error
}

// GroupLister lists the members of a user group, so paging a team can invite them.
type GroupLister interface {
	GroupMembers(ctx context.Context, group string) ([]string, error)
}

// UserChecker says whether id is a user of the workspace.
type UserChecker interface {
	UserExists(ctx context.Context, id string) (bool, error)
}

// DocumentLinker links to the document last published in a channel (in Slack: its canvas).
type DocumentLinker interface {
	DocumentLink(ctx context.Context, channelID string) (string, error)
}
