package handlers

import (
	"github.com/perfbot/perfbot/errs"
)

// Refusal is an error whose words name people or things: Text says it with mentions and data, which
// each front end renders in its own syntax. It stands for an *errs.Error of the same kind whose message
// is Text as plain words, so front ends that show only text (and errs.KindOf) read it as usual.
type Refusal struct {
	Text Text
	err  *errs.Error
}

// Refuse returns a Refusal of kind k saying t.
func Refuse(k errs.Kind, t Text) error {
	return &Refusal{Text: t, err: &errs.Error{Kind: k, Msg: t.String()}}
}

func (r *Refusal) Error() string { return r.err.Error() }

// Unwrap returns the errs.Error the refusal stands for.
func (r *Refusal) Unwrap() error { return r.err }
