// Package deploy carries perfbot's deployment files; the Slack app manifest is embedded for `perfbot manifest`.
package deploy

import _ "embed"

// SlackManifest is the Slack app manifest (YAML) perfbot needs: Socket Mode, /perf, interactivity, its scopes.
//
//go:embed slack-app-manifest.yaml
var SlackManifest []byte
