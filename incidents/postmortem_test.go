package incidents

import (
	"context"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the golden files use Europe/Berlin whatever the machine has installed

	"github.com/google/uuid"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// buildIncident plays a whole incident through the store: alert, commands, chart, pin, note,
// an approved scale action, two escalations, the alert resolving, and the resolve.
func buildIncident(t *testing.T, st *Store, clock *testClock) Incident {
	t.Helper()
	ctx := context.Background()
	clock.Set(t0)
	alert := Alert{Status: AlertFiring, StartsAt: t0.Add(-4 * time.Minute), Fingerprint: "a1b2c3d4e5f60718",
		GeneratorURL: "http://127.0.0.1:19090/graph?g0.expr=p95",
		Labels:       map[string]string{"alertname": "HighAPILatency", "service": "agentic-studio", "severity": "critical"},
		Annotations:  map[string]string{"summary": "API p95 latency above 500ms"}}
	d, err := st.HandleAlert(ctx, alert)
	if err != nil || d.Action != AlertOpened {
		t.Fatalf("HandleAlert = %+v, %v", d, err)
	}
	inc := d.Incident
	if err := st.SetChannel(ctx, inc.ID, "C0INC1", ChannelName(clock.Now(), inc.Title, nil)); err != nil {
		t.Fatal(err)
	}
	pager := newPager()
	mustFire(t, st, clock.Now(), pager, 1)
	rec := func(at time.Duration, ev Event) {
		t.Helper()
		ev.OccurredAt = t0.Add(at)
		clock.Set(t0.Add(at + 2*time.Second))
		if ok, err := st.Record(ctx, inc.ID, ev); err != nil || !ok {
			t.Fatalf("record %s: %v %v", ev.Kind, ok, err)
		}
	}
	rec(1*time.Minute, Event{Kind: KindCommand, Actor: "U01ALICE", Summary: "/perf assess agentic-studio: CRIT — p95 1.8 s on /api/ideas (3.6× threshold)",
		Link: "https://slack.example/archives/C0INC1/p1", DedupeKey: "cmd:1", Detail: JSON(CommandDetail{
			Command: "/perf assess agentic-studio", Service: "agentic-studio", Status: "CRIT", Headline: "p95 1.8 s on /api/ideas",
			Findings: []Finding{
				{Check: "API p95 latency", Status: "CRIT", Subject: "/api/ideas", Value: 1.8, Threshold: 0.5, Unit: "s", Message: "p95 latency is 1.8 s on /api/ideas (threshold 500 ms)"},
				{Check: "Error rate", Status: "WARN", Value: 0.014, Threshold: 0.01, Message: "1.4 % of requests fail with 5xx (threshold 1 %)"},
				{Check: "Health endpoint", Status: "OK", Message: "healthy"},
			}})})
	rec(3*time.Minute, Event{Kind: KindChart, Actor: "perfbot", Summary: "Chart: API p95 latency | by endpoint", DedupeKey: "chart:1",
		Detail: JSON(ChartDetail{Title: "API p95 latency", Unit: "s", Threshold: 0.5, Numbers: []Number{{Name: "p95 /api/ideas", Unit: "s", Before: 0.21, After: 1.8}}})})
	rec(6*time.Minute, Event{Kind: KindCommand, Actor: "U02BOB", Summary: "/perf db agentic-studio: WARN — missing index candidate ideas", DedupeKey: "cmd:2",
		Detail: JSON(CommandDetail{Command: "/perf db agentic-studio", Status: "WARN", Findings: []Finding{
			{Check: "Missing index candidate", Status: "WARN", Subject: "ideas", Value: 48210, Threshold: 10000, Unit: "seq scans", Message: "ideas: 48210 sequential scans over 250000 rows"},
			{Check: "API p95 latency", Status: "WARN", Subject: "/api/ideas", Value: 0.9, Threshold: 0.5, Unit: "s", Message: "p95 0.9 s"},
		}})})
	rec(8*time.Minute, Event{Kind: KindPin, Actor: "U02BOB", Summary: "Pinned: \"seq scans on ideas started after rev 42\"", Link: "https://slack.example/archives/C0INC1/p2", DedupeKey: "pin:C0INC1:2"})
	act := ActionDetail{ActionID: "act-1", Action: "scale", Target: "agentic-studio/agentic-studio", Change: "replicas 2 → 5", RequestedBy: "U01ALICE"}
	rec(10*time.Minute, Event{Kind: KindActionRequested, Actor: "U01ALICE", Summary: "Requested: scale agentic-studio to 5 replicas", DedupeKey: "act-1:requested", Detail: JSON(act)})
	act.ApprovedBy = "U03CAROL"
	rec(12*time.Minute, Event{Kind: KindActionApproved, Actor: "U03CAROL", Summary: "Approved: scale agentic-studio to 5 replicas", DedupeKey: "act-1:approved", Detail: JSON(act)})
	act.Numbers = []Number{{Name: "replicas", Before: 2, After: 5}}
	rec(12*time.Minute+20*time.Second, Event{Kind: KindActionExecuted, Actor: "perfbot", Summary: "Scaled agentic-studio 2 → 5 replicas", DedupeKey: "act-1:executed", Detail: JSON(act)})
	rec(20*time.Minute, Event{Kind: KindNote, Actor: "U01ALICE", Summary: "Latency down after scale-out; index still missing", DedupeKey: "note:1"})
	clock.Set(t0.Add(30 * time.Minute))
	mustFire(t, st, clock.Now(), pager, 1)
	rec(38*time.Minute, Event{Kind: KindChart, Actor: "perfbot", Summary: "Chart: API p95 latency", DedupeKey: "chart:2",
		Detail: JSON(ChartDetail{Title: "API p95 latency", Unit: "s", Numbers: []Number{{Name: "p95 /api/ideas", Unit: "s", Before: 1.8, After: 0.32}}})})
	alert.Status, alert.EndsAt = AlertResolved, t0.Add(41*time.Minute)
	if _, err := st.HandleAlert(ctx, alert); err != nil {
		t.Fatal(err)
	}
	clock.Set(t0.Add(47 * time.Minute))
	inc, err = st.Resolve(ctx, inc.ID, "U01ALICE", "Sequential scans on ideas after revision 42 dropped the user_id index.")
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

func mustFire(t *testing.T, st *Store, now time.Time, p Pager, want int) {
	t.Helper()
	if n, err := st.FireDue(context.Background(), now, "test", p); err != nil || n != want {
		t.Fatalf("FireDue at %s = %d, %v; want %d", now, n, err, want)
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := "testdata/" + name
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create): %v", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (run go test ./incidents/ -run %s -update and review the diff)\n--- got ---\n%s", path, t.Name(), got)
	}
}

func TestPostmortemGolden(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	st, clock := newStore(t, Options{Location: berlin})
	inc := buildIncident(t, st, clock)
	clock.Set(t0.Add(50 * time.Minute))
	md, err := st.Postmortem(context.Background(), inc.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "postmortem.golden.md", md)
	stored, at, err := st.StoredPostmortem(context.Background(), inc.ID)
	if err != nil || stored != md || !at.Equal(t0.Add(50*time.Minute)) {
		t.Errorf("stored postmortem differs (at %s, %v)", at, err)
	}
	for _, want := range []string{"## Timeline of events", "## Root cause analysis", "## Actions taken",
		"## Lessons learned", "## Prevention measures", "## Follow-up actions", "CREATE INDEX CONCURRENTLY",
		"HorizontalPodAutoscaler", "circuit breakers", "- [ ] Update runbooks"} {
		if !strings.Contains(md, want) {
			t.Errorf("postmortem lacks %q", want)
		}
	}
	// Every timeline event appears, in order.
	tl, _ := st.Timeline(context.Background(), inc.ID)
	pos := 0
	for _, e := range tl {
		i := strings.Index(md[pos:], mdCell(e.Summary))
		if i < 0 {
			t.Fatalf("event %q missing or out of order", e.Summary)
		}
		pos += i
	}
}

func TestPostmortemDraftUTC(t *testing.T) {
	st, clock := newStore(t, Options{})
	inc, err := st.Open(context.Background(), OpenParams{Title: "Redis | evictions", Severity: Sev3, OpenedBy: "console"})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(90 * time.Second)
	md, err := st.Postmortem(context.Background(), inc.ID, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "postmortem_draft.golden.md", md)
}

func TestPostmortemHandler(t *testing.T) {
	st, clock := newStore(t, Options{})
	inc := buildIncident(t, st, clock)
	mux := http.NewServeMux()
	mux.Handle("GET /incidents/{id}/postmortem", PostmortemHandler(st, time.UTC, "tok"))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, tc := range []struct {
		name, ref, token string
		want             int
	}{
		{"by number", "1", "tok", 200},
		{"by uuid", inc.ID.String(), "tok", 200},
		{"by channel name", inc.ChannelName, "tok", 200},
		{"unknown", uuid.New().String(), "tok", 404},
		{"no token", "1", "", 401},
		{"wrong token", "1", "nope", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/incidents/"+tc.ref+"/postmortem", nil)
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want, body)
			}
			if tc.want == 200 && (!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/markdown") ||
				!strings.HasPrefix(string(body), "# Postmortem: incident #1")) {
				t.Errorf("content type %q, body %.80q", resp.Header.Get("Content-Type"), body)
			}
		})
	}
}
