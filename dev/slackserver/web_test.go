package slackserver_test

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
	"golang.org/x/net/html"

	"github.com/perfbot/perfbot/dev/slackserver"
)

var names = slackserver.Names{
	Users:    map[string]string{"U0ALICE001": "alice"},
	Channels: map[string]string{"C0PERF": "perf"},
}

func TestMrkdwnHTML(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"emphasis", "*bold* _it_ ~gone~ `x := 1`", "<strong>bold</strong> <em>it</em> <del>gone</del> <code>x := 1</code>"},
		{"markers inside words and SQL stay", "SELECT * FROM pg_stat_statements WHERE a*b = 2", "SELECT * FROM pg_stat_statements WHERE a*b = 2"},
		{"script tag", "<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
		{"special mentions", "<!channel> <!here> <!subteam^S0APPROVE1>", `<span class="mention">@channel</span> <span class="mention">@here</span> <span class="mention">@S0APPROVE1</span>`},
		{"slack entities shown once", "&lt;b&gt; &amp;lt; a&amp;b", "&lt;b&gt; &amp;lt; a&amp;b"},
		{"mentions by name", "<@U0ALICE001> in <#C0PERF> and <@U0NOBODY|bob>", `<span class="mention">@alice</span> in <span class="mention">#perf</span> and <span class="mention">@bob</span>`},
		{"link with label", "<https://x.test/a_b?q=1&amp;r=2|the *docs*>", `<a href="https://x.test/a_b?q=1&amp;r=2" target="_blank" rel="noopener noreferrer">the *docs*</a>`},
		{"javascript link", "<javascript:alert(1)|click>", "&lt;javascript:alert(1)|click&gt;"},
		{"code block", "```\n<b>x</b> *no* &lt;\n```", `<pre class="code">&lt;b&gt;x&lt;/b&gt; *no* &lt;</pre>`},
		{"unclosed fence is text", "a ``` b", "a ``` b"},
		{"bold around a mention", "*<@U0ALICE001>*", `<strong><span class="mention">@alice</span></strong>`},
		{"emoji", ":red_circle: CRIT :not_an_emoji: 10:30:00",
			`<span class="emoji" data-name=":red_circle:" role="img" aria-label="red_circle">🔴</span> CRIT :not_an_emoji: 10:30:00`},
		{"quotes and attributes", `" onmouseover="x' <@U9|"><img src=x onerror=alert(1)>`,
			`&#34; onmouseover=&#34;x&#39; <span class="mention">@&#34;</span>&lt;img src=x onerror=alert(1)&gt;`},
		{"NUL cannot forge a placeholder", "\x000\x00 `c`", "0 <code>c</code>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := slackserver.MrkdwnHTML(tc.in, names)
			if got != tc.want {
				t.Fatalf("MrkdwnHTML(%q)\n got %s\nwant %s", tc.in, got, tc.want)
			}
			checkSafeHTML(t, got)
		})
	}
}

func TestBlocksHTML(t *testing.T) {
	confirm := slack.NewConfirmationBlockObject(plain("Scale studio?"), mrkdwn("From *2* to <5> & more"), plain("Do it"), plain("Stop"))
	approve := slack.NewButtonBlockElement("approve", "req-1", plain("Approve")).WithStyle(slack.StylePrimary).WithConfirm(confirm)
	deny := slack.NewButtonBlockElement("deny", "req-1", plain("Deny")).WithStyle(slack.StyleDanger)
	table := slack.NewTableBlock("")
	table.WithColumnSettings(slack.ColumnSetting{Align: slack.ColumnAlignmentLeft}, slack.ColumnSetting{Align: slack.ColumnAlignmentRight})
	table.AddRow(slack.NewTableRawTextCell("Check"), slack.NewTableRawTextCell("Value"))
	table.AddRow(slack.NewTableRawTextCell("<script>x</script>"), slack.NewTableRawTextCell("812 ms"))
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain(":red_circle: CRIT <b>studio</b>")),
		slack.NewSectionBlock(mrkdwn("*p95* is high for <@U0ALICE001>"),
			[]*slack.TextBlockObject{mrkdwn("*Window*\n15m"), plain("<!channel>")},
			slack.NewAccessory(slack.NewButtonBlockElement("logs", "logs:studio", plain("Logs")))),
		slack.NewDividerBlock(),
		slack.NewContextBlock("", mrkdwn("took `1.2 s`"), plain("& done")),
		table,
		slack.NewActionBlock("act", approve, deny),
		slack.NewImageBlock("https://img.test/chart.png", `chart "p95"`, "", plain("p95")),
		slack.NewImageBlock("javascript:alert(1)", "bad", "", nil),
	}
	raw, err := json.Marshal(blocks)
	if err != nil {
		t.Fatal(err)
	}
	got := slackserver.BlocksHTML(raw, names)
	checkSafeHTML(t, got)
	for _, want := range []string{
		`<div class="b-header"><span class="plain"><span class="emoji" data-name=":red_circle:" role="img" aria-label="red_circle">🔴</span> CRIT &lt;b&gt;studio&lt;/b&gt;</span></div>`,
		`<strong>p95</strong> is high for <span class="mention">@alice</span>`,
		`<div class="b-field"><span class="mrkdwn"><strong>Window</strong>` + "\n15m</span></div>",
		`<div class="b-field"><span class="plain">&lt;!channel&gt;</span></div>`,
		`<div class="b-accessory"><button type="button" class="b-button" data-action="logs">`,
		`<hr class="b-divider">`,
		`<div class="b-context"><span class="b-elem"><span class="mrkdwn">took <code>1.2 s</code></span></span><span class="b-elem"><span class="plain">&amp; done</span></span></div>`,
		`<tr><th>Check</th><th class="right">Value</th></tr><tr><td>&lt;script&gt;x&lt;/script&gt;</td><td class="right">812 ms</td></tr>`,
		`<button type="button" class="b-button primary" data-action="approve" data-confirm="Scale studio?` + "\n\n" + `From *2* to &lt;5&gt; &amp; more` + "\n\n" + `[OK] Do it   [Cancel] Stop">`,
		`<button type="button" class="b-button danger" data-action="deny">`,
		`<figcaption><span class="plain">p95</span></figcaption><img src="https://img.test/chart.png" alt="chart &#34;p95&#34;" loading="lazy">`,
		`<span class="b-elem">[image: bad]</span>`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("BlocksHTML lacks\n%s\nin\n%s", want, got)
		}
	}
	if slackserver.BlocksHTML(json.RawMessage(`{"not":"blocks"}`), names) != "" {
		t.Error("non-array blocks rendered")
	}
}

// checkSafeHTML parses h and fails on any element or attribute the renderer never writes,
// so injected markup shows up even where the expected string is not exact.
func checkSafeHTML(t *testing.T, h string) {
	t.Helper()
	tags := []string{"strong", "em", "del", "code", "pre", "span", "a", "div", "button", "table", "tr", "th", "td",
		"img", "hr", "figure", "figcaption", "ul", "li", "time"}
	attrs := []string{"class", "href", "target", "rel", "src", "alt", "loading", "type", "title", "download",
		"id", "role", "aria-label", "data-name", "data-pin", "data-react", "data-reply",
		"data-action", "data-confirm", "data-url", "data-ts", "data-pin", "data-thread", "data-toggle"}
	z := html.NewTokenizer(strings.NewReader(h))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			if !slices.Contains(tags, tok.Data) {
				t.Fatalf("unexpected <%s> in %s", tok.Data, h)
			}
			for _, a := range tok.Attr {
				if !slices.Contains(attrs, a.Key) || a.Key == "href" && !strings.HasPrefix(a.Val, "http") && !strings.HasPrefix(a.Val, "/ui/api/file?") {
					t.Fatalf("unexpected attribute %s=%q in %s", a.Key, a.Val, h)
				}
			}
		}
	}
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject("plain_text", s, true, false)
}
func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject("mrkdwn", s, false, false)
}

// uiState is the part of GET /ui/api/state the tests read.
type uiState struct {
	User     string `json:"user"`
	Channels []struct{ ID, Name, Kind string }
	Channel  struct{ ID, Name string }
	Messages string `json:"messages"`
	Canvases []struct{ Title, Markdown string }
	Names    map[string]string
	Version  string `json:"version"`
}

// webWorld is a server with alice and bob in #perf, its web UI on httptest, and a bot API client.
type webWorld struct {
	srv      *slackserver.Server
	ui       *httptest.Server
	api      *slack.Client
	alice, c string
}

func newWebWorld(t *testing.T) *webWorld {
	srv := slackserver.NewTestServer(t)
	alice, ch := workspace(srv)
	srv.AddUser("U0BOB00001", "bob")
	srv.AddMember(ch, "U0BOB00001")
	ui := httptest.NewServer(srv.Handler())
	t.Cleanup(ui.Close)
	return &webWorld{srv: srv, ui: ui, api: newAPI(srv), alice: alice, c: ch}
}

func (w *webWorld) state(t *testing.T, user, channel string) uiState {
	t.Helper()
	res, err := http.Get(w.ui.URL + "/ui/api/state?user=" + user + "&channel=" + channel)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var st uiState
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("state: %d %v", res.StatusCode, err)
	}
	return st
}

func (w *webWorld) post(t *testing.T, path string, body map[string]string) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	res, err := http.Post(w.ui.URL+"/ui/api/"+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Error(err)
		return 0, nil
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

func pngBytes(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestWebStateShowsWhatTheUserSees(t *testing.T) {
	w := newWebWorld(t)
	ctx := ctxT(t, 10*time.Second)
	btn := slack.NewActionBlock("next", slack.NewButtonBlockElement("logs", "logs:studio", plain("Logs")))
	_, parent, err := w.api.PostMessageContext(ctx, w.c, slack.MsgOptionText("report", false),
		slack.MsgOptionBlocks(slack.NewSectionBlock(mrkdwn("<script>alert(1)</script> *p95*"), nil, nil), btn))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.api.PostMessageContext(ctx, w.c, slack.MsgOptionText("reply in thread <@U0ALICE001>", false), slack.MsgOptionTS(parent)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.api.PostEphemeralContext(ctx, w.c, w.alice, slack.MsgOptionText("only for alice", false)); err != nil {
		t.Fatal(err)
	}
	chart := pngBytes(t)
	for name, data := range map[string][]byte{"p95.png": chart, "notes.html": []byte("<script>alert(1)</script>")} {
		if _, err := w.api.UploadFileContext(ctx, slack.UploadFileParameters{Reader: bytes.NewReader(data), FileSize: len(data), Filename: name, Channel: w.c}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.api.CreateChannelCanvasContext(ctx, w.c, slack.DocumentContent{Type: "markdown", Markdown: "# Postmortem\n<@U0ALICE001>"}); err != nil {
		t.Fatal(err)
	}

	st := w.state(t, "alice", "perf-test")
	if st.User != w.alice || st.Channel.ID != w.c || !slices.ContainsFunc(st.Channels, func(c struct{ ID, Name, Kind string }) bool { return c.Name == "perf-test" }) {
		t.Fatalf("user %s channel %+v channels %+v", st.User, st.Channel, st.Channels)
	}
	checkSafeHTML(t, st.Messages)
	for _, want := range []string{`data-action="logs"`, "&lt;script&gt;alert(1)&lt;/script&gt; <strong>p95</strong>",
		`data-toggle>1 reply</button><div class="replies">`, `reply in thread <span class="mention">@alice</span>`,
		"only for alice", "Only visible to you", `<img src="/ui/api/file?channel=` + w.c, `download>📎 notes.html</a>`} {
		if !strings.Contains(st.Messages, want) {
			t.Errorf("alice's view lacks %q:\n%s", want, st.Messages)
		}
	}
	if strings.Index(st.Messages, "1 reply") < strings.Index(st.Messages, "p95") {
		t.Error("the thread is not under its parent")
	}
	if len(st.Canvases) != 1 || !strings.HasPrefix(st.Canvases[0].Markdown, "# Postmortem") || st.Names["U0ALICE001"] != "alice" {
		t.Errorf("canvases %+v names %v", st.Canvases, st.Names)
	}
	bob := w.state(t, "U0BOB00001", w.c)
	if strings.Contains(bob.Messages, "only for alice") || !strings.Contains(bob.Messages, "reply in thread") {
		t.Errorf("bob's view:\n%s", bob.Messages)
	}
	if again := w.state(t, "alice", "perf-test"); again.Version != st.Version {
		t.Error("the version changed without a change")
	}
	_, _, _ = w.api.PostMessageContext(ctx, w.c, slack.MsgOptionText("later", false))
	if later := w.state(t, "alice", "perf-test"); later.Version == st.Version {
		t.Error("the version did not change with a new message")
	}
	checkFiles(t, w, chart)
}

// checkFiles fetches the channel's files through the UI: the PNG inline, the HTML page only as a download.
func checkFiles(t *testing.T, w *webWorld, chart []byte) {
	for _, f := range w.srv.Files(w.c) {
		res, err := http.Get(w.ui.URL + "/ui/api/file?channel=" + w.c + "&id=" + f.ID)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		ct, cd := res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition")
		switch f.Name {
		case "p95.png":
			if ct != "image/png" || cd != "" || !bytes.Equal(body, chart) {
				t.Errorf("png served as %q %q (%d bytes)", ct, cd, len(body))
			}
		default:
			if ct != "application/octet-stream" || !strings.HasPrefix(cd, "attachment") {
				t.Errorf("%s served as %q %q", f.Name, ct, cd)
			}
		}
	}
}

func TestWebSlashCommandReachesTheApp(t *testing.T) {
	w := newWebWorld(t)
	a := startApp(t, w.srv)
	type result struct {
		code int
		body map[string]any
	}
	done := make(chan result, 1)
	go func() {
		code, body := w.post(t, "send", map[string]string{"user": w.alice, "channel": w.c, "text": "/perf assess studio 15m"})
		done <- result{code, body}
	}()
	e := a.next(t, socketmode.EventTypeSlashCommand)
	cmd := e.Data.(slack.SlashCommand)
	if cmd.Command != "/perf" || cmd.Text != "assess studio 15m" || cmd.UserID != w.alice || cmd.ChannelID != w.c {
		t.Fatalf("slash command = %+v", cmd)
	}
	if err := a.sm.Ack(*e.Request, map[string]any{"text": "Assessing studio…"}); err != nil {
		t.Fatal(err)
	}
	if r := <-done; r.code != http.StatusOK || r.body["ok"] != true {
		t.Fatalf("send answered %d %v", r.code, r.body)
	}
	if st := w.state(t, w.alice, w.c); !strings.Contains(st.Messages, "Assessing studio…") {
		t.Errorf("the ack's reply is not shown to alice:\n%s", st.Messages)
	}
}

func TestWebRefusesWhatItCannotSend(t *testing.T) {
	w := newWebWorld(t) // no app connected
	for _, tc := range []struct {
		name, path string
		body       map[string]string
		code       int
		errPart    string
	}{
		{"empty message", "send", map[string]string{"user": w.alice, "channel": w.c, "text": "  "}, 400, "type a message"},
		{"no user", "send", map[string]string{"channel": w.c, "text": "/perf help"}, 400, "pick a user"},
		{"no app", "send", map[string]string{"user": w.alice, "channel": w.c, "text": "/perf help"}, 502, "no app is connected"},
		{"pin of nothing", "pin", map[string]string{"user": w.alice, "channel": w.c, "ts": "1.000001"}, 404, "no message"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := w.post(t, tc.path, tc.body)
			if msg, _ := body["error"].(string); code != tc.code || !strings.Contains(msg, tc.errPart) {
				t.Fatalf("answered %d %v, want %d %q", code, body, tc.code, tc.errPart)
			}
		})
	}
}

func TestWebClickReachesTheAppAsBlockActions(t *testing.T) {
	w := newWebWorld(t)
	a := startApp(t, w.srv)
	btn := slack.NewActionBlock("next", slack.NewButtonBlockElement("db", "db:studio", plain("DB")))
	_, ts, err := a.api.PostMessageContext(ctxT(t, 5*time.Second), w.c, slack.MsgOptionText("report", false), slack.MsgOptionBlocks(btn))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan int, 1)
	go func() {
		code, _ := w.post(t, "click", map[string]string{"user": "U0BOB00001", "channel": w.c, "ts": ts, "action_id": "db"})
		done <- code
	}()
	e := a.next(t, socketmode.EventTypeInteractive)
	cb := e.Data.(slack.InteractionCallback)
	acts := cb.ActionCallback.BlockActions
	if cb.Type != slack.InteractionTypeBlockActions || cb.User.ID != "U0BOB00001" || len(acts) != 1 || acts[0].ActionID != "db" || acts[0].Value != "db:studio" {
		t.Fatalf("callback = %+v", cb)
	}
	_ = a.sm.Ack(*e.Request)
	if code := <-done; code != http.StatusOK {
		t.Fatalf("click answered %d", code)
	}
	code, body := w.post(t, "click", map[string]string{"user": w.alice, "channel": w.c, "ts": ts, "action_id": "nope"})
	if msg, _ := body["error"].(string); code != http.StatusBadGateway || !strings.Contains(msg, "no button") {
		t.Fatalf("click on a missing button answered %d %v", code, body)
	}
}

func TestWebPinSendsPinAdded(t *testing.T) {
	w := newWebWorld(t)
	a := startApp(t, w.srv)
	_, ts, err := a.api.PostMessageContext(ctxT(t, 5*time.Second), w.c, slack.MsgOptionText("seq scans on ideas", false))
	if err != nil {
		t.Fatal(err)
	}
	if code, body := w.post(t, "pin", map[string]string{"user": w.alice, "channel": w.c, "ts": ts}); code != http.StatusOK {
		t.Fatalf("pin answered %d %v", code, body)
	}
	e := a.next(t, socketmode.EventTypeEventsAPI)
	_ = a.sm.Ack(*e.Request)
	pin, ok := e.Data.(slackevents.EventsAPIEvent).InnerEvent.Data.(*slackevents.PinAddedEvent)
	if !ok || pin.User != w.alice || pin.Channel != w.c || pin.Item.Message == nil || pin.Item.Message.Timestamp != ts {
		t.Fatalf("event = %+v", e.Data)
	}
	if !strings.Contains(w.state(t, w.alice, w.c).Messages, "</span> Pinned") {
		t.Error("the message is not shown as pinned")
	}
	if code, _ := w.post(t, "pin", map[string]string{"user": w.alice, "channel": w.c, "ts": ts}); code != http.StatusConflict {
		t.Errorf("second pin answered %d", code)
	}
}

func TestWebServesThePage(t *testing.T) {
	w := newWebWorld(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range []struct{ path, contentType, contains string }{
		{"/ui/", "text/html", `src="static/app.js"`},
		{"/ui/static/app.js", "javascript", "api/state"},
		{"/ui/static/app.css", "text/css", ".b-button.primary"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			res, err := client.Get(w.ui.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Content-Type"), tc.contentType) || !strings.Contains(string(body), tc.contains) {
				t.Fatalf("%d %q: %.200s", res.StatusCode, res.Header.Get("Content-Type"), body)
			}
			if tc.path == "/ui/" && !strings.Contains(res.Header.Get("Content-Security-Policy"), "script-src 'self'") {
				t.Error("the page has no content security policy")
			}
		})
	}
	if res, err := client.Get(w.ui.URL + "/ui"); err != nil || res.StatusCode/100 != 3 || res.Header.Get("Location") != "/ui/" {
		t.Errorf("/ui: %v %v", res, err)
	}
}
