package probes

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	shareOutcomes = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "perfbot_probe_share_total",
		Help: "Probe runs by how they were shared across replicas: ran (here, for everyone), remote (read another replica's run), local (Redis did not answer: run here, shared only inside this process).",
	}, []string{"outcome"})
	shareRedisUp = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "perfbot_probe_share_redis_up",
		Help: "1 while probe runs are shared across replicas through Redis, 0 while Redis does not answer and they are shared only inside this process.",
	})
)
