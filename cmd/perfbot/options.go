package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/perfbot/perfbot/config"
)

type options struct {
	configPath string
	explicit   bool
	logLevel   string
	levelSet   bool
	logFormat  string
}

func parseGlobal(args []string, stderr io.Writer) (options, []string, error) {
	fs := flag.NewFlagSet("perfbot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.configPath, "config", "perfbot.yaml", "configuration file")
	fs.StringVar(&o.logLevel, "log-level", "warn", "log level: debug, info, warn, error (run and demo: info)")
	fs.StringVar(&o.logFormat, "log-format", "text", "log format: text (for a terminal) or json (one object a line, for a cluster's log collector)")
	fs.Usage = func() { fmt.Fprint(fs.Output(), usage+"\nflags:\n"); fs.PrintDefaults() }
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return o, nil, errHelped
	} else if err != nil {
		return o, nil, errUsage
	}
	if o.logFormat != "text" && o.logFormat != "json" {
		fmt.Fprintf(stderr, "perfbot: -log-format %q: want text or json\n", o.logFormat)
		return o, nil, errUsage
	}
	fs.Visit(func(f *flag.Flag) {
		o.explicit = o.explicit || f.Name == "config"
		o.levelSet = o.levelSet || f.Name == "log-level"
	})
	return o, fs.Args(), nil
}

// loadConfig reads the configuration file; without one (and without -config) the defaults serve the local stack.
func loadConfig(o options, getenv func(string) string) (*config.Config, error) {
	if _, err := os.Stat(o.configPath); errors.Is(err, os.ErrNotExist) && !o.explicit {
		return config.Default(), nil
	}
	return config.Load(o.configPath, getenv)
}

func logger(o options, w io.Writer) *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(o.logLevel)); err != nil {
		lvl = slog.LevelWarn
	}
	ho := &slog.HandlerOptions{Level: lvl}
	if o.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, ho))
	}
	return slog.New(slog.NewTextHandler(w, ho))
}

func cmdCheckConfig(o options, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(o, getenv)
	if cfg != nil {
		err = errors.Join(err, cfg.Validate())
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s has problems:\n", o.configPath)
		for _, e := range flatten(err) {
			fmt.Fprintf(stderr, "  - %v\n", e)
		}
		return errReported
	}
	for _, name := range cfg.MissingEnv {
		fmt.Fprintf(stdout, "note: environment variable %s is not set (needed by perfbot run if it holds a token)\n", name)
	}
	for _, e := range []struct{ token, setting, endpoint string }{
		{cfg.HTTP.AlertmanagerToken, "http.alertmanager_token", "POST /alertmanager"},
		{cfg.HTTP.PostmortemToken, "http.postmortem_token", "GET /incidents/{id}/postmortem"},
	} {
		if e.token == "" {
			fmt.Fprintf(stdout, "note: %s is empty, so %s is off (404)\n", e.setting, e.endpoint)
		}
	}
	fmt.Fprintf(stdout, "%s is valid: %d service(s): %v\n", o.configPath, len(cfg.Services), cfg.ServiceNames())
	return nil
}

// flatten lists the errors inside errors.Join trees one per line.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}
