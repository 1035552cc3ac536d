package config

import (
	"strings"
	"testing"
	"time"
)

// TestActionsNeedAnApprover: actions enabled with nobody to approve them are refused (every
// approval would be refused at the click), as are actions that do not exist.
func TestActionsNeedAnApprover(t *testing.T) {
	base := "services:\n  - name: a\n    prometheus: {url: 'http://p:9090'}\n"
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"nobody", "actions: {allowed: [scale, index]}\n", "actions.allowed enables scale, index, but nobody may approve them"},
		{"unknown action", "actions: {allowed: [reboot], approvers: [U0ALICE001]}\n", `actions.allowed[0]: "reboot" is not an action`},
		{"users", "actions: {allowed: [scale], approvers: [U0ALICE001]}\n", ""},
		{"group", "actions: {allowed: [scale], approver_group: S0APPROVE}\n", ""},
		{"none enabled", "actions: {}\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(base+tc.yaml), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			err = c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("%q not reported in %v", tc.want, err)
			}
		})
	}
}

// TestActionDeadlines: every kind has a deadline, CREATE INDEX CONCURRENTLY a long one; the file
// may set any kind's, and only known kinds with positive durations.
func TestActionDeadlines(t *testing.T) {
	d := Default().Actions
	if d.Deadlines["index"].D() < time.Hour || d.Deadlines["scale"].D() > 5*time.Minute || d.ShutdownWait.D() <= 0 {
		t.Errorf("defaults: %v, shutdown wait %s", d.Deadlines, d.ShutdownWait.D())
	}
	base := "services:\n  - name: a\n    prometheus: {url: 'http://p:9090'}\n"
	c, err := Parse([]byte(base+"actions:\n  deadlines: {index: 12h}\n  shutdown_wait: 40s\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Actions.Deadlines["index"].D(); got != 12*time.Hour || c.Actions.Deadlines["scale"] != DefaultActionDeadlines["scale"] ||
		c.Actions.ShutdownWait.D() != 40*time.Second {
		t.Errorf("deadlines %v, shutdown wait %s", c.Actions.Deadlines, c.Actions.ShutdownWait.D())
	}
	c, err = Parse([]byte(base+"actions:\n  deadlines: {reindex: 1h, scale: -1s}\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	err = c.Validate()
	for _, want := range []string{"actions.deadlines.reindex: not an action", "actions.deadlines.scale: -1s must be positive"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q not reported in %v", want, err)
		}
	}
}

// TestEndpointTokensAndWhoMayResolve: the webhook and postmortem tokens are separate settings, and
// who may resolve defaults to responders and on-call and takes only those words, user IDs and user
// group IDs.
func TestEndpointTokensAndWhoMayResolve(t *testing.T) {
	base := "services:\n  - name: a\n    prometheus: {url: 'http://p:9090'}\n"
	c, err := Parse([]byte(base+"http: {alertmanager_token: am, postmortem_token: pm}\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.AlertmanagerToken != "am" || c.HTTP.PostmortemToken != "pm" {
		t.Errorf("tokens %+v", c.HTTP)
	}
	if got := strings.Join(c.Incidents.MayResolve, ","); got != "responders,on_call" {
		t.Errorf("may_resolve defaults to %q", got)
	}
	c, err = Parse([]byte(base+"incidents: {may_resolve: [U0ALICE001, on_call, S0SRE, everyone]}\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	err = c.Validate()
	for _, want := range []string{`may_resolve[3]: "everyone"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q not reported in %v", want, err)
		}
	}
	if err != nil && (strings.Contains(err.Error(), "may_resolve[0]") || strings.Contains(err.Error(), "may_resolve[2]")) {
		t.Errorf("a user ID or a user group ID was refused: %v", err)
	}
}
