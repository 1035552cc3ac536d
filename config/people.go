package config

import (
	"fmt"
	"regexp"
	"sort"
	"time"

	"github.com/perfbot/perfbot/internal/textfmt"
)

// Team is a group of people perfbot can page into an incident: the runbook's database,
// infrastructure and security teams.
type Team struct {
	// Name is how people ask for the team: /perf incident page <name>.
	Name string `yaml:"name"`
	// Group is the team's Slack user group ID (S…); its members are invited and it is mentioned.
	Group string `yaml:"group"`
	// Users are Slack user IDs paged besides (or instead of) the group.
	Users []string `yaml:"users"`
	// Contact is shown with every page as text: an e-mail address, a phone number, a rota link.
	Contact string `yaml:"contact"`
}

// Terminal configures perfbot exec and perfbot console.
type Terminal struct {
	// Users maps operating-system user names to Slack user IDs: a terminal user acts as that
	// Slack user (opening incidents, approving changes). Unmapped users may only read.
	Users map[string]string `yaml:"users"`
}

// The runbook's duties for each escalation level, used when incidents.levels[].duties is empty.
var defaultDuties = [][]string{
	{"Follow the runbook for the initial investigation", "Implement quick fixes if available", "Scale resources if needed", "Document findings"},
	{"Deep dive into application logs and metrics", "Implement complex fixes", "Coordinate with the infrastructure team", "Review architectural decisions"},
	{"Make decisions about service degradation", "Coordinate cross-team efforts", "Communicate with stakeholders", "Plan longer-term solutions"},
}

// DefaultUpdateEvery is how often a status update is due per severity when incidents.update_every
// does not say.
var DefaultUpdateEvery = map[string]Duration{
	"sev1": Duration(30 * time.Minute), "sev2": Duration(time.Hour), "sev3": Duration(4 * time.Hour),
}

// applyPeopleDefaults fills the levels' duties and the update cadence.
func (c *Config) applyPeopleDefaults() {
	for i := range c.Incidents.Levels {
		if len(c.Incidents.Levels[i].Duties) == 0 && i < len(defaultDuties) {
			c.Incidents.Levels[i].Duties = append([]string(nil), defaultDuties[i]...)
		}
	}
	if c.Incidents.UpdateEvery == nil {
		c.Incidents.UpdateEvery = map[string]Duration{}
	}
	for sev, d := range DefaultUpdateEvery {
		if c.Incidents.UpdateEvery[sev] == 0 {
			c.Incidents.UpdateEvery[sev] = d
		}
	}
}

// Team returns the team called name.
func (c *Config) Team(name string) (Team, bool) {
	for _, t := range c.Teams {
		if t.Name == name {
			return t, true
		}
	}
	return Team{}, false
}

// TeamNames lists the configured teams in order.
func (c *Config) TeamNames() []string {
	out := make([]string, len(c.Teams))
	for i, t := range c.Teams {
		out[i] = t.Name
	}
	return out
}

var teamName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,39}$`)

// validateTeams checks the teams, the announcement channels, the update cadence and the terminal users.
func (c *Config) validateTeams(errs *problems) {
	seen := map[string]bool{}
	for i, t := range c.Teams {
		p := fmt.Sprintf("teams[%d]", i)
		if !teamName.MatchString(t.Name) {
			errs.add("%s.name: %q must be lowercase letters, digits and hyphens, e.g. database", p, t.Name)
		}
		if seen[t.Name] {
			errs.add("%s.name: %q is used twice", p, t.Name)
		}
		seen[t.Name] = true
		if t.Group != "" && !textfmt.IsGroupID(t.Group) {
			errs.add("%s.group: %q is not a Slack user group ID (S…)", p, t.Group)
		}
		checkIDs(errs, p+".users", t.Users, textfmt.IsUserID, "a Slack user ID (U… or W…)")
		if t.Group == "" && len(t.Users) == 0 {
			errs.add("%s: set group (a user group ID) or users (user IDs), or the team pages nobody", p)
		}
	}
	services := map[string]bool{}
	for _, s := range c.Services {
		services[s.Name] = true
	}
	for _, svc := range sortedKeys(c.Incidents.Announce) {
		if !services[svc] {
			errs.add("incidents.announce.%s: not a configured service", svc)
		}
		if ch := c.Incidents.Announce[svc]; !textfmt.IsChannelID(ch) {
			errs.add("incidents.announce.%s: %q is not a Slack channel ID (C…)", svc, ch)
		}
	}
	for _, sev := range sortedKeys(c.Incidents.UpdateEvery) {
		if _, ok := DefaultUpdateEvery[sev]; !ok {
			errs.add("incidents.update_every.%s: not a severity (sev1, sev2, sev3)", sev)
		} else if c.Incidents.UpdateEvery[sev] <= 0 {
			errs.add("incidents.update_every.%s: %s must be positive", sev, c.Incidents.UpdateEvery[sev].D())
		}
	}
	names := make([]string, 0, len(c.Terminal.Users))
	for n := range c.Terminal.Users {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if id := c.Terminal.Users[n]; !textfmt.IsUserID(id) {
			errs.add("terminal.users.%s: %q is not a Slack user ID (U… or W…)", n, id)
		}
	}
}
