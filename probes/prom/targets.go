package prom

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/prometheus/common/model"

	"github.com/perfbot/perfbot/probes"
)

// Targets checks Prometheus's own view of what it scrapes (the runbook's `query=up`):
// the service's targets down is critical, any other target down is a warning.
var Targets = probes.Probe{Name: "targets", Title: "Scrape targets", Needs: probes.NeedsPrometheus, Run: targets}

func targets(ctx context.Context, env *probes.Env) (probes.Result, error) {
	all, err := instant(ctx, env, `up`)
	if err != nil {
		return probes.Result{}, err
	}
	mine, err := instant(ctx, env, "up"+sel(env.Service.Prometheus.Selector))
	if err != nil {
		return probes.Result{}, err
	}
	res := probes.Result{}
	key := func(s *model.Sample) string { return string(s.Metric["job"]) + " " + string(s.Metric["instance"]) }
	own := map[string]bool{}
	var ownDown []string
	for _, s := range mine {
		own[key(s)] = true
		if s.Value == 0 {
			ownDown = append(ownDown, key(s))
		}
	}
	var otherDown []string
	up := 0
	for _, s := range all {
		if s.Value == 1 {
			up++
		} else if !own[key(s)] {
			otherDown = append(otherDown, key(s))
		}
	}
	sort.Strings(ownDown)
	sort.Strings(otherDown)
	res.Summary = fmt.Sprintf("%d of %d scrape targets up", up, len(all))
	switch {
	case len(mine) == 0:
		res.Add(probes.Finding{Check: "Service targets", Signal: probes.SigTargetDown, Status: probes.Crit, Message: "Prometheus has no target matching " + sel(env.Service.Prometheus.Selector)})
	case len(ownDown) > 0:
		res.Add(probes.Finding{Check: "Service targets", Signal: probes.SigTargetDown, Status: probes.Crit, Value: float64(len(ownDown)), Unit: "down",
			Message: "service targets down: " + strings.Join(ownDown, ", ")})
	}
	if len(otherDown) > 0 {
		res.Add(probes.Finding{Check: "Scrape targets", Status: probes.Warn, Value: float64(len(otherDown)), Unit: "down",
			Message: "other targets down: " + strings.Join(otherDown, ", ")})
	}
	return res, nil
}
