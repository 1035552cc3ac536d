package config

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/perfbot/perfbot/internal/textfmt"
)

// problems collects validation errors.
type problems []error

func (p *problems) add(format string, a ...any) { *p = append(*p, fmt.Errorf(format, a...)) }

// Validate returns every problem in the configuration at once, joined, or nil.
func (c *Config) Validate() error {
	var errs problems
	if len(c.Services) == 0 {
		errs.add("services: list at least one service")
	}
	seen := map[string]bool{}
	for i, s := range c.Services {
		p := fmt.Sprintf("services[%d]", i)
		if s.Name != "" && seen[s.Name] {
			errs.add("%s.name: %q is used twice", p, s.Name)
		}
		seen[s.Name] = true
		s.validate(&errs, p)
	}
	c.validateCommands(&errs)
	if _, err := time.LoadLocation(c.TimeZone); err != nil {
		errs.add("time_zone: %v", err)
	}
	if c.Slack.AppToken != "" && !strings.HasPrefix(c.Slack.AppToken, "xapp-") {
		errs.add("slack.app_token: must be an app-level token starting with xapp-")
	}
	if c.Slack.BotToken != "" && !strings.HasPrefix(c.Slack.BotToken, "xoxb-") {
		errs.add("slack.bot_token: must be a bot token starting with xoxb-")
	}
	for i, d := range c.Actions.Deployments {
		if d.MinReplicas < 0 || d.MaxReplicas < d.MinReplicas {
			errs.add("actions.deployments[%d]: replica range %d..%d is empty", i, d.MinReplicas, d.MaxReplicas)
		}
	}
	c.validatePeople(&errs)
	c.validateTeams(&errs)
	c.validateActions(&errs)
	return errors.Join(errs...)
}

func (s Service) validate(errs *problems, p string) {
	if s.Name == "" {
		errs.add("%s.name: must be set", p)
	}
	checkURL(errs, p+".prometheus.url", s.Prometheus.URL, true)
	checkURL(errs, p+".health_url", s.HealthURL, false)
	if strings.ContainsAny(s.Prometheus.Selector, "{}") {
		errs.add("%s.prometheus.selector: write matchers without braces, e.g. job=\"%s\"", p, s.Name)
	}
	t := s.Thresholds
	if t.ErrorRate <= 0 || t.ErrorRate >= 1 {
		errs.add("%s.thresholds.error_rate: %v is not a fraction between 0 and 1", p, t.ErrorRate)
	}
	if t.MemoryUsage <= 0 || t.MemoryUsage > 1 {
		errs.add("%s.thresholds.memory_usage: %v is not a fraction between 0 and 1", p, t.MemoryUsage)
	}
	if t.CPUUsage <= 0 || t.CPUUsage > 1 {
		errs.add("%s.thresholds.cpu_usage: %v is not a fraction between 0 and 1", p, t.CPUUsage)
	}
	if t.P95Latency <= 0 {
		errs.add("%s.thresholds.p95_latency: must be positive", p)
	}
	if t.MinRequests < 0 {
		errs.add("%s.thresholds.min_requests: %v must not be negative", p, t.MinRequests)
	}
	for name, v := range map[string]float64{"postgres.connections_warn": s.Postgres.ConnectionsWarn, "postgres.connections_crit": s.Postgres.ConnectionsCrit,
		"postgres.cache_hit_warn": s.Postgres.CacheHitWarn, "redis.memory_warn": s.Redis.MemoryWarn, "redis.memory_crit": s.Redis.MemoryCrit} {
		if v <= 0 || v > 1 {
			errs.add("%s.%s: %v is not a fraction between 0 and 1", p, name, v)
		}
	}
	if s.Postgres.ConnectionsWarn > s.Postgres.ConnectionsCrit {
		errs.add("%s.postgres.connections_warn: %v is above connections_crit %v", p, s.Postgres.ConnectionsWarn, s.Postgres.ConnectionsCrit)
	}
	if s.Redis.MemoryWarn > s.Redis.MemoryCrit {
		errs.add("%s.redis.memory_warn: %v is above memory_crit %v", p, s.Redis.MemoryWarn, s.Redis.MemoryCrit)
	}
	for j, pat := range s.Logs.Patterns {
		if _, err := regexp.Compile(pat.Regex); err != nil {
			errs.add("%s.logs.patterns[%d].regex: %v", p, j, err)
		}
	}
}

func (c *Config) validateCommands(errs *problems) {
	if c.Commands.Deadline <= 0 {
		errs.add("commands.deadline: %s must be positive", c.Commands.Deadline.D())
	}
	if c.Commands.ProbeTimeout <= 0 {
		errs.add("commands.probe_timeout: %s must be positive", c.Commands.ProbeTimeout.D())
	}
	if c.Commands.ProbeTimeout > c.Commands.Deadline {
		errs.add("commands.probe_timeout: %s is longer than commands.deadline %s", c.Commands.ProbeTimeout.D(), c.Commands.Deadline.D())
	}
	switch c.State.ShareProbes {
	case ShareRedis, ShareProcess:
	default:
		errs.add("state.share_probes: %q must be %q or %q", c.State.ShareProbes, ShareRedis, ShareProcess)
	}
}

// validatePeople checks the escalation ladder and that everyone paged or approving is a Slack ID:
// a name or e-mail there would never be mentioned or matched.
func (c *Config) validatePeople(errs *problems) {
	checkIDs(errs, "incidents.on_call", c.Incidents.OnCall, textfmt.IsUserID, "a Slack user ID (U… or W…)")
	for i, l := range c.Incidents.Levels {
		p := fmt.Sprintf("incidents.levels[%d]", i)
		if l.After < 0 {
			errs.add("%s.after: %s must not be negative", p, l.After.D())
		}
		if i > 0 && l.After <= c.Incidents.Levels[i-1].After {
			errs.add("%s.after: must be later than the level before", p)
		}
		checkIDs(errs, p+".page", l.Page, userOrGroupID, "a Slack user ID (U… or W…) or user group ID (S…)")
	}
	checkIDs(errs, "incidents.may_resolve", c.Incidents.MayResolve, func(id string) bool {
		return id == MayResolveResponders || id == MayResolveOnCall || userOrGroupID(id)
	}, `a Slack user ID (U… or W…), a user group ID (S…), "responders" or "on_call"`)
	checkIDs(errs, "actions.approvers", c.Actions.Approvers, textfmt.IsUserID, "a Slack user ID (U… or W…)")
	if g := c.Actions.ApproverGroup; g != "" && !textfmt.IsGroupID(g) {
		errs.add("actions.approver_group: %q is not a Slack user group ID (S…)", g)
	}
}

// userOrGroupID reports whether id is a user ID or a user group ID.
func userOrGroupID(id string) bool { return textfmt.IsUserID(id) || textfmt.IsGroupID(id) }

func checkIDs(errs *problems, field string, ids []string, valid func(string) bool, what string) {
	for i, id := range ids {
		if !valid(id) {
			errs.add("%s[%d]: %q is not %s", field, i, id, what)
		}
	}
}

func checkURL(errs *problems, field, raw string, required bool) {
	if raw == "" {
		if required {
			errs.add("%s: must be set", field)
		}
		return
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs.add("%s: %q is not an http(s) URL", field, raw)
	}
}

// validateActions checks that enabled actions are known and someone may approve them, the per-kind
// deadlines and the shutdown wait.
func (c *Config) validateActions(errs *problems) {
	kinds := sortedKeys(DefaultActionDeadlines)
	for i, k := range c.Actions.Allowed {
		if _, ok := DefaultActionDeadlines[k]; !ok {
			errs.add("actions.allowed[%d]: %q is not an action (actions are %s)", i, k, strings.Join(kinds, ", "))
		}
	}
	if len(c.Actions.Allowed) > 0 && len(c.Actions.Approvers) == 0 && c.Actions.ApproverGroup == "" {
		errs.add("actions.allowed enables %s, but nobody may approve them: set actions.approvers (Slack user IDs) "+
			"or actions.approver_group (a user group ID), or leave actions.allowed empty", strings.Join(c.Actions.Allowed, ", "))
	}
	for _, k := range sortedKeys(c.Actions.Deadlines) {
		if _, ok := DefaultActionDeadlines[k]; !ok {
			errs.add("actions.deadlines.%s: not an action (actions are %s)", k, strings.Join(kinds, ", "))
		} else if c.Actions.Deadlines[k] <= 0 {
			errs.add("actions.deadlines.%s: %s must be positive", k, c.Actions.Deadlines[k].D())
		}
	}
	if c.Actions.ShutdownWait < 0 {
		errs.add("actions.shutdown_wait: %s must not be negative", c.Actions.ShutdownWait.D())
	}
	if c.Actions.RolloutWait <= 0 {
		errs.add("actions.rollout_wait: %s must be positive", c.Actions.RolloutWait.D())
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
