package bot

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// throttle is the one place where the bot honours Slack's rate limits: it is the HTTP transport of
// the Web API client, so every call passes through it. Slack limits each method per workspace (and
// chat.postMessage per channel); once it answers a call with HTTP 429, later calls to the same
// method (and channel) wait until its Retry-After has passed and then go one at a time, in the order
// they came, until Slack accepts one again. A call that was sent is always answered: cancelling its
// context only stops the waiting, so a caller whose context ends knows the call never reached Slack.
// A caller may instead ask not to wait at all (skipWhenThrottled), e.g. for progress updates that
// the next one makes stale anyway.
type throttle struct {
	next http.RoundTripper
	log  *slog.Logger
	now  func() time.Time

	mu    sync.Mutex
	gates map[string]*gate
}

// gate is the rate-limit state of one method (and channel).
type gate struct {
	until     time.Time     // no call before this
	throttled bool          // a 429 was seen and no call has gone through since with nobody waiting
	waiting   int           // calls queued for their turn
	turn      chan struct{} // held by the one call allowed to go while throttled
}

func newThrottle(log *slog.Logger) *throttle {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = slackCallTimeout // a sent call is waited for, but not forever
	tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	return &throttle{next: tr, log: log, now: time.Now, gates: map[string]*gate{}}
}

type skipKey struct{}

// skipWhenThrottled marks a call that gives up at once (as a 429) when its method is being throttled.
func skipWhenThrottled(ctx context.Context) context.Context {
	return context.WithValue(ctx, skipKey{}, true)
}

// RoundTrip sends req, waiting its turn when Slack is throttling its method.
func (t *throttle) RoundTrip(req *http.Request) (*http.Response, error) {
	key := limitKey(req)
	if key == "" {
		return t.next.RoundTrip(req)
	}
	ctx := req.Context()
	skip, _ := ctx.Value(skipKey{}).(bool)
	g, holding := t.gate(key), false
	defer func() {
		if holding {
			<-g.turn
		}
	}()
	for attempt := 0; ; attempt++ {
		if wait, throttled := t.state(g); throttled || wait > 0 {
			if skip {
				return rateLimited(req, wait), nil
			}
			if !holding {
				if err := t.take(ctx, g); err != nil {
					return nil, err
				}
				holding = true
			}
			if err := sleep(ctx, t.wait(g)); err != nil {
				return nil, err
			}
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		send := req.Clone(context.WithoutCancel(ctx)) // once sent, the answer is read whatever happens to ctx
		if attempt > 0 {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			send.Body = body
		}
		resp, err := t.next.RoundTrip(send)
		if err != nil || resp.StatusCode != http.StatusTooManyRequests {
			t.passed(g)
			return resp, err
		}
		retry := retryAfter(resp)
		t.limited(g, retry)
		t.log.Debug("slack rate limit", "limit", key, "retry_after", retry)
		if skip || ctx.Err() != nil || req.GetBody == nil {
			return resp, nil
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
	}
}

func (t *throttle) gate(key string) *gate {
	t.mu.Lock()
	defer t.mu.Unlock()
	g := t.gates[key]
	if g == nil {
		g = &gate{turn: make(chan struct{}, 1)}
		t.gates[key] = g
	}
	return g
}

// state says how long a call must still wait and whether calls go one at a time.
func (t *throttle) state(g *gate) (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return g.until.Sub(t.now()), g.throttled || g.waiting > 0
}

func (t *throttle) wait(g *gate) time.Duration {
	d, _ := t.state(g)
	return d
}

// take waits for the gate's turn, in order of arrival.
func (t *throttle) take(ctx context.Context, g *gate) error {
	t.mu.Lock()
	g.waiting++
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		g.waiting--
		t.mu.Unlock()
	}()
	select {
	case g.turn <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// passed records that Slack took a call: the gate opens fully once nobody is queued.
func (t *throttle) passed(g *gate) {
	t.mu.Lock()
	if g.waiting == 0 {
		g.throttled = false
	}
	t.mu.Unlock()
}

// limited records a 429: no call before the Retry-After has passed.
func (t *throttle) limited(g *gate, retry time.Duration) {
	t.mu.Lock()
	if until := t.now().Add(retry); until.After(g.until) {
		g.until = until
	}
	g.throttled = true
	t.mu.Unlock()
}

// limitKey names what Slack limits a Web API call by: its method, and for chat.postMessage also its
// channel. Other requests (file uploads to an upload URL, response_url posts) are not limited ("").
func limitKey(req *http.Request) string {
	_, method, ok := strings.Cut(req.URL.Path, "/api/")
	if !ok || method == "" || strings.Contains(method, "/") {
		return ""
	}
	if method == "chat.postMessage" {
		return method + " " + formValue(req, "channel")
	}
	return method
}

// formValue reads one field of a form-encoded request body without consuming it.
func formValue(req *http.Request, name string) string {
	if req.GetBody == nil || !strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return ""
	}
	body, err := req.GetBody()
	if err != nil {
		return ""
	}
	defer body.Close()
	raw, err := io.ReadAll(io.LimitReader(body, 1<<20))
	if err != nil {
		return ""
	}
	values, _ := url.ParseQuery(string(raw))
	return values.Get(name)
}

// retryAfter reads a 429's Retry-After seconds; a missing or odd header means one second.
func retryAfter(resp *http.Response) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return time.Second
}

// rateLimited is the 429 a skipped call gets, as Slack would send it.
func rateLimited(req *http.Request, wait time.Duration) *http.Response {
	secs := max(1, int((wait+time.Second-1)/time.Second))
	h := http.Header{"Retry-After": {strconv.Itoa(secs)}, "Content-Type": {"application/json"}}
	body := `{"ok":false,"error":"ratelimited"}`
	return &http.Response{StatusCode: http.StatusTooManyRequests, Status: "429 Too Many Requests", Header: h,
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: req,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
