package probes

// ThresholdStatus compares v with a limit: Crit above it, Warn above warnAt·limit (when warnAt > 0),
// OK otherwise.
func ThresholdStatus(v, limit, warnAt float64) Status {
	switch {
	case v > limit:
		return Crit
	case warnAt > 0 && v > limit*warnAt:
		return Warn
	default:
		return OK
	}
}

// LevelStatus grades v against rising warn and crit thresholds and returns the threshold it is
// measured against: crit once past it, warn otherwise.
func LevelStatus(v, warn, crit float64) (Status, float64) {
	switch {
	case v > crit:
		return Crit, crit
	case v > warn:
		return Warn, warn
	}
	return OK, warn
}
