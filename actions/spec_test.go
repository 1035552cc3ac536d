package actions

import (
	"reflect"
	"strings"
	"testing"

	"github.com/perfbot/perfbot/errs"
)

func TestParseRequest(t *testing.T) {
	tests := []struct {
		text string
		want Spec
	}{
		{"scale agentic-studio 5", Spec{Kind: Scale, Deployment: "agentic-studio", Replicas: 5}},
		{"/perf scale prod/api 0", Spec{Kind: Scale, Namespace: "prod", Deployment: "api", Replicas: 0}},
		{"limits agentic-studio cpu=1000m memory=2Gi", Spec{Kind: Limits, Deployment: "agentic-studio",
			Limits: map[string]string{"cpu": "1000m", "memory": "2Gi"}}},
		{"limits api memory=2Gi requests cpu=500m memory=1Gi", Spec{Kind: Limits, Deployment: "api",
			Limits: map[string]string{"memory": "2Gi"}, Requests: map[string]string{"cpu": "500m", "memory": "1Gi"}}},
		{"limits api requests memory=1Gi", Spec{Kind: Limits, Deployment: "api",
			Requests: map[string]string{"memory": "1Gi"}}},
		{"analyze ideas", Spec{Kind: Analyze, Table: "ideas"}},
		{"ANALYZE public.ideas", Spec{Kind: Analyze, Schema: "public", Table: "ideas"}},
		{"index users email", Spec{Kind: Index, Table: "users", Columns: []string{"email"}}},
		{"index ideas owner_id,created_at", Spec{Kind: Index, Table: "ideas", Columns: []string{"owner_id", "created_at"}}},
		{"cancel 4242", Spec{Kind: Cancel, PID: 4242}},
		{"cancel --terminate 4242", Spec{Kind: Cancel, PID: 4242, Terminate: true}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got, err := ParseRequest(tt.text)
			if err != nil {
				t.Fatalf("ParseRequest: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseRequestRefuses(t *testing.T) {
	tests := []struct {
		text, wantMsg string
	}{
		{"", "which action"},
		{"reboot everything", "unknown action"},
		{"scale", "Usage: scale <deployment> <replicas>"},
		{"scale agentic-studio", "Usage: scale"},
		{"scale agentic-studio five", `"five" is not a replica count`},
		{"scale agentic-studio -1", "0 or more"},
		{"scale agentic-studio 99999999999", "not a replica count"},
		{"limits agentic-studio", "Usage: limits"},
		{"limits agentic-studio cpu", "not resource=quantity"},
		{"limits agentic-studio cpu=lots", `cpu="lots" is not a quantity`},
		{"limits agentic-studio cpu=0", "more than zero"},
		{"limits agentic-studio gpu=1", "not a resource perfbot sets"},
		{"limits agentic-studio cpu=1 cpu=2", "given twice"},
		{"analyze", "exactly one table"},
		{"analyze a b", "exactly one table"},
		{"index ideas", "Usage: index"},
		{"index ideas; DROP TABLE x", "Usage: index"},
		{"analyze ideas;DROP", "is not a table or column name"},
		{`analyze "x"`, "is not a table or column name"},
		{"index ideas a,b);--", "is not a table or column name"},
		{"index ideas a,,b", "is not a table or column name"},
		{"index ideas 1a", "is not a table or column name"},
		{"index " + strings.Repeat("t", 64) + " a", "is not a table or column name"},
		{"cancel", "exactly one backend pid"},
		{"cancel abc", "is not a backend pid"},
		{"cancel 0", "is not a backend pid"},
		{"cancel 1 2", "exactly one backend pid"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			_, err := ParseRequest(tt.text)
			wantKind(t, err, errs.Invalid)
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("message %q does not contain %q", err, tt.wantMsg)
			}
		})
	}
}

func TestIndexName(t *testing.T) {
	if got := indexName("users", []string{"email"}); got != "idx_users_email" {
		t.Errorf("got %q", got)
	}
	long := indexName(strings.Repeat("t", 60), []string{"column_a", "column_b"})
	if len(long) != 63 {
		t.Errorf("long name has %d bytes, want 63", len(long))
	}
}

func TestPlanText(t *testing.T) {
	p := Plan{Summary: "scale a/b to 5 replicas", Changes: []Change{{What: "replicas", From: "3", To: "5"}},
		DryRun: "accepted", Warnings: []string{"an HPA"}}
	want := "scale a/b to 5 replicas\nreplicas: 3 → 5\ndry run: accepted\nwarning: an HPA"
	if got := p.Text(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
