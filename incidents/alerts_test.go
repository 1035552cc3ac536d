package incidents

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

func readFiring(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/webhook_firing.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mutate decodes the firing payload, lets f change it, and encodes it again.
func mutate(t *testing.T, f func(m map[string]any, alert map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(readFiring(t), &m); err != nil {
		t.Fatal(err)
	}
	alert := m["alerts"].([]any)[0].(map[string]any)
	f(m, alert)
	b, _ := json.Marshal(m)
	return b
}

func TestParseWebhook(t *testing.T) {
	w, err := ParseWebhook(readFiring(t))
	if err != nil {
		t.Fatal(err)
	}
	a := w.Alerts[0]
	if a.Name() != "HighAPILatency" || !a.Firing() || a.Fingerprint != "a1b2c3d4e5f60718" || a.Receiver != "perfbot" ||
		!a.StartsAt.Equal(time.Date(2025, 3, 14, 9, 20, 0, 123e6, time.UTC)) || !a.EndsAt.IsZero() ||
		a.ExternalURL != "http://127.0.0.1:19093" || w.GroupLabels["alertname"] != "HighAPILatency" {
		t.Errorf("parsed %+v", w)
	}
	for _, tc := range []struct {
		name string
		body []byte
		want string
	}{
		{"not json", []byte("alerts!"), "decode"},
		{"trailing data", append(readFiring(t), []byte(`{}`)...), "after the JSON"},
		{"version 3", mutate(t, func(m, _ map[string]any) { m["version"] = "3" }), "version"},
		{"no version", mutate(t, func(m, _ map[string]any) { delete(m, "version") }), "version"},
		{"no alerts", mutate(t, func(m, _ map[string]any) { m["alerts"] = []any{} }), "no alerts"},
		{"bad time", mutate(t, func(_, a map[string]any) { a["startsAt"] = "yesterday" }), "decode"},
		{"missing startsAt", mutate(t, func(_, a map[string]any) { delete(a, "startsAt") }), "startsAt"},
		{"bad status", mutate(t, func(_, a map[string]any) { a["status"] = "burning" }), "status"},
		{"no labels", mutate(t, func(_, a map[string]any) { delete(a, "labels") }), "labels"},
		{"resolved before start", mutate(t, func(_, a map[string]any) { a["status"] = "resolved" }), "before it starts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseWebhook(tc.body)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
	t.Run("fingerprint computed when missing", func(t *testing.T) {
		w, err := ParseWebhook(mutate(t, func(_, a map[string]any) { delete(a, "fingerprint") }))
		if err != nil || len(w.Alerts[0].Fingerprint) != 16 {
			t.Errorf("fingerprint %q, %v", w.Alerts[0].Fingerprint, err)
		}
	})
}

func post(t *testing.T, h http.Handler, token string, body []byte) (*httptest.ResponseRecorder, alertReply) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/alertmanager", bytes.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var rep alertReply
	_ = json.Unmarshal(rec.Body.Bytes(), &rep)
	return rec, rep
}

// rowCounts counts the rows of every state table.
func rowCounts(t *testing.T, st *Store) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"incidents", "timeline_events", "escalations", "alert_receipts", "postmortems"} {
		var n int
		if err := st.pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	return out
}

func TestAlertHandler(t *testing.T) {
	st, clock := newStore(t, Options{Services: []string{"agentic-studio", "billing"}})
	ctx := context.Background()
	h := AlertHandler(st, AlertOptions{Token: "s3cret", MaxBody: 64 << 10})
	empty := map[string]int{"incidents": 0, "timeline_events": 0, "escalations": 0, "alert_receipts": 0, "postmortems": 0}

	t.Run("bad token", func(t *testing.T) {
		for _, tok := range []string{"", "wrong", "s3cret2", "s3cre"} {
			if rec, _ := post(t, h, tok, readFiring(t)); rec.Code != http.StatusUnauthorized {
				t.Errorf("token %q: status %d, want 401", tok, rec.Code)
			}
		}
		if got := rowCounts(t, st); !equalCounts(got, empty) {
			t.Errorf("stored %v after 401", got)
		}
	})
	t.Run("bad body", func(t *testing.T) {
		for _, body := range [][]byte{[]byte("{"), mutate(t, func(m, _ map[string]any) { m["version"] = "3" }),
			mutate(t, func(_, a map[string]any) { a["startsAt"] = "later" })} {
			if rec, _ := post(t, h, "s3cret", body); rec.Code != http.StatusBadRequest {
				t.Errorf("status %d, want 400", rec.Code)
			}
		}
		if rec, _ := post(t, h, "s3cret", bytes.Repeat([]byte(" "), 65<<10)); rec.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("oversized body: status %d, want 413", rec.Code)
		}
		if got := rowCounts(t, st); !equalCounts(got, empty) {
			t.Errorf("stored %v after 400", got)
		}
	})
	var incID string
	t.Run("good body opens an incident", func(t *testing.T) {
		rec, rep := post(t, h, "s3cret", readFiring(t))
		if rec.Code != http.StatusOK || rep.New != 1 {
			t.Fatalf("status %d, reply %+v", rec.Code, rep)
		}
		inc, ok, err := st.OpenForService(ctx, "agentic-studio")
		if err != nil || !ok {
			t.Fatalf("no open incident: %v", err)
		}
		incID = inc.ID.String()
		if inc.Title != "API p95 latency above 500ms" || inc.Severity != Sev1 || inc.Source != "alertmanager" ||
			!inc.DetectedAt.Equal(time.Date(2025, 3, 14, 9, 20, 0, 123e6, time.UTC)) || inc.AlertFingerprint != "a1b2c3d4e5f60718" {
			t.Errorf("incident %+v", inc)
		}
	})
	t.Run("duplicate is handled once", func(t *testing.T) {
		before := rowCounts(t, st)
		rec, rep := post(t, h, "s3cret", readFiring(t))
		if rec.Code != http.StatusOK || rep.Duplicates != 1 || rep.New != 0 {
			t.Errorf("status %d, reply %+v", rec.Code, rep)
		}
		if after := rowCounts(t, st); !equalCounts(before, after) {
			t.Errorf("duplicate changed rows: %v -> %v", before, after)
		}
	})
	t.Run("second alert joins, resolved is noted", func(t *testing.T) {
		clock.Advance(10 * time.Minute)
		other := mutate(t, func(_, a map[string]any) {
			a["fingerprint"] = "ffff000011112222"
			a["labels"].(map[string]any)["alertname"] = "HighErrorRate"
		})
		if rec, rep := post(t, h, "s3cret", other); rec.Code != 200 || rep.New != 1 {
			t.Errorf("join: %d %+v", rec.Code, rep)
		}
		resolved := mutate(t, func(m, a map[string]any) {
			m["status"], a["status"], a["endsAt"] = "resolved", "resolved", "2025-03-14T09:50:00Z"
		})
		if rec, rep := post(t, h, "s3cret", resolved); rec.Code != 200 || rep.New != 1 {
			t.Errorf("resolved: %d %+v", rec.Code, rep)
		}
		if got := rowCounts(t, st)["incidents"]; got != 1 {
			t.Errorf("incidents = %d, want 1", got)
		}
		inc, _ := st.Lookup(ctx, incID)
		tl, _ := st.Timeline(ctx, inc.ID)
		var kinds []string
		for _, e := range tl {
			kinds = append(kinds, string(e.Kind))
		}
		if strings.Join(kinds, ",") != "alert_firing,alert_firing,opened,alert_resolved" {
			t.Errorf("timeline %v", kinds)
		}
	})
	t.Run("unknown service is ignored", func(t *testing.T) {
		d, err := st.HandleAlert(ctx, Alert{Status: AlertFiring, Labels: map[string]string{"alertname": "X", "service": "nope"}, StartsAt: t0, Fingerprint: "z"})
		if err != nil || d.Action != AlertIgnored {
			t.Errorf("decision %+v, %v", d, err)
		}
	})
}

func equalCounts(a, b map[string]int) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return len(a) == len(b)
}

func TestAlertHandlerFailureIsRetried(t *testing.T) {
	st, _ := newStore(t, Options{})
	calls := 0
	h := AlertHandler(st, AlertOptions{Token: "t", OnAlert: func(ctx context.Context, a Alert) error {
		calls++
		if calls == 1 {
			return errors.New("slack is down")
		}
		_, err := st.HandleAlert(ctx, a)
		return err
	}})
	if rec, _ := post(t, h, "t", readFiring(t)); rec.Code != http.StatusInternalServerError {
		t.Errorf("first delivery: %d, want 500", rec.Code)
	}
	if rec, rep := post(t, h, "t", readFiring(t)); rec.Code != http.StatusOK || rep.New != 1 {
		t.Errorf("retry: %d %+v, want handled", rec.Code, rep)
	}
	if n := rowCounts(t, st)["incidents"]; n != 1 || calls != 2 {
		t.Errorf("incidents %d, calls %d", n, calls)
	}
}

func TestHandleAlertConcurrentOpensOne(t *testing.T) {
	st, _ := newStore(t, Options{})
	ctx := context.Background()
	var wg sync.WaitGroup
	decisions := make(chan AlertDecision, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := st.HandleAlert(ctx, Alert{Status: AlertFiring, StartsAt: t0, Fingerprint: string(rune('a' + i)),
				Labels: map[string]string{"alertname": "A", "job": "agentic-studio"}})
			if err != nil {
				t.Error(err)
			}
			decisions <- d
		}()
	}
	wg.Wait()
	close(decisions)
	opened := 0
	for d := range decisions {
		if d.Action == AlertOpened {
			opened++
		}
	}
	if opened != 1 || rowCounts(t, st)["incidents"] != 1 {
		t.Errorf("opened %d incidents, want 1", opened)
	}
}
