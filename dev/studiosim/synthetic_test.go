package studiosim_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/perfbot/perfbot/dev/studiosim"
	"github.com/perfbot/perfbot/internal/stacktest"
)

// TestSyntheticEndpoints: a simulator asked for 25 synthetic endpoints serves request series for each.
func TestSyntheticEndpoints(t *testing.T) {
	sim := stacktest.StartSimWith(t, 0, studiosim.Options{SyntheticEndpoints: 25})
	count := func() int {
		resp, err := http.Get(sim.URL + "/metrics")
		if err != nil {
			return 0
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		n := 0
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, `http_requests_total{endpoint="/api/synthetic/`) {
				n++
			}
		}
		return n
	}
	stacktest.Eventually(t, 30*time.Second, 100*time.Millisecond, func() bool { return count() == 25 }, "25 synthetic endpoints in /metrics, have %d", count())
}
