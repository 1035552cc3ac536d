package slackserver_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestWebRefusesOtherSites checks that a page from another site (a cross-site form or
// fetch, or a DNS-rebound host name) cannot drive the bot, while the page itself can.
func TestWebRefusesOtherSites(t *testing.T) {
	w := newWebWorld(t) // no app connected: a request that gets through answers 502
	u, err := url.Parse(w.ui.URL)
	if err != nil {
		t.Fatal(err)
	}
	port := u.Port()
	body := `{"user":"` + w.alice + `","channel":"` + w.c + `","text":"/perf help"}`
	for _, tc := range []struct {
		name, method, path, host, ctype, origin string
		code                                    int
		errPart                                 string
	}{
		{"the page itself", "POST", "send", "", "application/json", w.ui.URL, 502, "no app is connected"},
		{"localhost name", "POST", "send", "localhost:" + port, "application/json; charset=utf-8", "http://localhost:" + port, 502, "no app"},
		{"no origin (non-browser client)", "POST", "send", "", "application/json", "", 502, "no app"},
		{"cross-site form (text/plain)", "POST", "send", "", "text/plain", "", 403, "application/json"},
		{"cross-site form (urlencoded)", "POST", "click", "", "application/x-www-form-urlencoded", "", 403, "application/json"},
		{"no content type", "POST", "pin", "", "", "", 403, "application/json"},
		{"other origin", "POST", "send", "", "application/json", "http://evil.example", 403, "origin"},
		{"other port", "POST", "send", "", "application/json", "http://127.0.0.1:1", 403, "origin"},
		{"https origin", "POST", "send", "", "application/json", "https://" + u.Host, 403, "origin"},
		{"opaque origin", "POST", "send", "", "application/json", "null", 403, "origin"},
		{"rebound host (POST)", "POST", "send", "evil.example:" + port, "application/json", "http://evil.example:" + port, 403, "host"},
		{"rebound host (GET state)", "GET", "state", "evil.example:" + port, "", "", 403, "host"},
		{"host on another port", "GET", "state", "127.0.0.1:1", "", "", 403, "host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, w.ui.URL+"/ui/api/"+tc.path, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.host != "" {
				req.Host = tc.host
			}
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			code, msg := doUI(t, req)
			if code != tc.code || !strings.Contains(msg, tc.errPart) {
				t.Fatalf("answered %d %q, want %d %q", code, msg, tc.code, tc.errPart)
			}
		})
	}
}

func doUI(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Error string `json:"error"`
	}
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out.Error
}
