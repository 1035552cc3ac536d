package demo

import (
	"context"
	"strings"

	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/handlers"
)

// Command is /perf demo: the fault panel for keyboards.
func (p *Faults) Command() handlers.Command {
	usage := "usage: /perf demo fault <name>|clear  (faults: " + strings.Join(Names(), ", ") + ")"
	return handlers.Command{
		Name: "demo", Usage: "demo fault <name>|clear", Example: "/perf demo fault latency",
		Summary: "the demo's fault switch: inject one of the simulator's faults, or clear them all",
		Run: func(ctx context.Context, req handlers.Request, args []string) (handlers.Report, error) {
			if len(args) != 2 || args[0] != "fault" {
				return handlers.Report{}, errs.Invalidf("%s", usage)
			}
			rep := handlers.Report{Command: "/perf demo", Title: "Fault", Ephemeral: true}
			if args[1] == "clear" {
				if err := p.Clear(ctx, ""); err != nil {
					return handlers.Report{}, errs.Unavailablef("clear the faults: %v", err)
				}
				rep.Text = handlers.T(handlers.Plain("Every fault is cleared; the metrics settle within a minute."))
				return rep, nil
			}
			f, err := find(args[1])
			if err != nil {
				return handlers.Report{}, errs.Invalidf("%v; %s", err, usage)
			}
			if err := p.Inject(ctx, f.name); err != nil {
				return handlers.Report{}, errs.Unavailablef("inject %s: %v", f.name, err)
			}
			rep.Text = handlers.T(handlers.Bold(f.label), handlers.Plain(" injected: "+f.does+". Give Prometheus ~20 s, then "),
				handlers.Code("/perf assess"), handlers.Plain("; "), handlers.Code("/perf demo fault clear"), handlers.Plain(" undoes it."))
			return rep, nil
		},
	}
}
