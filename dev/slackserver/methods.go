package slackserver

import "slices"

// reference/ holds the references of methods the snapshot lacks (views.open), in its format.
//go:generate go run ./internal/genmethods -src ../../shared/slack-reference/methods:reference -out methods_gen.go

// methodSpec is what Slack's reference says about one Web API method.
type methodSpec struct {
	required  []string
	errors    []string
	jsonInput bool
	tier      string // "t1" to "t4"; "t5" is a special tier with its own rules
}

// genericErrors are the codes any Web API method may answer with (Slack's common errors).
var genericErrors = []string{
	"not_authed", "invalid_auth", "not_allowed_token_type", "account_inactive", "token_revoked",
	"missing_scope", "invalid_arguments", "invalid_arg_name", "invalid_form_data", "invalid_json",
	"json_not_object", "ratelimited", "internal_error", "unknown_method", "request_timeout",
	"fatal_error", "invalid_charset", "invalid_post_type", "missing_post_type",
}

// documented reports whether Slack documents code for method (or for every method).
func documented(method, code string) bool {
	if slices.Contains(genericErrors, code) {
		return true
	}
	spec, ok := methodSpecs[method]
	return ok && slices.Contains(spec.errors, code)
}

// missingArgErrors names the error Slack answers when a required argument is absent,
// where it is not the generic invalid_arguments.
var missingArgErrors = map[string]map[string]string{
	"chat.postMessage":           {"channel": "channel_not_found"},
	"chat.postEphemeral":         {"channel": "channel_not_found", "user": "user_not_in_channel"},
	"chat.update":                {"channel": "channel_not_found", "ts": "message_not_found"},
	"chat.delete":                {"channel": "channel_not_found", "ts": "message_not_found"},
	"conversations.create":       {"name": "invalid_name_required"},
	"conversations.invite":       {"users": "no_user"},
	"pins.add":                   {"channel": "channel_not_found"},
	"reactions.add":              {"channel": "no_item_specified", "timestamp": "no_item_specified"},
	"files.getUploadURLExternal": {"length": "missing_argument", "filename": "missing_argument"},
}

// missingArg returns Slack's answer to a call without the required argument arg.
func missingArg(method, arg string) *apiError {
	if code, ok := missingArgErrors[method][arg]; ok {
		return errCode(code)
	}
	return errCode("invalid_arguments", "missing required field: "+arg)
}
