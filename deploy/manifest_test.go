package deploy_test

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/dlclark/regexp2"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"

	"github.com/perfbot/perfbot/deploy"
)

// The schema is Slack's official manifest schema (slackapi/manifest-schema, manifest.schema.1.0.0.json).
func compileManifestSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	raw, err := os.ReadFile("testdata/manifest.schema.1.0.0.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	// Slack's schema uses look-ahead in patterns, which Go's regexp lacks; regexp2 has ECMAScript semantics.
	c.UseRegexpEngine(func(s string) (jsonschema.Regexp, error) {
		re, err := regexp2.Compile(s, regexp2.ECMAScript)
		if err != nil {
			return nil, err
		}
		return ecmaRegexp{re}, nil
	})
	if err := c.AddResource("manifest.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("manifest.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func manifestValue(t *testing.T, y []byte) any {
	t.Helper()
	js, err := yaml.YAMLToJSON(y)
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSlackManifestMatchesSlackSchema(t *testing.T) {
	if err := compileManifestSchema(t).Validate(manifestValue(t, deploy.SlackManifest)); err != nil {
		t.Fatalf("manifest does not validate: %v", err)
	}
}

func TestSlackManifestSchemaRejectsBrokenManifest(t *testing.T) {
	broken := strings.Replace(string(deploy.SlackManifest), "socket_mode_enabled: true", "socket_mode_enabled: sometimes", 1)
	if err := compileManifestSchema(t).Validate(manifestValue(t, []byte(broken))); err == nil {
		t.Fatal("a manifest with a non-boolean socket_mode_enabled validated")
	}
}

func TestSlackManifestDeclaresWhatTheBotUses(t *testing.T) {
	var m struct {
		Features struct {
			SlashCommands []struct {
				Command   string `json:"command"`
				UsageHint string `json:"usage_hint"`
			} `json:"slash_commands"`
		} `json:"features"`
		OAuth struct {
			Scopes struct{ Bot []string } `json:"scopes"`
		} `json:"oauth_config"`
		Settings struct {
			SocketMode    bool `json:"socket_mode_enabled"`
			Interactivity struct {
				Enabled bool `json:"is_enabled"`
			} `json:"interactivity"`
		} `json:"settings"`
	}
	js, _ := yaml.YAMLToJSON(deploy.SlackManifest)
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatal(err)
	}
	if !m.Settings.SocketMode || !m.Settings.Interactivity.Enabled {
		t.Error("socket mode and interactivity must be on")
	}
	if len(m.Features.SlashCommands) != 1 || m.Features.SlashCommands[0].Command != "/perf" || m.Features.SlashCommands[0].UsageHint == "" {
		t.Errorf("slash commands = %+v", m.Features.SlashCommands)
	}
	have := strings.Join(m.OAuth.Scopes.Bot, " ")
	for _, s := range []string{"commands", "chat:write", "files:write", "channels:manage", "canvases:write"} {
		if !strings.Contains(have, s) {
			t.Errorf("scope %s missing", s)
		}
	}
}

type ecmaRegexp struct{ re *regexp2.Regexp }

func (r ecmaRegexp) MatchString(s string) bool {
	ok, err := r.re.MatchString(s)
	return err == nil && ok
}

func (r ecmaRegexp) String() string { return r.re.String() }
