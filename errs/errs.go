// Package errs defines the few kinds of error a user is shown; everything else is an internal error.
package errs

import (
	"errors"
	"fmt"
)

// Kind is what a user is told about an error.
type Kind int

// The kinds users see. Internal is everything else.
const (
	Internal Kind = iota
	Invalid
	NotFound
	Forbidden
	Conflict
	Unavailable
)

// Error is an error with a kind and a message meant for the user.
type Error struct {
	Kind Kind
	Msg  string
	Err  error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

func mk(k Kind, format string, a ...any) error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, a...)}
}

// Invalidf is bad input: the user can fix it.
func Invalidf(format string, a ...any) error { return mk(Invalid, format, a...) }

// NotFoundf is a thing the user named that does not exist.
func NotFoundf(format string, a ...any) error { return mk(NotFound, format, a...) }

// Forbiddenf is an action the user may not take.
func Forbiddenf(format string, a ...any) error { return mk(Forbidden, format, a...) }

// Conflictf is an action that cannot happen in the current state (already done, expired).
func Conflictf(format string, a ...any) error { return mk(Conflict, format, a...) }

// Unavailablef is a backend that cannot be reached now.
func Unavailablef(format string, a ...any) error { return mk(Unavailable, format, a...) }

// KindOf returns the kind of err, Internal when it carries none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// UserMessage returns what the user is told about err, as plain text; ref identifies an internal
// error in the log. Front ends may mark the message by KindOf(err).
func UserMessage(err error, ref string) string {
	var e *Error
	if !errors.As(err, &e) || e.Kind == Internal {
		return fmt.Sprintf("internal error (ref %s). The details are in perfbot's log.", ref)
	}
	return Prefix(e.Kind) + e.Msg
}

// Prefix is what a user's message of kind k starts with ("Not allowed: "); some kinds have none.
func Prefix(k Kind) string {
	return map[Kind]string{
		NotFound:    "Not found: ",
		Forbidden:   "Not allowed: ",
		Unavailable: "Unavailable: ",
	}[k]
}
