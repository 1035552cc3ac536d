package console

import (
	"bytes"
	"strings"
	"testing"

	"github.com/perfbot/perfbot/handlers"
	"github.com/perfbot/perfbot/probes"
)

func TestTerminalText(t *testing.T) {
	tests := []struct {
		name string
		text handlers.Text
		want string
	}{
		{"incident opened", handlers.T(handlers.IconIncident, handlers.Plain("Incident #3 "), handlers.Bold("checkout slow"),
			handlers.Plain(" opened by "), handlers.Who("U0ALICE"), handlers.Plain(" in "), handlers.Channel("C0INC"), handlers.Plain(".")),
			"Incident #3 checkout slow opened by @U0ALICE in #C0INC."},
		{"groups, names and ids of the wrong shape", handlers.T(handlers.Who("S0SRE"), handlers.Plain(" "), handlers.Who("alertmanager"),
			handlers.Plain(" "), handlers.Channel("general")), "@S0SRE alertmanager general"},
		{"warning icon is a word", handlers.T(handlers.IconWarning, handlers.Plain("disk almost full")), "warning: disk almost full"},
		{"code, link and breaks", handlers.T(handlers.Code("/perf help"), handlers.Break(), handlers.Link("https://g.example/d", "dashboard"),
			handlers.Break(), handlers.Link("https://g.example/x", "")), "/perf help\ndashboard (https://g.example/d)\nhttps://g.example/x"},
		{"no chat markup is added", handlers.T(handlers.Data("<!here> *not bold* :fire:")), "<!here> *not bold* :fire:"},
		{"escape sequences and controls are removed", handlers.T(handlers.Data("a\x1b[31mred\x1b[0m \x1b]0;pwned\x07title \x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\ \u009b2Jx\rb\x00\u202ec\x1bcd")),
			"ared title link xbcd"},
		{"data in a mention cannot escape", handlers.T(handlers.User("U1\x1b[2J"), handlers.Bold("b\nold\x1b[1m")), "U1b old"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := terminalText(tt.text); got != tt.want {
				t.Errorf("terminalText = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestRenderRemovesEscapesFromData: no field of a report can put an escape sequence or a
// control character on the terminal.
func TestRenderRemovesEscapesFromData(t *testing.T) {
	evil := "x\x1b[2J\x1b]0;owned\x07\u009b31m\r\x08y"
	r := handlers.Report{Title: evil, Status: probes.Warn, Headline: evil,
		Findings: []probes.Finding{{Check: evil, Status: probes.Warn, Subject: evil, Value: 3, Unit: evil, Message: evil}},
		Sections: []handlers.Section{{Title: evil, Summary: evil}},
		Tables:   []probes.Table{{Title: evil, Columns: []string{evil, "b"}, Rows: [][]string{{evil, "tab\there"}}}},
		Next:     []handlers.NextStep{{Label: evil, Command: evil}}}
	var out bytes.Buffer
	if err := Render(&out, r); err != nil {
		t.Fatal(err)
	}
	for i, c := range out.String() {
		if c == 0x1b || c == '\r' || c == 0x08 || c == 0x07 || c == 0x9b {
			t.Fatalf("control %U at %d in\n%q", c, i, out.String())
		}
	}
	if !strings.Contains(out.String(), "xy — WARN") || strings.Contains(out.String(), "owned") {
		t.Errorf("output:\n%s", out.String())
	}
}
