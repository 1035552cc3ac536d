package slackserver

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"html"
	"io/fs"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// The browser demo workspace: a page under /ui/ that shows the workspace as a user sees it
// and drives the app through the same Socket Mode envelopes a real Slack client causes.
// It uses only the Server's exported API, so it is also an example of driving one.

//go:embed webassets
var webAssets embed.FS

// uiPath is where routes() mounts the web UI.
const uiPath = "/ui/"

// webUI serves the browser demo workspace.
type webUI struct {
	s *Server

	mu     sync.Mutex
	pinned map[string]bool // channel+" "+ts of messages pinned from the UI
}

// Users returns the workspace's members, the bot included, sorted by name.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]User, 0, len(s.ws.users))
	for _, u := range s.ws.users {
		out = append(out, *u)
	}
	slices.SortFunc(out, func(a, b User) int { return strings.Compare(a.Name+" "+a.ID, b.Name+" "+b.ID) })
	return out
}

// webHandler returns the handler of everything under /ui/.
func (s *Server) webHandler() http.Handler {
	w := &webUI{s: s, pinned: map[string]bool{}}
	static, err := fs.Sub(webAssets, "webassets")
	if err != nil {
		panic(fmt.Sprintf("web assets: %v", err))
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+uiPath+"static/", http.StripPrefix(uiPath+"static/", http.FileServerFS(static)))
	mux.HandleFunc("GET "+uiPath+"{$}", func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' http: https:; script-src 'self'; style-src 'self'")
		http.ServeFileFS(rw, r, static, "index.html")
	})
	mux.HandleFunc("GET "+uiPath+"api/state", w.state)
	mux.HandleFunc("GET "+uiPath+"api/file", w.file)
	mux.HandleFunc("POST "+uiPath+"api/send", w.send)
	mux.HandleFunc("POST "+uiPath+"api/click", w.click)
	mux.HandleFunc("POST "+uiPath+"api/pin", w.pin)
	mux.HandleFunc("POST "+uiPath+"api/react", w.react)
	mux.HandleFunc("GET "+uiPath+"api/faults", w.listFaults)
	mux.HandleFunc("POST "+uiPath+"api/faults", w.setFault)
	return guardUI(mux)
}

// uiUser and uiChannel are the switcher and sidebar entries of the state.
type uiUser struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type uiCanvas struct {
	Title    string `json:"title"`
	Markdown string `json:"markdown"`
}

type uiChannel struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Topic string `json:"topic,omitempty"`
	Kind  string `json:"kind"` // "public", "private", "im"
	// Latest is the timestamp of the newest message, for the page's unread markers.
	Latest string `json:"latest,omitempty"`
}

// uiState is what the page polls: who and where, and the channel rendered as HTML.
type uiState struct {
	Users     []uiUser          `json:"users"`
	Names     map[string]string `json:"names"` // user and channel IDs to names, for canvas mentions
	User      string            `json:"user"`
	Channels  []uiChannel       `json:"channels"`
	Channel   uiChannel         `json:"channel"`
	Messages  string            `json:"messages"` // HTML
	Canvases  []uiCanvas        `json:"canvases"` // rendered by the page as escaped Markdown
	Connected bool              `json:"connected"`
	Faults    bool              `json:"faults"` // a fault panel is attached
	Version   string            `json:"version"`
}

func (w *webUI) state(rw http.ResponseWriter, r *http.Request) {
	var st uiState
	for _, u := range w.s.Users() {
		if !u.IsBot {
			st.Users = append(st.Users, uiUser{ID: u.ID, Name: u.Name})
		}
	}
	wantUser, wantChannel := r.FormValue("user"), strings.TrimPrefix(r.FormValue("channel"), "#")
	st.User = pick(st.Users, func(u uiUser) bool { return u.ID == wantUser || u.Name == wantUser }).ID
	st.Channels = w.channels(st.User)
	st.Channel = pick(st.Channels, func(c uiChannel) bool { return c.ID == wantChannel || c.Name == wantChannel })
	st.Connected = w.s.Sockets() > 0
	st.Faults = w.s.faultPanel() != nil
	if st.Channel.ID != "" {
		n := w.names(st.Channel.ID)
		st.Names = map[string]string{}
		maps.Copy(st.Names, n.Users)
		maps.Copy(st.Names, n.Channels)
		st.Messages = w.messagesHTML(st.Channel.ID, st.User, n)
		for _, cv := range w.s.Canvases(st.Channel.ID) {
			st.Canvases = append(st.Canvases, uiCanvas{Title: cv.Title, Markdown: cv.Markdown})
		}
	}
	body, _ := json.Marshal(st)
	h := fnv.New64a()
	_, _ = h.Write(body)
	st.Version = fmt.Sprintf("%x", h.Sum64())
	uiJSON(rw, http.StatusOK, st)
}

// pick returns the first item that matches want, else the first item, else the zero value.
func pick[T any](items []T, matches func(T) bool) T {
	for _, it := range items {
		if matches(it) {
			return it
		}
	}
	var zero T
	if len(items) > 0 {
		zero = items[0]
	}
	return zero
}

// channels lists what the user sees: public channels, private ones they are in, their DM with the bot.
func (w *webUI) channels(user string) []uiChannel {
	var out []uiChannel
	defer func() {
		for i := range out {
			if msgs := w.s.Messages(out[i].ID); len(msgs) > 0 {
				out[i].Latest = msgs[len(msgs)-1].TS
			}
		}
	}()
	for _, c := range w.s.Channels() {
		switch {
		case c.IM && slices.Contains(c.Members, user):
			out = append(out, uiChannel{ID: c.ID, Name: "perfbot", Kind: "im"})
		case c.IM:
		case c.IsPrivate && !slices.Contains(c.Members, user):
		case c.IsPrivate:
			out = append(out, uiChannel{ID: c.ID, Name: c.Name, Topic: c.Topic, Kind: "private"})
		default:
			out = append(out, uiChannel{ID: c.ID, Name: c.Name, Topic: c.Topic, Kind: "public"})
		}
	}
	return out
}

// names resolves mentions for rendering, and file references to this UI's file endpoint.
func (w *webUI) names(channelID string) Names {
	n := Names{Users: map[string]string{}, Channels: map[string]string{}}
	for _, u := range w.s.Users() {
		n.Users[u.ID] = u.Name
	}
	for _, c := range w.s.Channels() {
		n.Channels[c.ID] = c.Name
	}
	n.FileURL = func(id string) string { return fileURL(channelID, id) }
	return n
}

func fileURL(channelID, fileID string) string {
	return uiPath + "api/file?channel=" + channelID + "&id=" + fileID
}

// file serves a shared file: images inline, anything else as a download, never as a page.
func (w *webUI) file(rw http.ResponseWriter, r *http.Request) {
	id := r.FormValue("id")
	for _, f := range w.s.Files(r.FormValue("channel")) {
		if f.ID != id {
			continue
		}
		ct := http.DetectContentType(f.Bytes)
		rw.Header().Set("X-Content-Type-Options", "nosniff")
		if ct == "image/png" || ct == "image/jpeg" || ct == "image/gif" {
			rw.Header().Set("Content-Type", ct)
		} else {
			rw.Header().Set("Content-Type", "application/octet-stream")
			rw.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": orElse(f.Name, "file")}))
		}
		_, _ = rw.Write(f.Bytes)
		return
	}
	http.NotFound(rw, r)
}

// uiAction is the body of the page's POSTs.
type uiAction struct {
	User     string `json:"user"`
	Channel  string `json:"channel"`
	Text     string `json:"text"`
	TS       string `json:"ts"`
	ActionID string `json:"action_id"`
}

func (w *webUI) readAction(rw http.ResponseWriter, r *http.Request) (uiAction, bool) {
	var a uiAction
	if err := json.NewDecoder(http.MaxBytesReader(rw, r.Body, 64<<10)).Decode(&a); err != nil {
		uiJSON(rw, http.StatusBadRequest, map[string]any{"ok": false, "error": "unreadable request: " + err.Error()})
		return a, false
	}
	if a.User == "" || a.Channel == "" {
		uiJSON(rw, http.StatusBadRequest, map[string]any{"ok": false, "error": "pick a user and a channel first"})
		return a, false
	}
	return a, true
}

// errNoApp tells the person at the page what to start, instead of waiting for an ack.
var errNoApp = errors.New("no app is connected over Socket Mode: start the bot (perfbot demo, or perfbot run with the SLACK_* lines this server printed)")

// send types a message as the user: a slash command goes to the app; anything else is a
// message in the channel, or in the thread of ts when it is set.
func (w *webUI) send(rw http.ResponseWriter, r *http.Request) {
	a, ok := w.readAction(rw, r)
	if !ok {
		return
	}
	text := strings.TrimSpace(a.Text)
	if text == "" {
		uiJSON(rw, http.StatusBadRequest, map[string]any{"ok": false, "error": "type a message or a command, e.g. /perf help"})
		return
	}
	if !strings.HasPrefix(text, "/") || a.TS != "" {
		_, err := w.s.PostAsUser(a.User, a.Channel, a.TS, text)
		w.reply(rw, err)
		return
	}
	if len(text) < 2 || strings.HasPrefix(text, "/ ") {
		uiJSON(rw, http.StatusBadRequest, map[string]any{"ok": false, "error": "a command needs a name, e.g. /perf help"})
		return
	}
	cmd, rest, _ := strings.Cut(text, " ")
	w.reply(rw, w.withApp(r.Context(), func(ctx context.Context) error {
		_, err := w.s.SlashCommand(ctx, a.User, a.Channel, cmd, strings.TrimSpace(rest))
		return err
	}))
}

// react adds an emoji reaction (action_id holds its name) to a message as the user.
func (w *webUI) react(rw http.ResponseWriter, r *http.Request) {
	a, ok := w.readAction(rw, r)
	if !ok {
		return
	}
	if err := w.s.React(a.User, a.Channel, a.TS, a.ActionID); err != nil {
		uiJSON(rw, http.StatusBadRequest, map[string]any{"ok": false, "error": err.Error()})
		return
	}
	uiJSON(rw, http.StatusOK, map[string]any{"ok": true})
}

// click presses a button on a message (or an ephemeral message) as the user.
func (w *webUI) click(rw http.ResponseWriter, r *http.Request) {
	a, ok := w.readAction(rw, r)
	if !ok {
		return
	}
	w.reply(rw, w.withApp(r.Context(), func(ctx context.Context) error {
		return w.s.ClickButton(ctx, a.User, a.Channel, a.TS, a.ActionID, "")
	}))
}

// pin sends the pin_added event Slack sends when a user pins a message.
func (w *webUI) pin(rw http.ResponseWriter, r *http.Request) {
	a, ok := w.readAction(rw, r)
	if !ok {
		return
	}
	m, found := w.s.Message(a.Channel, a.TS)
	if !found {
		uiJSON(rw, http.StatusNotFound, map[string]any{"ok": false, "error": "no message " + a.TS + " in this channel"})
		return
	}
	key := a.Channel + " " + a.TS
	w.mu.Lock()
	already := w.pinned[key]
	w.pinned[key] = true
	w.mu.Unlock()
	if already {
		uiJSON(rw, http.StatusConflict, map[string]any{"ok": false, "error": "already pinned"})
		return
	}
	_, err := w.s.PostEvent(map[string]any{
		"type": "pin_added", "user": a.User, "channel_id": a.Channel,
		"item": map[string]any{
			"type": "message", "channel": a.Channel, "created": time.Now().Unix(), "created_by": a.User,
			"message": map[string]any{"type": "message", "ts": m.TS, "text": m.Text, "user": m.User},
		},
	})
	w.reply(rw, err)
}

func (w *webUI) isPinned(channelID, ts string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pinned[channelID+" "+ts]
}

// withApp runs fn when an app is connected, with a little more time than the ack timeout.
func (w *webUI) withApp(ctx context.Context, fn func(context.Context) error) error {
	if w.s.Sockets() == 0 {
		return errNoApp
	}
	ctx, cancel := context.WithTimeout(ctx, w.s.opts.AckTimeout+2*time.Second)
	defer cancel()
	return fn(ctx)
}

func (w *webUI) reply(rw http.ResponseWriter, err error) {
	if err != nil {
		uiJSON(rw, http.StatusBadGateway, map[string]any{"ok": false, "error": err.Error()})
		return
	}
	uiJSON(rw, http.StatusOK, map[string]any{"ok": true})
}

func uiJSON(rw http.ResponseWriter, status int, v any) {
	rw.Header().Set("Content-Type", "application/json; charset=utf-8")
	rw.Header().Set("Cache-Control", "no-store")
	rw.WriteHeader(status)
	_ = json.NewEncoder(rw).Encode(v)
}

// messagesHTML renders a channel as the user sees it: messages and the user's ephemeral
// messages in time order, each with its thread replies, files and reactions.
func (w *webUI) messagesHTML(channelID, user string, n Names) string {
	msgs := append(w.s.Messages(channelID), w.s.Ephemerals(channelID, user)...)
	slices.SortStableFunc(msgs, func(a, b Message) int { return compareTS(a.TS, b.TS) })
	files := map[string]File{}
	for _, f := range w.s.Files(channelID) {
		files[f.ID] = f
	}
	parents := map[string]bool{}
	for _, m := range msgs {
		if !m.Ephemeral {
			parents[m.TS] = true
		}
	}
	replies := map[string][]Message{}
	var top []Message
	for _, m := range msgs {
		if m.ThreadTS != "" && m.ThreadTS != m.TS && parents[m.ThreadTS] {
			replies[m.ThreadTS] = append(replies[m.ThreadTS], m)
		} else {
			top = append(top, m)
		}
	}
	if len(top) == 0 {
		return `<div class="empty">No messages yet. Type <code>/perf help</code> or <code>/perf assess</code> below.</div>`
	}
	var b strings.Builder
	for _, m := range top {
		b.WriteString(w.messageHTML(m, files, n, replies[m.TS]))
	}
	return b.String()
}

// compareTS orders Slack timestamps ("seconds.micros") numerically.
func compareTS(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

func (w *webUI) messageHTML(m Message, files map[string]File, n Names, thread []Message) string {
	class, author := "msg", orElse(n.Users[m.User], m.User)
	meta := `<span class="author">` + escText(author) + `</span>`
	if m.BotID != "" {
		class += " bot"
		meta += `<span class="app">APP</span>`
	}
	meta += `<time data-ts="` + escText(m.TS) + `"></time>`
	if m.Edits > 0 {
		meta += `<span class="note">(edited)</span>`
	}
	var tools string
	if m.Ephemeral {
		class += " ephemeral"
		meta += `<span class="note">Only visible to you</span>`
	} else {
		if w.isPinned(m.Channel, m.TS) {
			meta += `<span class="pinned">` + emojiSpan("📌", ":pushpin:") + ` Pinned</span>`
		} else {
			tools += `<button type="button" class="tool" data-pin aria-label="Pin this message">` + emojiSpan("📌", ":pushpin:") + ` Pin</button>`
		}
		for _, r := range quickReactions {
			tools += `<button type="button" class="tool" data-react="` + r + `" aria-label="React with ` + r + `">` + emojify(":"+r+":") + `</button>`
		}
		if m.ThreadTS == "" || m.ThreadTS == m.TS {
			tools += `<button type="button" class="tool" data-reply aria-label="Reply in thread">Reply</button>`
		}
	}
	if tools != "" {
		meta += `<span class="tools">` + tools + `</span>`
	}
	body := `<div class="mrkdwn">` + MrkdwnHTML(m.Text, n) + `</div>`
	if len(m.Blocks) > 0 {
		body = BlocksHTML(m.Blocks, n)
	}
	var b strings.Builder
	b.WriteString(`<div class="` + class + `" data-ts="` + escText(m.TS) + `" id="m` + escText(strings.ReplaceAll(m.TS, ".", "")) + `"><div class="meta">` + meta + `</div>`)
	b.WriteString(`<div class="body">` + body + attachmentsHTML(m.Attachments, n) + `</div>`)
	for _, id := range m.Files {
		b.WriteString(fileHTML(files[id], m.Channel, id))
	}
	if len(m.Reactions) > 0 {
		b.WriteString(`<div class="reactions">`)
		for _, r := range m.Reactions {
			b.WriteString(fmt.Sprintf(`<button type="button" class="reaction" data-react="%s" aria-label="%s: %d">%s %d</button>`,
				escText(r.Name), escText(r.Name), len(r.Users), emojify(escText(":"+r.Name+":")), len(r.Users)))
		}
		b.WriteString(`</div>`)
	}
	if len(thread) > 0 {
		head := fmt.Sprintf("%d replies", len(thread))
		if len(thread) > 1 && thread[len(thread)-1].User != "" {
			head += " · last from " + escText(orElse(n.Users[thread[len(thread)-1].User], thread[len(thread)-1].User))
		}
		if len(thread) == 1 {
			head = "1 reply"
		}
		b.WriteString(`<div class="thread" data-thread="` + escText(m.TS) + `"><button type="button" class="thread-head" data-toggle>` +
			head + `</button><div class="replies">`)
		for _, r := range thread {
			b.WriteString(w.messageHTML(r, files, n, nil))
		}
		b.WriteString(`</div></div>`)
	}
	b.WriteString(`</div>`)
	return b.String()
}

// quickReactions are the reactions offered on every message; a pushpin marks a message for the
// incident timeline.
var quickReactions = []string{"pushpin", "eyes", "white_check_mark"}

// escText escapes text that is not Slack-formatted (names, IDs, titles).
func escText(s string) string { return html.EscapeString(s) }
