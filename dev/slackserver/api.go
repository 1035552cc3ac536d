package slackserver

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// apiError is a Web API failure as Slack reports it.
type apiError struct {
	code     string
	messages []string // shown as "errors" and as "[ERROR] ..." response_metadata.messages
}

func (e *apiError) Error() string {
	if len(e.messages) == 0 {
		return e.code
	}
	return e.code + ": " + strings.Join(e.messages, "; ")
}

func errCode(code string, messages ...string) *apiError {
	return &apiError{code: code, messages: messages}
}

// call is one Web API request after parsing and authentication.
type call struct {
	method string
	args   url.Values
	r      *http.Request
	host   string
}

func (c *call) arg(name string) string { return c.args.Get(name) }

func (c *call) has(name string) bool { _, ok := c.args[name]; return ok }

// handlerFunc serves one method; it runs with s.mu held and returns the fields of a
// successful response, or an *apiError.
type handlerFunc func(s *Server, c *call) (map[string]any, error)

// method is one Web API method the server implements.
type method struct {
	fn       handlerFunc
	appToken bool                        // needs the app-level (xapp-) token instead of the bot token
	limitKey func(*Server, *call) string // non-nil: rate-limited per key (e.g. per channel); takes s.mu
}

func (s *Server) routes() {
	s.mux.HandleFunc("/api/", s.handleAPI)
	s.mux.HandleFunc("/link/", s.hub.handleLink)
	s.mux.HandleFunc("/upload/v1/", s.handleUpload)
	s.mux.HandleFunc("/commands/", s.handleResponseURL)
	s.mux.HandleFunc("/actions/", s.handleResponseURL)
	s.mux.Handle(uiPath, s.webHandler())
	s.mux.HandleFunc("GET /archives/{channel}/{p}", s.handlePermalink)
	s.mux.HandleFunc("GET /favicon.ico", serveFavicon)
}

func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/api/")
	s.mu.Lock()
	s.calls[name]++
	s.mu.Unlock()
	m, ok := apiMethods[name]
	if !ok {
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "unknown_method", "req_method": name})
		return
	}
	c, err := s.prepare(name, m, r)
	if err == nil {
		if wait, limited := s.limit(name, m, c); limited {
			s.refused(name, "ratelimited")
			w.Header().Set("Retry-After", strconv.Itoa(wait))
			writeJSON(w, http.StatusTooManyRequests, map[string]any{"ok": false, "error": "ratelimited"})
			return
		}
	}
	var resp map[string]any
	if err == nil {
		s.mu.Lock()
		resp, err = m.fn(s, c)
		s.mu.Unlock()
	}
	if err != nil {
		s.writeError(w, name, err)
		return
	}
	s.notify()
	if resp == nil {
		resp = map[string]any{}
	}
	resp["ok"] = true
	writeJSON(w, http.StatusOK, resp)
}

// prepare parses the arguments, checks the token kind and the required arguments.
func (s *Server) prepare(name string, m method, r *http.Request) (*call, error) {
	args, err := parseArgs(r)
	if err != nil {
		return nil, err
	}
	token := args.Get("token")
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		token = strings.TrimPrefix(h, "Bearer ")
	}
	if err := s.checkToken(token, m.appToken); err != nil {
		return nil, err
	}
	for _, req := range methodSpecs[name].required {
		if req != "token" && strings.TrimSpace(args.Get(req)) == "" {
			return nil, missingArg(name, req)
		}
	}
	return &call{method: name, args: args, r: r, host: r.Host}, nil
}

func (s *Server) checkToken(token string, wantApp bool) error {
	switch {
	case token == "":
		return errCode("not_authed")
	case token == s.opts.BotToken && !wantApp, token == s.opts.AppToken && wantApp:
		return nil
	case token == s.opts.BotToken, token == s.opts.AppToken:
		return errCode("not_allowed_token_type")
	default:
		return errCode("invalid_auth")
	}
}

// parseArgs merges query, form (urlencoded or multipart) and JSON-object arguments.
func parseArgs(r *http.Request) (url.Values, error) {
	args := r.URL.Query()
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
		if err != nil {
			return nil, errCode("invalid_form_data")
		}
		if len(strings.TrimSpace(string(body))) == 0 {
			return args, nil
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(body, &obj); err != nil {
			return nil, errCode("invalid_json")
		}
		for k, v := range obj {
			var str string
			if json.Unmarshal(v, &str) == nil {
				args.Set(k, str)
			} else if string(v) != "null" {
				args.Set(k, string(v))
			}
		}
	case "multipart/form-data":
		if err := r.ParseMultipartForm(8 << 20); err != nil {
			return nil, errCode("invalid_form_data")
		}
		for k, v := range r.MultipartForm.Value {
			args[k] = v
		}
	default:
		if err := r.ParseForm(); err != nil {
			return nil, errCode("invalid_form_data")
		}
		for k, v := range r.PostForm {
			args[k] = v
		}
	}
	return args, nil
}

func (s *Server) writeError(w http.ResponseWriter, name string, err error) {
	ae, ok := err.(*apiError)
	if !ok {
		s.log.Error("web api method failed", "method", name, "err", err)
		ae = errCode("internal_error")
	}
	s.refused(name, ae.code)
	if !documented(name, ae.code) {
		s.log.Warn("answering with an error code Slack does not document for this method", "method", name, "error", ae.code)
	}
	body := map[string]any{"ok": false, "error": ae.code}
	if len(ae.messages) > 0 {
		msgs := make([]string, len(ae.messages))
		for i, m := range ae.messages {
			msgs[i] = "[ERROR] " + m
		}
		body["errors"] = ae.messages
		body["response_metadata"] = map[string]any{"messages": msgs}
	}
	writeJSON(w, http.StatusOK, body)
}

// refused counts a call answered with an error code.
func (s *Server) refused(method, code string) {
	s.mu.Lock()
	s.refusals[method+" "+code]++
	s.mu.Unlock()
	s.notify()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // a client gone away is not the server's problem
}
