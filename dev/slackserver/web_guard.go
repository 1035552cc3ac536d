package slackserver

import (
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// guardUI protects the browser demo from other web sites open in the same browser:
// every request must name this server in Host (no DNS rebinding), and a POST must
// carry a JSON body (which a cross-site form cannot send without a CORS preflight
// this server never grants) and, when the browser sends one, an Origin of this server.
func guardUI(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if !sameServer(r, r.Host) {
			uiJSON(rw, http.StatusForbidden, map[string]any{"ok": false, "error": "host " + r.Host + " is not this server: open the page as http://127.0.0.1:<port>/ui/ or http://localhost:<port>/ui/"})
			return
		}
		if r.Method == http.MethodPost {
			if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
				uiJSON(rw, http.StatusForbidden, map[string]any{"ok": false, "error": "requests must be sent as application/json"})
				return
			}
			if o := r.Header.Get("Origin"); o != "" && !sameOrigin(r, o) {
				uiJSON(rw, http.StatusForbidden, map[string]any{"ok": false, "error": "origin " + o + " is not this server"})
				return
			}
		}
		next.ServeHTTP(rw, r)
	})
}

// sameOrigin reports whether an Origin header is this server over plain HTTP.
func sameOrigin(r *http.Request, origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Scheme != "http" || u.Path != "" || u.User != nil {
		return false
	}
	return sameServer(r, u.Host)
}

// sameServer reports whether hostport names the address the request arrived on:
// that address itself, or a loopback name (localhost, 127.0.0.1, [::1]) with its port.
func sameServer(r *http.Request, hostport string) bool {
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return false
	}
	lhost, lport, err := net.SplitHostPort(local.String())
	if err != nil {
		return false
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil || port != lport {
		return false
	}
	host = strings.ToLower(host)
	switch host {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	lip, ip := net.ParseIP(lhost), net.ParseIP(host)
	return lip != nil && ip != nil && lip.Equal(ip) && !lip.IsUnspecified()
}
