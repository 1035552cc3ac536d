package incidents

import (
	"testing"
)

// FuzzParseWebhook: any body is either a valid webhook (version 4, a known status, at least one
// alert, every alert with a fingerprint) or an error; never a panic, never half a webhook.
func FuzzParseWebhook(f *testing.F) {
	f.Add([]byte(`{"version":"4","status":"firing","receiver":"perfbot","alerts":[{"status":"firing","labels":{"alertname":"HighLatency"},"startsAt":"2026-12-01T12:00:00Z","fingerprint":"abc"}]}`))
	f.Add([]byte(`{"version":"4","status":"resolved","alerts":[{"status":"resolved","labels":{},"startsAt":"2026-12-01T12:00:00Z","endsAt":"2026-12-01T12:05:00Z"}]}`))
	f.Add([]byte(`{"version":"3"}`))
	f.Add([]byte(`{} {}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, body []byte) {
		w, err := ParseWebhook(body)
		if err != nil {
			return
		}
		if w.Version != "4" || (w.Status != AlertFiring && w.Status != AlertResolved) || len(w.Alerts) == 0 {
			t.Fatalf("accepted an invalid webhook: %+v", w)
		}
		for _, a := range w.Alerts {
			if a.Fingerprint == "" {
				t.Fatalf("alert without a fingerprint: %+v", a)
			}
		}
	})
}
