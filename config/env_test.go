package config

import (
	"strings"
	"testing"
)

func TestEnvValuesArriveExactly(t *testing.T) {
	for _, v := range []string{"abc #123", "p@ss: word", "*star", "&anchor", "null", "true", "0123", "'quoted'", `"dq"`, "- item", "{a: b}", "[x]", "a\tb", "%x", "!tag"} {
		t.Run(v, func(t *testing.T) {
			raw := "services:\n  - name: a\n    redis:\n      password: ${PW}\n    postgres:\n      dsn: postgres://u:${PW}@h/db\nslack:\n  api_url: \"${PW}\"\n"
			c, err := Parse([]byte(raw), env(map[string]string{"PW": v}))
			if err != nil {
				t.Fatal(err)
			}
			s := c.Services[0]
			if s.Redis.Password != v {
				t.Errorf("password = %q, want %q", s.Redis.Password, v)
			}
			if want := "postgres://u:" + v + "@h/db"; s.Postgres.DSN != want {
				t.Errorf("dsn = %q, want %q", s.Postgres.DSN, want)
			}
			if c.Slack.APIURL != v {
				t.Errorf("quoted value = %q, want %q", c.Slack.APIURL, v)
			}
			if len(c.MissingEnv) != 0 {
				t.Errorf("missing = %v", c.MissingEnv)
			}
		})
	}
}

func TestEnvValueCannotAddKeys(t *testing.T) {
	for _, v := range []string{"xoxb-1\n  api_url: http://evil.example", "xoxb-1\nhttp:\n  listen: 0.0.0.0:80", "xoxb-1\n  workers: 1"} {
		raw := "slack:\n  bot_token: ${BOT}\n"
		c, err := Parse([]byte(raw), env(map[string]string{"BOT": v}))
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		if c.Slack.BotToken != v {
			t.Errorf("bot token = %q, want %q", c.Slack.BotToken, v)
		}
		if c.Slack.APIURL != "" || c.HTTP.Listen != "127.0.0.1:18081" || c.Slack.Workers != 16 {
			t.Errorf("%q added keys: api_url=%q listen=%q workers=%d", v, c.Slack.APIURL, c.HTTP.Listen, c.Slack.Workers)
		}
	}
}

func TestEnvInCommentsIsNotRead(t *testing.T) {
	raw := "# top ${TOP_COMMENT}\nslack: # ${KEY_COMMENT}\n  # head ${HEAD_COMMENT}\n  bot_token: ${BOT} # line ${LINE_COMMENT}\n  app_token: \"${APP}\" #${TIGHT}\n# foot ${FOOT}\n"
	read := map[string]bool{}
	c, err := Parse([]byte(raw), func(k string) string { read[k] = true; return map[string]string{"BOT": "xoxb-1"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.Slack.BotToken != "xoxb-1" {
		t.Fatalf("bot token = %q", c.Slack.BotToken)
	}
	if strings.Join(c.MissingEnv, ",") != "APP" {
		t.Errorf("missing = %v, want [APP]", c.MissingEnv)
	}
	for k := range read {
		if k != "BOT" && k != "APP" {
			t.Errorf("variable %s in a comment was read", k)
		}
	}
}

func TestEnvTypedValues(t *testing.T) {
	raw := "slack:\n  workers: ${N}\ncommands:\n  deadline: ${D}\n  probe_timeout: 1s\nservices:\n  - name: a\n    thresholds:\n      error_rate: ${E}\n"
	c, err := Parse([]byte(raw), env(map[string]string{"N": "3", "D": "9s", "E": "0.02"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Slack.Workers != 3 || c.Commands.Deadline.D().String() != "9s" || c.Services[0].Thresholds.ErrorRate != 0.02 {
		t.Fatalf("workers=%d deadline=%s error_rate=%v", c.Slack.Workers, c.Commands.Deadline.D(), c.Services[0].Thresholds.ErrorRate)
	}
	// Unset, a number reads as empty and takes its default, as before.
	c, err = Parse([]byte(raw), env(map[string]string{"D": "9s", "E": "0.02"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Slack.Workers != 16 || strings.Join(c.MissingEnv, ",") != "N" {
		t.Fatalf("workers=%d missing=%v", c.Slack.Workers, c.MissingEnv)
	}
}

func TestUnknownKeysAreReportedWithTheirLines(t *testing.T) {
	raw := "services:\n  - name: a\n    prometheus:\n      urll: x\n    logs:\n      patterns:\n        - {name: n, regexp: x}\nslak: {}\nbase: &b {deadline: 1s}\ncommands:\n  <<: *b\n  probe_timout: 1s\n"
	_, err := Parse([]byte(raw), env(nil))
	if err == nil {
		t.Fatal("unknown keys accepted")
	}
	for _, want := range []string{
		`line 4: services[0].prometheus: unknown key "urll"`,
		`line 7: services[0].logs.patterns[0]: unknown key "regexp"`,
		`line 8: top level: unknown key "slak"`,
		`line 9: top level: unknown key "base"`,
		`line 12: commands: unknown key "probe_timout"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q not in:\n%v", want, err)
		}
	}
}

func TestMergeKeysAndEmptyDocuments(t *testing.T) {
	c, err := Parse([]byte("services:\n  - &s {name: a, prometheus: {url: 'http://p:9090'}}\n  - {<<: *s, name: b}\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Services[1].Name != "b" || c.Services[1].Prometheus.URL != "http://p:9090" {
		t.Fatalf("merged service = %+v", c.Services[1])
	}
	for _, raw := range []string{"", "# only a comment\n"} {
		if _, err := Parse([]byte(raw), env(nil)); err != nil {
			t.Errorf("%q: %v", raw, err)
		}
	}
	if _, err := Parse([]byte("services: [\n"), env(nil)); err == nil {
		t.Error("broken YAML accepted")
	}
}
