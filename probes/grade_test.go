package probes

import (
	"strconv"
	"testing"
)

func TestLevelStatus(t *testing.T) {
	tests := []struct {
		v        float64
		want     Status
		wantThre float64
	}{{0.5, OK, 0.8}, {0.8, OK, 0.8}, {0.81, Warn, 0.8}, {0.95, Warn, 0.8}, {0.96, Crit, 0.95}}
	for _, tt := range tests {
		t.Run(strconv.FormatFloat(tt.v, 'f', -1, 64), func(t *testing.T) {
			if st, th := LevelStatus(tt.v, 0.80, 0.95); st != tt.want || th != tt.wantThre {
				t.Errorf("LevelStatus(%v) = %v, %v; want %v, %v", tt.v, st, th, tt.want, tt.wantThre)
			}
		})
	}
}

func TestThresholdStatus(t *testing.T) {
	tests := []struct {
		v, limit, warnAt float64
		want             Status
	}{
		{0.4, 0.5, 0.8, OK}, {0.41, 0.5, 0.8, Warn}, {0.5, 0.5, 0.8, Warn}, {0.51, 0.5, 0.8, Crit},
		{0.49, 0.5, 0, OK}, {0.51, 0.5, 0, Crit},
	}
	for _, tt := range tests {
		if got := ThresholdStatus(tt.v, tt.limit, tt.warnAt); got != tt.want {
			t.Errorf("ThresholdStatus(%v, %v, %v) = %s, want %s", tt.v, tt.limit, tt.warnAt, got, tt.want)
		}
	}
}
