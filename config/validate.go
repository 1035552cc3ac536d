package config

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Validate returns every problem in the configuration at once, joined, or nil.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	seen := map[string]bool{}
	for i, s := range c.Services {
		p := fmt.Sprintf("services[%d]", i)
		if s.Name == "" {
			add("%s.name: must be set", p)
		} else if seen[s.Name] {
			add("%s.name: %q is used twice", p, s.Name)
		}
		seen[s.Name] = true
		checkURL(&errs, p+".prometheus.url", s.Prometheus.URL, true)
		checkURL(&errs, p+".health_url", s.HealthURL, false)
		if strings.ContainsAny(s.Prometheus.Selector, "{}") {
			add("%s.prometheus.selector: write matchers without braces, e.g. job=\"%s\"", p, s.Name)
		}
		t := s.Thresholds
		if t.ErrorRate <= 0 || t.ErrorRate >= 1 {
			add("%s.thresholds.error_rate: %v is not a fraction between 0 and 1", p, t.ErrorRate)
		}
		if t.MemoryUsage <= 0 || t.MemoryUsage > 1 {
			add("%s.thresholds.memory_usage: %v is not a fraction between 0 and 1", p, t.MemoryUsage)
		}
		if t.CPUUsage <= 0 || t.CPUUsage > 1 {
			add("%s.thresholds.cpu_usage: %v is not a fraction between 0 and 1", p, t.CPUUsage)
		}
		if t.P95Latency <= 0 {
			add("%s.thresholds.p95_latency: must be positive", p)
		}
		for j, pat := range s.Logs.Patterns {
			if _, err := regexp.Compile(pat.Regex); err != nil {
				add("%s.logs.patterns[%d].regex: %v", p, j, err)
			}
		}
	}
	if c.Commands.ProbeTimeout > c.Commands.Deadline {
		add("commands.probe_timeout: %s is longer than commands.deadline %s", c.Commands.ProbeTimeout.D(), c.Commands.Deadline.D())
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil {
		add("time_zone: %v", err)
	}
	if c.Slack.AppToken != "" && !strings.HasPrefix(c.Slack.AppToken, "xapp-") {
		add("slack.app_token: must be an app-level token starting with xapp-")
	}
	if c.Slack.BotToken != "" && !strings.HasPrefix(c.Slack.BotToken, "xoxb-") {
		add("slack.bot_token: must be a bot token starting with xoxb-")
	}
	for i, d := range c.Actions.Deployments {
		if d.MinReplicas < 0 || d.MaxReplicas < d.MinReplicas {
			add("actions.deployments[%d]: replica range %d..%d is empty", i, d.MinReplicas, d.MaxReplicas)
		}
	}
	for i, l := range c.Incidents.Levels {
		if i > 0 && l.After <= c.Incidents.Levels[i-1].After {
			add("incidents.levels[%d].after: must be later than the level before", i)
		}
	}
	return errors.Join(errs...)
}

func checkURL(errs *[]error, field, raw string, required bool) {
	if raw == "" {
		if required {
			*errs = append(*errs, fmt.Errorf("%s: must be set", field))
		}
		return
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		*errs = append(*errs, fmt.Errorf("%s: %q is not an http(s) URL", field, raw))
	}
}
