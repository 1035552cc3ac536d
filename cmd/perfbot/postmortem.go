package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/perfbot/perfbot/app"
)

// cmdPostmortem prints an incident's postmortem, regenerated from its timeline.
func cmdPostmortem(ctx context.Context, o options, getenv func(string) string, args []string, stdout, stderr io.Writer) error {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: perfbot postmortem <incident>   (an id, a number like 12, or the channel name)")
		return errUsage
	}
	cfg, err := loadConfig(o, getenv)
	if err != nil {
		return err
	}
	store, closeStore, err := app.OpenIncidents(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeStore()
	inc, err := store.Lookup(ctx, args[0])
	if err != nil {
		fmt.Fprintln(stderr, err)
		return errReportedWrap(err)
	}
	loc, err := time.LoadLocation(cfg.TimeZone)
	if err != nil {
		return err
	}
	md, err := store.Postmortem(ctx, inc.ID, loc)
	if err != nil {
		return err
	}
	_, err = io.WriteString(stdout, md)
	return err
}
