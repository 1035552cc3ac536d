package actions

import (
	"errors"
	"fmt"
	"net"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/perfbot/perfbot/errs"
)

// kubeErr turns an API server error into the kind users see, saying what was being done.
func kubeErr(err error, format string, a ...any) error {
	what := fmt.Sprintf(format, a...)
	kind := errs.Internal
	switch {
	case apierrors.IsNotFound(err):
		kind = errs.NotFound
	case apierrors.IsForbidden(err), apierrors.IsUnauthorized(err):
		kind, what = errs.Forbidden, what+" is not allowed for perfbot's Kubernetes account"
	case apierrors.IsInvalid(err), apierrors.IsBadRequest(err):
		kind = errs.Invalid
	case apierrors.IsConflict(err):
		kind = errs.Conflict
	case apierrors.IsServerTimeout(err), apierrors.IsTimeout(err), apierrors.IsServiceUnavailable(err),
		apierrors.IsTooManyRequests(err), isNetErr(err):
		kind = errs.Unavailable
	}
	if kind == errs.Internal {
		return fmt.Errorf("%s: %w", what, err)
	}
	// The API server's message goes into Msg, which users see; wrapping err too would repeat it.
	return &errs.Error{Kind: kind, Msg: what + ": " + apiMessage(err)}
}

func apiMessage(err error) string {
	var se apierrors.APIStatus
	if errors.As(err, &se) && se.Status().Message != "" {
		return se.Status().Message
	}
	return err.Error()
}

func isNetErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne)
}
