package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/incidents"
	"github.com/perfbot/perfbot/internal/stacktest"
)

// TestEndpointsTrustOnlyTheirOwnToken: the webhook's token cannot read postmortems and the
// postmortem token cannot post alerts; an endpoint whose token is empty is off (404) whatever the
// request carries, and the listing says which endpoints are on and which are off.
func TestEndpointsTrustOnlyTheirOwnToken(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, stacktest.Database(t, "perfbot_endpoints"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := incidents.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	a := &App{Store: incidents.New(pool, incidents.Options{})}
	if _, err := a.Store.Open(ctx, incidents.OpenParams{Title: "slow", Service: "agentic-studio", OpenedBy: "U0ALICE", Source: "console"}); err != nil {
		t.Fatal(err)
	}
	do := func(h http.Handler, method, path, token string) int {
		req := httptest.NewRequest(method, path, strings.NewReader(`{"version":"4","alerts":[]}`))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	cfg := config.Default()
	cfg.HTTP.AlertmanagerToken, cfg.HTTP.PostmortemToken = "am-token", "pm-token"
	h, on, off := a.routes(cfg, nil)
	for _, tc := range []struct {
		method, path, token string
		want                int
	}{
		{"GET", "/incidents/1/postmortem", "", http.StatusUnauthorized},
		{"GET", "/incidents/1/postmortem", "am-token", http.StatusUnauthorized},
		{"GET", "/incidents/1/postmortem", "pm-token", http.StatusOK},
		{"POST", "/alertmanager", "pm-token", http.StatusUnauthorized},
		{"POST", "/alertmanager", "am-token", http.StatusBadRequest}, // past the token; the body has no receiver
		{"GET", "/healthz", "", http.StatusOK},
	} {
		if got := do(h, tc.method, tc.path, tc.token); got != tc.want {
			t.Errorf("%s %s with %q: %d, want %d", tc.method, tc.path, tc.token, got, tc.want)
		}
	}
	if len(off) != 0 || !strings.Contains(strings.Join(on, " "), "GET /incidents/{id}/postmortem") {
		t.Errorf("on %v, off %v", on, off)
	}

	cfg.HTTP.AlertmanagerToken, cfg.HTTP.PostmortemToken = "", ""
	h, on, off = a.routes(cfg, nil)
	for _, tc := range []struct{ method, path, token string }{
		{"GET", "/incidents/1/postmortem", ""}, {"GET", "/incidents/1/postmortem", "anything"}, {"POST", "/alertmanager", ""},
	} {
		if got := do(h, tc.method, tc.path, tc.token); got != http.StatusNotFound {
			t.Errorf("%s %s with its token unset: %d, want 404", tc.method, tc.path, got)
		}
	}
	if got := strings.Join(off, "; "); !strings.Contains(got, "http.alertmanager_token is empty") || !strings.Contains(got, "http.postmortem_token is empty") {
		t.Errorf("off = %q, want both endpoints named with their setting", got)
	}
	if strings.Contains(strings.Join(on, " "), "postmortem") {
		t.Errorf("on = %v", on)
	}
}
