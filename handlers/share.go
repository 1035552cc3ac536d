package handlers

import "time"

// ShareBucket is the time resolution of probe queries: commands within one bucket evaluate at the same
// instant, so identical probe runs are shared (see probes.Coalescer) instead of multiplying backend load.
const ShareBucket = 5 * time.Second
