package slackserver

import (
	"net/http"
	"net/url"
	"strings"
)

// Message permalinks (https://<workspace>/archives/<channel>/p<ts without the dot>, as perfbot
// builds them from auth.test's URL) open the web view at that channel and message.
func (s *Server) handlePermalink(rw http.ResponseWriter, r *http.Request) {
	channel, p := r.PathValue("channel"), r.PathValue("p")
	digits := strings.TrimPrefix(p, "p")
	ch, ok := s.Channel(channel)
	if !ok || len(digits) < 7 || digits == p || strings.Trim(digits, "0123456789") != "" {
		http.NotFound(rw, r)
		return
	}
	ts := digits[:len(digits)-6] + "." + digits[len(digits)-6:]
	q := url.Values{"channel": {ch.ID}, "ts": {ts}}
	if u := r.URL.Query().Get("user"); u != "" {
		q.Set("user", u)
	}
	http.Redirect(rw, r, uiPath+"?"+q.Encode()+"#m"+digits, http.StatusFound)
}

// favicon is perfbot's icon: a chart line in a rounded square.
const favicon = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#3f0e40"/>` +
	`<polyline points="5,22 12,15 17,19 27,8" fill="none" stroke="#fff" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"/></svg>`

func serveFavicon(rw http.ResponseWriter, _ *http.Request) {
	rw.Header().Set("Content-Type", "image/svg+xml")
	rw.Header().Set("Cache-Control", "max-age=86400")
	_, _ = rw.Write([]byte(favicon))
}
