package handlers_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/handlers"
	"github.com/perfbot/perfbot/incidents"
	"github.com/perfbot/perfbot/internal/stacktest"
)

// incidentCommands opens an incident as alice in a local Slack workspace where bob is on call and
// mallory has joined the incident channel, and returns /perf incident with the incident's channel.
func incidentCommands(t *testing.T, mutate func(*config.Config)) (run func(user string, args ...string) error, channel string, store *incidents.Store) {
	t.Helper()
	ctx := context.Background()
	srv, ws := slackWorkspace(t)
	srv.AddUser("U0MALLORY", "mallory")
	srv.AddUser("U0CAROL", "carol")
	srv.AddUserGroup("S0LEADS", "U0CAROL")
	pool, err := pgxpool.New(ctx, stacktest.Database(t, "perfbot_access"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := incidents.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Incidents.OnCall = []string{"U0BOB"}
	cfg.Incidents.Levels[1].Page = []string{"U0CAROL"}
	if mutate != nil {
		mutate(cfg)
	}
	opts, err := incidents.OptionsFrom(cfg)
	if err != nil {
		t.Fatal(err)
	}
	store = incidents.New(pool, opts)
	in := handlers.NewIncidents(store, ws, cfg, slog.New(slog.DiscardHandler), nil)
	cmd := in.Commands()[0]
	if _, err := cmd.Run(ctx, handlers.Request{User: "U0ALICE", Channel: "C0PERF"}, []string{"open", "checkout", "slow"}); err != nil {
		t.Fatalf("open: %v", err)
	}
	for _, c := range srv.Channels() {
		if strings.HasPrefix(c.Name, "inc-") {
			channel = c.ID
		}
	}
	srv.AddMember(channel, "U0MALLORY") // a public channel: anyone may join
	return func(user string, args ...string) error {
		_, err := cmd.Run(ctx, handlers.Request{User: user, Channel: channel}, args)
		return err
	}, channel, store
}

// TestOnlyRespondersResolveOrEscalate: by default whoever opened the incident, the on-call list
// and the people its fired levels paged may escalate and resolve it; someone who merely joined
// the channel may not.
func TestOnlyRespondersResolveOrEscalate(t *testing.T) {
	run, channel, store := incidentCommands(t, nil)
	for _, args := range [][]string{{"escalate"}, {"resolve", "not", "mine"}} {
		err := run("U0MALLORY", args...)
		if errs.KindOf(err) != errs.Forbidden || !strings.Contains(err.Error(), "incidents.may_resolve") {
			t.Fatalf("%s by someone who joined the channel: %v, want refused", args[0], err)
		}
	}
	if err := run("U0CAROL", "resolve"); errs.KindOf(err) != errs.Forbidden {
		t.Fatalf("resolve by level 2's person before level 2 was paged: %v, want refused", err)
	}
	for range 2 { // on call: pages level 1 (no clock runs here), then level 2, carol
		if err := run("U0BOB", "escalate"); err != nil {
			t.Fatalf("escalate by the on-call engineer: %v", err)
		}
	}
	if err := run("U0CAROL", "resolve", "pool", "exhausted"); err != nil { // paged now: a responder
		t.Fatalf("resolve by a paged responder: %v", err)
	}
	inc, err := store.ByChannel(context.Background(), channel)
	if err != nil || inc.Status != "resolved" || inc.ResolvedBy != "U0CAROL" {
		t.Errorf("incident %+v, %v; want resolved by carol", inc, err)
	}
}

// TestWhoMayResolveIsConfigurable: incidents.may_resolve lists exactly who may decide.
func TestWhoMayResolveIsConfigurable(t *testing.T) {
	run, _, _ := incidentCommands(t, func(c *config.Config) { c.Incidents.MayResolve = []string{"U0CAROL"} })
	if err := run("U0ALICE", "resolve"); errs.KindOf(err) != errs.Forbidden || !strings.Contains(err.Error(), "only U0CAROL may resolve") {
		t.Fatalf("resolve by the opener when only carol may: %v", err)
	}
	if err := run("U0CAROL", "resolve"); err != nil {
		t.Fatalf("resolve by carol: %v", err)
	}
}

// TestAGroupMayResolve: a user group in incidents.may_resolve lets its members decide, and nobody else.
func TestAGroupMayResolve(t *testing.T) {
	run, _, _ := incidentCommands(t, func(c *config.Config) { c.Incidents.MayResolve = []string{"S0LEADS"} }) // carol leads
	if err := run("U0MALLORY", "resolve"); errs.KindOf(err) != errs.Forbidden || !strings.Contains(err.Error(), "incidents.may_resolve") {
		t.Fatalf("resolve by someone outside the group: %v, want refused", err)
	}
	if err := run("U0CAROL", "resolve", "leads decided"); err != nil {
		t.Fatalf("resolve by a member of the group: %v", err)
	}
}
