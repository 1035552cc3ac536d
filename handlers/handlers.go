package handlers

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/diagnosis"
	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/probes"
)

// Request is one /perf command as typed by a user, wherever it came from.
type Request struct {
	// Text is what follows "/perf", e.g. "assess agentic-studio".
	Text     string
	User     string
	Channel  string
	Progress Progress
	// ID names this command run when the front end can name it; a command run again after a restart
	// carries the same ID, so what it records is recorded once.
	ID string
}

// EnvSource gives probes their clients for a service.
type EnvSource interface {
	Env(service string, window time.Duration) (*probes.Env, error)
}

// Handlers runs /perf commands and returns Reports.
type Handlers struct {
	cfg      *config.Config
	envs     EnvSource
	runner   probes.Runner
	log      *slog.Logger
	commands []Command
	now      func() time.Time
	// inIncident tells whether a channel is an incident's own; nil means none is.
	inIncident func(ctx context.Context, channel string) bool
}

// Command is one /perf subcommand: its help and what it runs.
type Command struct {
	Name    string
	Usage   string
	Summary string
	Example string
	Run     func(ctx context.Context, req Request, args []string) (Report, error)
}

// New returns the command set over cfg's services.
func New(cfg *config.Config, envs EnvSource, log *slog.Logger) *Handlers {
	if log == nil {
		log = slog.Default()
	}
	h := &Handlers{
		cfg: cfg, envs: envs, log: log, now: time.Now,
		runner: probes.Runner{Timeout: cfg.Commands.ProbeTimeout.D(), Log: log, Share: &probes.Coalescer{TTL: ShareBucket}},
	}
	h.commands = h.builtins()
	return h
}

// Add registers more commands (incidents, actions) that live outside this package's probe commands.
func (h *Handlers) Add(cmds ...Command) { h.commands = append(h.commands, cmds...) }

// KnowIncidentChannels lets reports leave out "Open incident" where an incident is already open:
// in its own channel.
func (h *Handlers) KnowIncidentChannels(in func(ctx context.Context, channel string) bool) {
	h.inIncident = in
}

// withoutOpen drops the step that opens an incident when the channel is already an incident's.
func (h *Handlers) withoutOpen(ctx context.Context, channel string, next []NextStep) []NextStep {
	if h.inIncident == nil || channel == "" || !h.inIncident(ctx, channel) {
		return next
	}
	return slices.DeleteFunc(next, func(s NextStep) bool { return strings.HasPrefix(s.Command, "/perf incident open") })
}

// Commands lists every command in help order.
func (h *Handlers) Commands() []Command { return h.commands }

// Handle parses and runs one command under the configured deadline.
func (h *Handlers) Handle(ctx context.Context, req Request) (Report, error) {
	fields := strings.Fields(req.Text)
	if len(fields) == 0 {
		return h.help(nil), nil
	}
	name := strings.ToLower(fields[0])
	for _, c := range h.commands {
		if c.Name == name {
			ctx, cancel := context.WithTimeout(ctx, h.cfg.Commands.Deadline.D())
			defer cancel()
			return c.Run(ctx, req, fields[1:])
		}
	}
	return Report{}, errs.Invalidf("unknown command %q. Try `/perf help`.\n%s", fields[0], h.usageList())
}

func (h *Handlers) usageList() string {
	var b strings.Builder
	b.WriteString("Commands:")
	for _, c := range h.commands {
		b.WriteString("\n  /perf " + c.Usage)
	}
	return b.String()
}

// run runs the probes for a service and assembles the report.
func (h *Handlers) run(ctx context.Context, req Request, cmd, title string, service string, window time.Duration, list []probes.Probe) (Report, error) {
	env, err := h.envs.Env(service, window)
	if err != nil {
		return Report{}, err
	}
	return h.runProbes(ctx, req, cmd, title, env, list), nil
}

// runProbes runs probes the service has backends for, reporting progress, and assembles the report.
func (h *Handlers) runProbes(ctx context.Context, req Request, cmd, title string, env *probes.Env, all []probes.Probe) Report {
	list := make([]probes.Probe, 0, len(all))
	for _, p := range all {
		if !env.Has(p.Needs) {
			continue
		}
		if err := env.Broken[p.Needs]; err != nil {
			p.Run = func(context.Context, *probes.Env) (probes.Result, error) { return probes.Result{}, err }
		}
		list = append(list, p)
	}
	start := time.Now()
	step := Step{Command: "/perf " + cmd, Service: env.Service.Name, Total: len(list)}
	if req.Progress != nil {
		req.Progress(step)
	}
	results := h.runner.Run(ctx, env, list, func(done int, r probes.Result) {
		if req.Progress != nil {
			step.Done, step.Last = done, sectionOf(r)
			req.Progress(step)
		}
	})
	rep := Assemble(results)
	rep.Command = "/perf " + cmd
	rep.Service = env.Service.Name
	rep.Title = title + " " + env.Service.Name
	rep.Elapsed = time.Since(start)
	observe(cmd, rep, results)
	h.log.Info("command done", "cmd", cmd, "service", env.Service.Name, "user", req.User,
		"status", rep.Status.String(), "elapsed", rep.Elapsed)
	return rep
}

// Assemble turns probe results into a report: sections in probe order, findings ranked by the
// diagnosis (the likely cause, the symptoms it explains, then the rest worst first).
func Assemble(results []probes.Result) Report {
	rep := Report{}
	for _, r := range results {
		rep.Sections = append(rep.Sections, sectionOf(r))
		rep.Status = probes.Worst(rep.Status, r.Status)
		rep.Findings = append(rep.Findings, r.Findings...)
		rep.Tables = append(rep.Tables, r.Tables...)
		rep.Charts = append(rep.Charts, r.Charts...)
	}
	d := diagnosis.Diagnose(rep.Findings)
	rep.Findings = d.Ranked
	rep.Headline = headline(rep, d)
	return rep
}

func sectionOf(r probes.Result) Section {
	s := Section{Probe: r.Probe, Title: r.Title, Status: r.Status, Summary: r.Summary, TimedOut: r.TimedOut, Duration: r.Duration}
	if r.Err != nil {
		s.Err = r.Summary
	}
	return s
}
