package studiosim

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestAdminRejectsBadInput(t *testing.T) {
	e := newTestEnv(t, nil)
	cases := []struct {
		name, body, want string
	}{
		{"empty body", ``, "empty body"},
		{"not json", `kind=latency`, "bad fault JSON"},
		{"trailing data", `{"kind":"openai_429","rate":0.5} {}`, "trailing data"},
		{"unknown field", `{"kind":"latency","endpoint":"/api/ideas","delay":"1s","speed":3}`, `unknown field "speed"`},
		{"unknown kind", `{"kind":"meteor"}`, `unknown fault kind "meteor"`},
		{"missing kind", `{"rate":0.5}`, "unknown fault kind"},
		{"bad duration", `{"kind":"latency","endpoint":"/api/ideas","delay":"soon"}`, "delay: want a duration"},
		{"numeric duration", `{"kind":"latency","endpoint":"/api/ideas","delay":800}`, "bad fault JSON"},
		{"zero delay", `{"kind":"openai_latency","delay":"0s"}`, "delay must be"},
		{"unknown endpoint", `{"kind":"latency","endpoint":"/nope","delay":"1s"}`, `endpoint "/nope"`},
		{"missing endpoint", `{"kind":"errors","rate":0.5}`, "endpoint is required"},
		{"rate above one", `{"kind":"errors","endpoint":"/api/ideas","rate":1.5}`, "rate must be in (0, 1]"},
		{"negative seconds", `{"kind":"slow_sql","seconds":-1}`, "seconds must be"},
		{"other table", `{"kind":"lock","table":"ideas"}`, `only "projects"`},
		{"too many connections", `{"kind":"idle_in_tx","connections":7}`, "connections must be in [1, 6]"},
		{"no megabytes", `{"kind":"redis_memory"}`, "mb must be"},
		{"growth without cap", `{"kind":"memory_growth","mb_per_sec":10}`, "max_mb must be"},
		{"param of another kind", `{"kind":"openai_429","rate":0.5,"mb":3}`, "mb does not apply to openai_429"},
		{"server-set id", `{"id":"x","kind":"openai_429","rate":0.5}`, "set by the server"},
		{"unknown agent", `{"kind":"crewai_failures","rate":1,"agent":"editor"}`, `agent "editor": want one of researcher, writer, reviewer`},
		{"agent of another kind", `{"kind":"openai_429","rate":0.5,"agent":"writer"}`, "agent does not apply to openai_429"},
		{"pod index out of range", `{"kind":"pod_memory","pod":3}`, "pod index 3: want 0 to 2"},
		{"negative pod index", `{"kind":"pod_memory","pod":"-1"}`, "pod index -1: want 0 to 2"},
		{"unknown pod", `{"kind":"pod_memory","pod":"web-9"}`, `pod "web-9": want an index 0 to 2 or one of agentic-studio-`},
		{"fractional pod", `{"kind":"pod_memory","pod":1.5}`, "pod: want a pod name or index, got 1.5"},
		{"pod memory above limit", `{"kind":"pod_memory","rate":1.2}`, "rate must be in (0, 1], got 1.2"},
		{"pod memory every problem", `{"kind":"pod_memory","pod":9,"rate":-1,"mb":5}`,
			"pod_memory: mb does not apply to pod_memory (it takes: pod rate); rate must be in (0, 1], got -1; pod index 9: want 0 to 2"},
		{"pod of pod_cpu", `{"kind":"pod_cpu","pod":1}`, "pod does not apply to pod_cpu (it takes: rate)"},
		{"pod cpu above limit", `{"kind":"pod_cpu","rate":2}`, "rate must be in (0, 1], got 2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, raw, _ := e.do(t, http.MethodPost, "/admin/faults", tc.body)
			var body struct{ Error string }
			_ = json.Unmarshal([]byte(raw), &body)
			if code != http.StatusBadRequest || !strings.Contains(body.Error, tc.want) {
				t.Errorf("POST %s = %d %s, want 400 mentioning %q", tc.body, code, raw, tc.want)
			}
		})
	}
	if n := len(e.srv.Faults()); n != 0 {
		t.Errorf("%d faults active after only bad requests", n)
	}
	if code, _, _ := e.do(t, http.MethodDelete, "/admin/faults/nosuch", ""); code != http.StatusNotFound {
		t.Errorf("DELETE unknown fault = %d, want 404", code)
	}
}

func TestClientRoundTrip(t *testing.T) {
	e := newTestEnv(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a, err := e.client.Inject(ctx, Fault{Kind: KindLatency, Endpoint: EndpointHealth, Delay: 1500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.client.Inject(ctx, Fault{Kind: KindOpenAI429, Rate: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	list, err := e.client.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != a || list[0].Delay != 1500*time.Millisecond || list[1].ID != b || list[1].Rate != 0.25 {
		t.Fatalf("List = %+v, want the two faults in order", list)
	}
	if list[0].CreatedAt.IsZero() {
		t.Errorf("CreatedAt not set")
	}
	if err := e.client.Clear(ctx, a); err != nil {
		t.Fatal(err)
	}
	var apiErr *APIError
	if err := e.client.Clear(ctx, a); !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound {
		t.Errorf("second Clear = %v, want a 404 APIError", err)
	}
	if _, err := e.client.Inject(ctx, Fault{Kind: "nope"}); !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest {
		t.Errorf("Inject of a bad fault = %v, want a 400 APIError", err)
	}
	if err := e.client.ClearAll(ctx); err != nil {
		t.Fatal(err)
	}
	if list, _ := e.client.List(ctx); len(list) != 0 {
		t.Errorf("List after ClearAll = %+v", list)
	}
}

func TestFaultsCombine(t *testing.T) {
	e := newTestEnv(t, nil)
	e.inject(t, Fault{Kind: KindLatency, Endpoint: EndpointIdeas, Delay: 300 * time.Millisecond})
	e.inject(t, Fault{Kind: KindLatency, Endpoint: EndpointIdeas, Delay: 400 * time.Millisecond})
	e.inject(t, Fault{Kind: KindErrors, Endpoint: EndpointIdeas, Rate: 0.5})
	e.inject(t, Fault{Kind: KindErrors, Endpoint: EndpointIdeas, Rate: 0.5})
	eff := e.srv.faults.effects()
	if eff.latency[EndpointIdeas] != 700*time.Millisecond || eff.errorRate[EndpointIdeas] != 0.75 {
		t.Errorf("combined latency %s, error rate %g; want 700ms and 0.75", eff.latency[EndpointIdeas], eff.errorRate[EndpointIdeas])
	}
	if err := e.srv.ClearFaults(context.Background()); err != nil {
		t.Fatal(err)
	}
	if eff := e.srv.faults.effects(); len(eff.latency) != 0 || len(eff.errorRate) != 0 {
		t.Errorf("effects left after ClearFaults: %+v", eff)
	}
}
