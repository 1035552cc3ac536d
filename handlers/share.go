package handlers

import (
	"time"

	"github.com/perfbot/perfbot/probes"
)

// ShareBucket is the time resolution of probe queries: commands within one bucket evaluate at the same
// instant, so identical probe runs are shared (see probes.Coalescer) instead of multiplying backend load.
const ShareBucket = 5 * time.Second

// ShareAcross shares the probe runs this process would do with other replicas through remote too:
// one replica runs an identical probe, the others read its result. Call it before serving commands.
func (h *Handlers) ShareAcross(remote probes.Remote) { h.runner.Share.Remote = remote }
