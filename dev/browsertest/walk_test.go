package browsertest

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/dev/demo"
	"github.com/perfbot/perfbot/internal/stacktest"
)

// page wraps the browser for one test: JavaScript helpers, waits and screenshots.
type page struct {
	t     *testing.T
	b     *Browser
	dir   string
	shots int
}

// stepTimeout bounds one browser call: a page that stops answering fails the test instead of hanging it.
const stepTimeout = 30 * time.Second

// ctx is the browser's context, bounded for one call.
func (p *page) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(p.b.Ctx, stepTimeout)
}

func (p *page) eval(expr string) any {
	p.t.Helper()
	ctx, cancel := p.ctx()
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[any](expr))
	if err != nil {
		p.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func (p *page) truthy(expr string) bool {
	ctx, cancel := p.ctx()
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+expr+")"))
	return err == nil && v
}

// wait polls a JavaScript condition every 200 ms.
func (p *page) wait(what, expr string, timeout time.Duration) {
	p.t.Helper()
	stacktest.Eventually(p.t, timeout, 200*time.Millisecond, func() bool { return p.truthy(expr) }, "waiting for %s (%s)", what, expr)
}

func (p *page) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := p.ctx()
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
}

// send types text into the composer and sends it, as a person does.
func (p *page) send(text string) {
	p.t.Helper()
	p.do("type "+text, chromedp.SendKeys(chromedp.CSS("#text"), text), chromedp.Click(chromedp.CSS("#composer button")))
	p.wait("the composer to empty", `document.getElementById('text').value === ''`, 20*time.Second)
}

func (p *page) shot(name string) {
	p.t.Helper()
	p.shots++
	if err := p.b.Screenshot(p.dir, strings.Replace(name, " ", "-", -1)); err != nil {
		p.t.Fatal(err)
	}
}

// screensDir is where screenshots go: $PERFBOT_SCREENS, or .demo-screens at the repository root.
func screensDir(t *testing.T) string {
	dir := os.Getenv("PERFBOT_SCREENS")
	if dir == "" {
		dir = filepath.Join("..", "..", ".demo-screens")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestDemoWalk(t *testing.T) {
	chromium := Chromium()
	if chromium == "" {
		t.Skip("no chromium: scripts/stack up installs Debian's chromium package (apt-get install chromium)")
	}
	sim := stacktest.StartSim(t, 15)
	prom := stacktest.StartPrometheus(t, map[string]string{"agentic-studio": sim.Addr})
	cfg := stacktest.ServiceConfig("agentic-studio", prom.URL, sim.URL)
	cfg.State.PostgresDSN = stacktest.Database(t, "perfbot_browser")
	cfg.HTTP.Listen = "127.0.0.1:0"
	kube := filepath.Join(stacktest.StackDir(t), "kube", "perfbot.kubeconfig")
	_, err := os.Stat(kube)
	withKube := err == nil
	if withKube {
		cfg.Services[0].Kubernetes = config.Kubernetes{Kubeconfig: kube, Namespace: "agentic-studio", Deployment: "agentic-studio"}
		cfg.Actions = config.Actions{Allowed: []string{"scale"}, Approvers: []string{"U0ALICE001", "U0BOB00001"},
			Deployments: []config.DeploymentLimit{{Namespace: "agentic-studio", Name: "agentic-studio", MinReplicas: 1, MaxReplicas: 6}}}
	}
	cfg.ApplyDefaults()
	d, err := demo.Start(context.Background(), demo.Options{Config: cfg, SlackAddr: "127.0.0.1:0", SimulatorURL: sim.URL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	b, err := Start(context.Background(), chromium, 1400, 900)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	p := &page{t: t, b: b, dir: screensDir(t)}
	base := "http://" + d.Slack.Addr()

	p.do("open the demo", chromedp.Navigate(d.URL()+"&user=U0ALICE001"))
	p.wait("the bot's connection", `document.querySelector('#conn.up')`, 30*time.Second)
	p.wait("the fault panel", `document.querySelector('button[data-fault="latency"]')`, 20*time.Second)
	p.shot("01-open")

	p.do("inject latency", chromedp.Click(chromedp.CSS(`button[data-fault="latency"]`)))
	p.wait("latency marked active", `document.querySelector('button[data-fault="latency"][aria-pressed="true"]')`, 30*time.Second)
	p.shot("02-fault-latency")

	// The fault reaches the report once Prometheus has scraped it; assess until it does.
	stacktest.Eventually(t, 120*time.Second, time.Second, func() bool {
		n := p.eval(`document.querySelectorAll('.msg.bot').length`).(float64)
		p.send("/perf assess")
		p.wait("a report", `document.querySelectorAll('.msg.bot').length > `+fmtNum(n)+` && !/Running|checks done/.test([...document.querySelectorAll('.msg.bot')].pop().textContent)`, 40*time.Second)
		// The injected fault is 800 ms on /api/ideas: the report must name that endpoint's p95.
		return p.truthy(`(t => /\/api\/ideas/.test(t) && /p95/i.test(t))([...document.querySelectorAll('.msg.bot')].pop().textContent)`)
	}, "the assessment never named the p95 latency of /api/ideas")
	p.wait("a table in the report", `document.querySelector('.msg.bot .b-table table, .msg.bot table')`, 30*time.Second)
	p.wait("decoded chart images", `[...document.querySelectorAll('.msg img')].filter(i => i.complete && i.naturalWidth > 0).length > 0`, 60*time.Second)
	p.shot("03-assess")

	p.send("/perf incident open latency drill sev3")
	p.wait("an unread incident channel", `[...document.querySelectorAll('#channels .chan.unread')].some(c => /inc-/.test(c.textContent))`, 30*time.Second)
	p.shot("04-incident-unread")
	p.do("open the incident channel", chromedp.Click(chromedp.CSS(`#channels .chan.unread`)))
	p.wait("the incident channel", `/inc-/.test(document.getElementById('chan-name').textContent)`, 10*time.Second)
	p.wait("the opening summary", `/Incident #1/.test(document.getElementById('messages').textContent)`, 30*time.Second)

	if withKube {
		restoreScale(t)
		p.send("/perf scale agentic-studio 4")
		p.wait("the approval card", `[...document.querySelectorAll('.b-button')].some(b => b.textContent.trim() === 'Approve')`, 30*time.Second)
		if p.truthy(`/may approve:[^·]*@alice/.test(document.getElementById('messages').textContent)`) {
			t.Error("the approval card lists the requester, alice, among those who may approve")
		}
		p.shot("05-scale-requested")
		p.do("switch to bob", chromedp.SetValue(chromedp.CSS("#user"), "U0BOB00001"))
		p.eval(`document.getElementById('user').dispatchEvent(new Event('change'))`)
		p.wait("bob", `document.getElementById('user').value === 'U0BOB00001'`, 10*time.Second)
		p.eval(`[...document.querySelectorAll('.b-button')].find(b => b.textContent.trim() === 'Approve').click()`) // approve
		p.wait("the change done", `/succeeded|scaled|Approved by/i.test(document.getElementById('messages').textContent)`, 60*time.Second)
		p.shot("06-scale-approved")
		p.do("back to alice", chromedp.SetValue(chromedp.CSS("#user"), "U0ALICE001"))
		p.eval(`document.getElementById('user').dispatchEvent(new Event('change'))`)
		p.wait("alice", `document.getElementById('user').value === 'U0ALICE001'`, 10*time.Second)
	} else {
		t.Log("no control plane (scripts/stack up starts it): the scale request and its approval are not walked")
	}

	p.eval(`document.querySelector('.msg:not(.ephemeral) button[data-pin]').click()`) // pin a message
	p.wait("the pin's feedback", `/Pinned to the timeline/.test(document.getElementById('messages').textContent)`, 30*time.Second)
	p.shot("07-pinned")

	p.send("/perf incident resolve cache warmed")
	p.wait("the postmortem canvas", `!document.getElementById('canvas').hidden && /Postmortem/.test(document.getElementById('canvas').textContent)`, 60*time.Second)
	if p.truthy(`/\\[#()]/.test(document.getElementById('canvas-body').textContent)`) {
		t.Errorf("the canvas shows Markdown escapes: %v", p.eval(`document.getElementById('canvas-body').textContent.slice(0, 300)`))
	}
	if p.truthy(`/!\[\]\(@/.test(document.getElementById('canvas-body').textContent)`) {
		t.Errorf("the canvas shows raw mentions: %v", p.eval(`document.getElementById('canvas-body').textContent.slice(0, 300)`))
	}
	p.shot("08-postmortem-canvas")

	link, _ := p.eval(`(document.querySelector('#canvas a[href*="/archives/"]') || {}).href || ''`).(string)
	if !strings.HasPrefix(link, base+"/archives/") {
		t.Fatalf("no permalink into this workspace in the canvas (got %q)", link)
	}
	p.do("follow a permalink", chromedp.Navigate(link))
	p.wait("the linked message", `document.querySelector('.msg.focus')`, 20*time.Second)
	p.shot("09-permalink")

	p.do("narrow the window", chromedp.EmulateViewport(900, 800))
	p.wait("the layout at 900 px", `window.innerWidth === 900`, 10*time.Second)
	if !p.truthy(`(() => { const r = document.querySelector('#composer button').getBoundingClientRect(); return r.right <= window.innerWidth && r.width > 20; })()`) {
		t.Error("at 900 px the Send button is cut off")
	}
	if w := p.eval(`document.getElementById('main').getBoundingClientRect().width`).(float64); w < 600 {
		t.Errorf("at 900 px the chat column is %.0f px wide, want at least 600", w)
	}
	p.shot("10-narrow-900")

	checkAccessibility(t, p)
	if errs := b.Errors(); len(errs) > 0 {
		t.Errorf("JavaScript or console errors:\n%s", strings.Join(errs, "\n"))
	}
	if d := b.Dialogs(); len(d) > 0 {
		t.Logf("dialogs the page opened (accepted): %q", d)
	}
	t.Logf("%d screenshots in %s", p.shots, p.dir)
}

func fmtNum(f float64) string { return strconv.Itoa(int(f)) }

// restoreScale puts the stack's Deployment back to its replicas when the test ends (other tests scale it too).
func restoreScale(t *testing.T) {
	admin := stacktest.KubeClient(t, "admin")
	deps := admin.AppsV1().Deployments("agentic-studio")
	s, err := deps.GetScale(context.Background(), "agentic-studio", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	before := s.Spec.Replicas
	t.Cleanup(func() {
		_ = retry.RetryOnConflict(retry.DefaultRetry, func() error {
			s, err := deps.GetScale(context.Background(), "agentic-studio", metav1.GetOptions{})
			if err != nil {
				return err
			}
			s.Spec.Replicas = before
			_, err = deps.UpdateScale(context.Background(), "agentic-studio", s, metav1.UpdateOptions{})
			return err
		})
	})
}
