package handlers

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/perfbot/perfbot/probes"
)

// perfbot's own metrics, served at /metrics by `perfbot run`.
var (
	commandsTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "perfbot_commands_total", Help: "Commands run, by command and overall status.",
	}, []string{"command", "status"})
	commandSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name: "perfbot_command_duration_seconds", Help: "Wall time of probe commands.",
		Buckets: []float64{.025, .05, .1, .25, .5, 1, 2, 4, 8},
	}, []string{"command"})
	probeSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name: "perfbot_probe_duration_seconds", Help: "Wall time of each probe.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2, 4},
	}, []string{"probe"})
	probeFailures = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "perfbot_probe_failures_total", Help: "Probes that could not look, by probe and why (timeout, error).",
	}, []string{"probe", "reason"})
)

// observe records one finished probe command.
func observe(cmd string, rep Report, results []probes.Result) {
	commandsTotal.WithLabelValues(cmd, rep.Status.String()).Inc()
	commandSeconds.WithLabelValues(cmd).Observe(rep.Elapsed.Seconds())
	for _, r := range results {
		probeSeconds.WithLabelValues(r.Probe).Observe(r.Duration.Seconds())
		switch {
		case r.TimedOut:
			probeFailures.WithLabelValues(r.Probe, "timeout").Inc()
		case r.Err != nil:
			probeFailures.WithLabelValues(r.Probe, "error").Inc()
		}
	}
}
