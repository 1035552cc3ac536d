package bot

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/perfbot/perfbot/dev/slackserver"
	"github.com/perfbot/perfbot/handlers"
	"github.com/perfbot/perfbot/probes"
)

// The -update flag rewrites golden files. Another test file of this package may define it too,
// so it is looked up rather than owned.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files in testdata/")
	}
}

func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// assessReport is a typical /perf assess report with a fault injected.
func assessReport() handlers.Report {
	ms := time.Millisecond
	return handlers.Report{
		Command:  "/perf assess",
		Service:  "agentic-studio",
		Title:    "Assessment of agentic-studio",
		Status:   probes.Crit,
		Headline: "API p95 latency is 812 ms on /api/ideas (threshold 500 ms); DB query time is 1.8 s",
		Findings: []probes.Finding{
			{Check: "API p95 latency", Status: probes.Crit, Subject: "/api/ideas", Value: 812.4, Threshold: 500, Unit: "ms",
				Message: "p95 812 ms > 500 ms for 6 min"},
			{Check: "DB query time", Status: probes.Crit, Subject: "SELECT * FROM ideas WHERE owner_id = $1", Value: 1.8, Threshold: 1, Unit: "s",
				Message: "mean 1.8 s over 412 calls; sequential scan on ideas"},
			{Check: "Error rate", Status: probes.Warn, Value: 2.31, Threshold: 1, Unit: "%", Message: "2.3 % of requests fail (5xx)"},
			{Check: "Memory", Status: probes.OK, Subject: "studiosim", Value: 62, Threshold: 85, Unit: "%"},
			{Check: "CPU", Status: probes.OK, Subject: "studiosim", Value: 35.5, Threshold: 80, Unit: "%"},
			{Check: "Pods ready", Status: probes.OK, Subject: "agentic-studio", Value: 3, Unit: "pods"},
		},
		Sections: []handlers.Section{
			{Probe: "health", Title: "Health endpoint", Status: probes.OK, Duration: 12 * ms},
			{Probe: "targets", Title: "Targets up", Status: probes.OK, Duration: 40 * ms},
			{Probe: "latency", Title: "API latency", Status: probes.Crit, Duration: 95 * ms},
			{Probe: "errors", Title: "Error rate", Status: probes.Warn, Duration: 88 * ms},
			{Probe: "db", Title: "Database", Status: probes.Crit, Duration: 1700 * ms},
			{Probe: "resources", Title: "CPU and memory", Status: probes.OK, Duration: 70 * ms},
			{Probe: "pods", Title: "Pods", Status: probes.OK, Duration: 130 * ms},
			{Probe: "rollouts", Title: "Recent rollouts", Status: probes.Unknown, TimedOut: true, Err: "context deadline exceeded", Duration: 2000 * ms},
			{Probe: "logs", Title: "Logs", Status: probes.Unknown, Err: "dial tcp 127.0.0.1:18250: connect: connection refused", Duration: 3 * ms},
		},
		Tables: []probes.Table{
			{Title: "Slowest endpoints", Columns: []string{"Endpoint", "p95", "req/s"}, Rows: [][]string{
				{"/api/ideas", "812 ms", "41.2"}, {"/api/search", "430 ms", "12.0"}, {"/health", "4 ms", "1.0"}}},
			{Title: "Scope", Columns: []string{"Question", "Answer"}, Rows: [][]string{
				{"Endpoints affected", "1 of 7"}, {"Persistent or intermittent", "persistent (6 min)"}}},
		},
		Next: []handlers.NextStep{
			{Label: "DB details", Command: "/perf db agentic-studio"},
			{Label: "Logs", Command: "/perf logs agentic-studio"},
			{Label: "Open incident", Command: "/perf incident open agentic-studio"},
		},
		Elapsed: 2100 * ms,
	}
}

// rendered is a message as the bot sends it.
type rendered struct {
	Text   string        `json:"text"`
	Blocks []slack.Block `json:"blocks"`
}

func TestRenderGolden(t *testing.T) {
	usage := handlers.Report{Ephemeral: true, Text: handlers.T(handlers.Bold("Usage:"), handlers.Plain(" "), handlers.Code("/perf db [service]"),
		handlers.Break(), handlers.Plain("Unknown service "), handlers.Code("<!channel>"), handlers.Plain(" & friends."))}
	sections := assessReport().Sections
	tests := []struct {
		name string
		msg  func() (string, []slack.Block)
	}{
		{"assess", func() (string, []slack.Block) { return RenderReport(assessReport()) }},
		{"progress", func() (string, []slack.Block) {
			return RenderProgress("/perf assess", "agentic-studio", 3, 9, sections[:3])
		}},
		{"progress_start", func() (string, []slack.Block) { return RenderProgress("/perf db", "agentic-studio", 0, 5, nil) }},
		{"usage", func() (string, []slack.Block) { return RenderReport(usage) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, blocks := tt.msg()
			checkMessage(t, text, blocks)
			got, err := json.MarshalIndent(rendered{text, blocks}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "blocks_"+tt.name+".json"), append(got, '\n'))
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if updating() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the rendering (run with -update after checking):\n%s", path, got)
	}
}

func TestRenderReportLayout(t *testing.T) {
	text, blocks := RenderReport(assessReport())
	if !strings.Contains(text, "CRIT") || !strings.Contains(text, "812 ms") {
		t.Errorf("notification text %q lacks the status or the verdict", text)
	}
	var tables, actions int
	for _, b := range blocks {
		switch b := b.(type) {
		case *slack.TableBlock:
			tables++
			if len(b.Rows) != 7 || len(b.Rows[0]) != 5 {
				t.Errorf("table is %dx%d, want 7 rows (header + 6 findings) of 5 cells", len(b.Rows), len(b.Rows[0]))
			}
		case *slack.ActionBlock:
			actions++
			for i, el := range b.Elements.ElementSet {
				btn := el.(*slack.ButtonBlockElement)
				want := assessReport().Next[i]
				if btn.ActionID != nextActionID(i) || btn.Value != want.Command || btn.Text.Text != want.Label {
					t.Errorf("button %d = %q %q %q, want %q %q %q", i, btn.ActionID, btn.Value, btn.Text.Text, nextActionID(i), want.Command, want.Label)
				}
			}
		}
	}
	if tables != 1 || actions != 1 {
		t.Errorf("got %d tables and %d action blocks, want 1 and 1", tables, actions)
	}
	if ov := OverflowTables(assessReport()); len(ov) != 0 {
		t.Errorf("OverflowTables = %d tables for a report that fits", len(ov))
	}
}

func TestRenderFallbacks(t *testing.T) {
	t.Run("ephemeral findings use section fields", func(t *testing.T) {
		r := assessReport()
		r.Ephemeral = true
		_, blocks := RenderReport(r)
		checkMessage(t, "x", blocks)
		for _, b := range blocks {
			if _, ok := b.(*slack.TableBlock); ok {
				t.Fatal("ephemeral report has a table block")
			}
		}
		if s, ok := blocks[2].(*slack.SectionBlock); !ok || len(s.Fields) != 6 {
			t.Errorf("block 2 = %#v, want a section with 6 fields", blocks[2])
		}
	})
	t.Run("no findings puts the first table in the table block", func(t *testing.T) {
		r := assessReport()
		r.Findings = nil
		_, blocks := RenderReport(r)
		checkMessage(t, "x", blocks)
		n := 0
		for _, b := range blocks {
			if tb, ok := b.(*slack.TableBlock); ok {
				n++
				if got := tb.Rows[1][0].(*slack.TableRawTextCell).Text; got != "/api/ideas" {
					t.Errorf("table row 1 starts with %q, want /api/ideas", got)
				}
			}
		}
		if n != 1 {
			t.Errorf("%d table blocks, want 1", n)
		}
	})
	t.Run("too many findings page into the thread", func(t *testing.T) {
		r := assessReport()
		for len(r.Findings) < 250 {
			r.Findings = append(r.Findings, r.Findings[len(r.Findings)%6])
		}
		ov := OverflowTables(r)
		if len(ov) != 1 || len(ov[0].Rows) != 250 {
			t.Fatalf("OverflowTables = %+v, want one table with all 250 findings", ov)
		}
	})
}

// checkMessage fails the test unless Slack would accept the message and no data in it can
// mention anyone: the local Slack server's validator, then an independent check of the limits.
func checkMessage(t *testing.T, text string, blocks []slack.Block) {
	t.Helper()
	raw, err := json.Marshal(blocks)
	if err != nil {
		t.Fatalf("marshalling blocks: %v", err)
	}
	if err := slackserver.ValidateBlocks(raw); err != nil {
		t.Fatalf("Slack would reject the blocks: %v", err)
	}
	if n := len([]rune(text)); n == 0 || n > 4000 {
		t.Errorf("top-level text has %d runes, want 1..4000", n)
	}
	checkSafe(t, "/text", "mrkdwn", text)
	var doc []any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc) > 50 {
		t.Errorf("%d blocks, want ≤ 50", len(doc))
	}
	tables := 0
	for i, b := range doc {
		m := b.(map[string]any)
		if m["type"] == "table" {
			tables++
		}
		checkBlock(t, "/blocks/"+itoa(i), m)
	}
	if tables > 1 {
		t.Errorf("%d table blocks, want ≤ 1", tables)
	}
}

// limit is the most runes (and items) Slack allows at a place in a block.
var limits = map[string]int{
	"section.text": 3000, "section.fields": 10, "section.field": 2000, "header.text": 150,
	"context.elements": 10, "context.element": 3000, "actions.elements": 25, "button.text": 75,
	"button.value": 2000, "table.rows": 100, "table.cells": 20,
}

func checkBlock(t *testing.T, at string, b map[string]any) {
	t.Helper()
	typ := b["type"].(string)
	text := func(k string, obj any, max int) {
		o, ok := obj.(map[string]any)
		if !ok {
			t.Errorf("%s: %s is %T, want a text object", at, k, obj)
			return
		}
		s, _ := o["text"].(string)
		if n := len([]rune(s)); n == 0 || n > max {
			t.Errorf("%s: %s has %d runes, want 1..%d", at, k, n, max)
		}
		checkSafe(t, at+"/"+k, o["type"].(string), s)
	}
	items := func(k string, max int) []any {
		arr, _ := b[k].([]any)
		if len(arr) == 0 || len(arr) > max {
			t.Errorf("%s: %d %s, want 1..%d", at, len(arr), k, max)
		}
		return arr
	}
	switch typ {
	case "header":
		text("text", b["text"], limits["header.text"])
	case "section":
		if tx, ok := b["text"]; ok {
			text("text", tx, limits["section.text"])
		}
		if _, ok := b["fields"]; ok {
			for _, f := range items("fields", limits["section.fields"]) {
				text("fields", f, limits["section.field"])
			}
		}
	case "context":
		for _, e := range items("elements", limits["context.elements"]) {
			text("elements", e, limits["context.element"])
		}
	case "actions":
		for _, e := range items("elements", limits["actions.elements"]) {
			el := e.(map[string]any)
			text("button", el["text"], limits["button.text"])
			if v, _ := el["value"].(string); len([]rune(v)) > limits["button.value"] {
				t.Errorf("%s: button value has %d runes", at, len([]rune(v)))
			}
		}
	case "table":
		for _, row := range items("rows", limits["table.rows"]) {
			cells, _ := row.([]any)
			if len(cells) == 0 || len(cells) > limits["table.cells"] {
				t.Errorf("%s: a row has %d cells, want 1..%d", at, len(cells), limits["table.cells"])
			}
			for _, c := range cells {
				text("cell", c, 3000)
			}
		}
	default:
		t.Errorf("%s: unexpected block type %q", at, typ)
	}
}

// checkSafe fails when text could ping someone or link: no "<!"/"<@" anywhere, no raw "<" or
// ">" and no bare broadcast words in mrkdwn, no replacement characters from split runes.
func checkSafe(t *testing.T, at, typ, s string) {
	t.Helper()
	if strings.Contains(s, "<!") || strings.Contains(s, "<@") || strings.Contains(s, "<#") {
		t.Errorf("%s: unescaped mention in %.200q", at, s)
	}
	if strings.ContainsRune(s, '\uFFFD') {
		t.Errorf("%s: replacement character (split rune?) in %.200q", at, s)
	}
	if typ != "mrkdwn" {
		return
	}
	if strings.ContainsAny(s, "<>") {
		t.Errorf("%s: raw < or > in mrkdwn %.200q", at, s)
	}
	low := strings.ToLower(s)
	for _, w := range []string{"@channel", "@here", "@everyone"} {
		if strings.Contains(low, w) {
			t.Errorf("%s: %s in mrkdwn %.200q", at, w, s)
		}
	}
	for i := strings.IndexByte(s, '&'); i >= 0; i = nextAmp(s, i) {
		rest := s[i:]
		if !strings.HasPrefix(rest, "&amp;") && !strings.HasPrefix(rest, "&lt;") && !strings.HasPrefix(rest, "&gt;") {
			t.Errorf("%s: bare or cut entity at %.40q", at, rest)
			return
		}
	}
}

func nextAmp(s string, i int) int {
	j := strings.IndexByte(s[i+1:], '&')
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

func itoa(i int) string { return strconv.Itoa(i) }

// hostilePieces are the parts hostile text is made of: mentions, entities, formatting, invisible
// and multi-byte characters, invalid UTF-8.
var hostilePieces = []string{
	"<@U123>", "<!channel>", "<!here>", "<!everyone>", "@channel", "@Here", " @everyone ", "&lt;", "&amp;lt;!channel&gt;",
	"<#C123|general>", "<https://evil.example|click>", "\n", "\r\n", "\t", "\u200b", "\u200d", "\u202e", "\ufeff",
	"🔥", "👨‍👩‍👧", "*bold*", "_it_", "~s~", "`code`", "```block```", "é", "日本語", "\x00", "\xff\xfe", "&", "<", ">",
	":smile:", "/api/ideas", "order_items", "a", " ",
}

// bigPieces are 50 KB label values.
var bigPieces = []string{
	strings.Repeat("x", 50_000), strings.Repeat("🔥", 12_500), strings.Repeat("<!channel>", 5_000),
	strings.Repeat("&lt;", 12_500), strings.Repeat("\u200b", 17_000), strings.Repeat("<@U123> ", 6_250),
}

// hostile returns a random mix of 0..6 hostile pieces; one time in 40 a piece is 50 KB long.
func hostile(rng *rand.Rand) string {
	var b strings.Builder
	for n := rng.Intn(7); n > 0; n-- {
		if rng.Intn(40) == 0 {
			b.WriteString(bigPieces[rng.Intn(len(bigPieces))])
			continue
		}
		b.WriteString(hostilePieces[rng.Intn(len(hostilePieces))])
	}
	return b.String()
}

// hostileBig returns a 50 KB value, alone (shared, so thousands cost no memory) or in a mix.
func hostileBig(rng *rand.Rand) string {
	big := bigPieces[rng.Intn(len(bigPieces))]
	if rng.Intn(2) == 0 {
		return big
	}
	return hostile(rng) + big + hostile(rng)
}

func hostileValue(rng *rand.Rand) float64 {
	return []float64{0, 1, -1, 812.4, 1e300, -1e-300, math.NaN(), math.Inf(1), rng.Float64() * 1e4}[rng.Intn(9)]
}

// hostileReport builds a report with the given numbers of findings, sections, tables, rows
// and buttons, every text drawn from hostile.
func hostileReport(rng *rand.Rand, findings, sections, tables, rows, cols, next int) handlers.Report {
	r := handlers.Report{Command: hostile(rng), Service: hostile(rng), Title: hostileBig(rng), Headline: hostileBig(rng),
		Status: probes.Status(rng.Intn(4)), Text: hostileText(rng), Ephemeral: rng.Intn(5) == 0, Elapsed: time.Duration(rng.Int63n(1e11))}
	for i := 0; i < findings; i++ {
		f := probes.Finding{Check: hostile(rng), Status: probes.Status(rng.Intn(4)), Subject: hostile(rng),
			Value: hostileValue(rng), Threshold: hostileValue(rng), Unit: hostile(rng), Message: hostile(rng)}
		if i%3 == 0 {
			f.Subject, f.Message = bigPieces[i%len(bigPieces)], hostileBig(rng)
		}
		r.Findings = append(r.Findings, f)
	}
	for i := 0; i < sections; i++ {
		r.Sections = append(r.Sections, handlers.Section{Probe: hostile(rng), Title: hostile(rng), Status: probes.Status(rng.Intn(4)),
			Summary: hostile(rng), Err: hostile(rng), TimedOut: rng.Intn(3) == 0, Duration: time.Duration(rng.Int63n(1e10))})
	}
	for i := 0; i < tables; i++ {
		t := probes.Table{Title: hostile(rng)}
		for c := 0; c < cols; c++ {
			t.Columns = append(t.Columns, hostile(rng))
		}
		for j := 0; j < rows; j++ {
			row := make([]string, rng.Intn(cols+3))
			for k := range row {
				row[k] = hostile(rng)
				if k == 0 && j%5 == 0 {
					row[k] = bigPieces[j%len(bigPieces)]
				}
			}
			t.Rows = append(t.Rows, row)
		}
		r.Tables = append(r.Tables, t)
	}
	for i := 0; i < next; i++ {
		r.Next = append(r.Next, handlers.NextStep{Label: hostile(rng), Command: hostile(rng)})
	}
	return r
}

func TestRenderHostileData(t *testing.T) {
	endpoints := make([][]string, 10_000)
	for i := range endpoints {
		endpoints[i] = []string{"/api/endpoint-" + strconv.Itoa(i) + strings.Repeat("<!here>", i%3), "812 ms", "41"}
	}
	tests := []struct {
		name                                         string
		seed                                         int64
		findings, sections, tables, rows, cols, next int
		wantOverflow                                 bool
	}{
		{"10000 findings", 1, 10_000, 9, 0, 0, 0, 3, true},
		{"10000-row tables", 2, 0, 9, 3, 10_000, 3, 3, true},
		{"wide tables", 3, 5, 9, 4, 30, 30, 3, true},
		{"60 tables", 4, 5, 9, 60, 5, 5, 3, true},
		{"1000 sections", 5, 50, 1000, 1, 5, 5, 3, false},
		{"100 buttons", 6, 5, 3, 0, 0, 0, 100, false},
		{"everything", 7, 10_000, 1000, 60, 200, 25, 100, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewSource(tt.seed))
			r := hostileReport(rng, tt.findings, tt.sections, tt.tables, tt.rows, tt.cols, tt.next)
			text, blocks := RenderReport(r)
			checkMessage(t, text, blocks)
			if ov := OverflowTables(r); tt.wantOverflow && len(ov) == 0 {
				t.Error("nothing returned for the thread although the report cannot fit")
			}
		})
	}
	t.Run("10000 endpoints", func(t *testing.T) {
		r := assessReport()
		r.Findings = nil
		r.Tables = []probes.Table{{Title: "p95 by endpoint", Columns: []string{"Endpoint", "p95", "req/s"}, Rows: endpoints}}
		text, blocks := RenderReport(r)
		checkMessage(t, text, blocks)
		ov := OverflowTables(r)
		if len(ov) != 1 || len(ov[0].Rows) != 10_000 {
			t.Errorf("OverflowTables = %d tables, want the 10000-row table", len(ov))
		}
	})
}

func TestRenderRandomReports(t *testing.T) {
	for seed := int64(0); seed < 300; seed++ {
		rng := rand.New(rand.NewSource(seed))
		r := hostileReport(rng, rng.Intn(120), rng.Intn(30), rng.Intn(6), rng.Intn(120), rng.Intn(25), rng.Intn(30))
		text, blocks := RenderReport(r)
		checkMessage(t, text, blocks)
		sections := r.Sections
		done := rng.Intn(len(sections) + 1)
		text, blocks = RenderProgress(hostile(rng), hostile(rng), done, len(sections), sections[:done])
		checkMessage(t, text, blocks)
		if t.Failed() {
			t.Fatalf("seed %d failed", seed)
		}
	}
}

func TestRenderProgressHostile(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	r := hostileReport(rng, 0, 10_000, 0, 0, 0, 0)
	for _, done := range []int{0, 1, 5000, 10_000, 20_000, -1} {
		text, blocks := RenderProgress(hostile(rng), strings.Repeat("<!channel>", 5000), done, len(r.Sections), r.Sections[:max(0, min(done, len(r.Sections)))])
		checkMessage(t, text, blocks)
	}
}

// helpLines is n lines of help text.
func helpLines(n int) handlers.Text {
	var parts []handlers.Part
	for i := 0; i < n; i++ {
		parts = append(parts, handlers.Code("/perf db [service]"), handlers.Plain(" connections, locks, slow statements & <indexes>"), handlers.Break())
	}
	return handlers.T(parts...)
}

func TestRenderLongText(t *testing.T) {
	tests := []struct {
		name         string
		text         handlers.Text
		wantSections int
		wantCut      bool
	}{
		{"short help", helpLines(1), 1, false},
		{"help over one section", helpLines(100), 3, false},
		{"endless text", helpLines(10_000), textOnlySections, true},
		{"one endless line", handlers.T(handlers.Plain(strings.Repeat("x", 100_000))), 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, blocks := RenderReport(handlers.Report{Ephemeral: true, Text: tt.text})
			checkMessage(t, text, blocks)
			if len(blocks) != tt.wantSections {
				t.Errorf("%d sections, want %d", len(blocks), tt.wantSections)
			}
			last := blocks[len(blocks)-1].(*slack.SectionBlock).Text.Text
			if cut := strings.HasSuffix(last, "…"); cut != tt.wantCut {
				t.Errorf("last section ends %q, want cut=%v", last[max(0, len(last)-20):], tt.wantCut)
			}
		})
	}
}

func BenchmarkRenderReport(b *testing.B) {
	huge := hostileReport(rand.New(rand.NewSource(1)), 10_000, 50, 5, 1000, 8, 5)
	for name, r := range map[string]handlers.Report{"assess": assessReport(), "hostile-10000-findings": huge} {
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				RenderReport(r)
			}
		})
	}
}

// TestRenderAcceptedByServer posts rendered messages through the slack-go client to the local
// Slack server, which answers like Slack (invalid_blocks, msg_too_long, only_one_table_allowed).
func TestRenderAcceptedByServer(t *testing.T) {
	srv := slackserver.NewTestServer(t, slackserver.Options{RateLimits: slackserver.RateLimits{Disabled: true}})
	api := slack.New(srv.BotToken(), slack.OptionAPIURL(srv.APIURL()))
	channel := srv.AddChannel("perf-render")
	rng := rand.New(rand.NewSource(42))
	reports := map[string]handlers.Report{
		"assess":  assessReport(),
		"hostile": hostileReport(rng, 10_000, 100, 10, 500, 25, 40),
		"usage":   {Ephemeral: true, Text: repeatText(3000, handlers.Code("/perf help"), handlers.Plain(" "), handlers.Data("<!channel>"), handlers.Break())},
		"incident": {Text: handlers.T(handlers.IconIncident, handlers.Plain("Incident #3 "), handlers.Bold("checkout *slow*"), handlers.Plain(" opened by "),
			handlers.User("U0ALICE"), handlers.Plain(" in "), handlers.Channel("C0INC"), handlers.Plain(" for "), handlers.Group("S0SRE"),
			handlers.Plain(": "), handlers.Link("https://grafana.example/d?a=1&b=2", "dashboard"))},
		"no data":  {Title: "Assessment", Status: probes.Unknown, Headline: "No probe could look."},
		"only tab": {Tables: []probes.Table{{Title: "t", Columns: []string{"a"}, Rows: [][]string{{"<@U1>"}}}}},
	}
	t.Run("control: the server rejects what Slack rejects", func(t *testing.T) {
		_, blocks := RenderReport(assessReport())
		_, _, err := api.PostMessage(channel, slack.MsgOptionBlocks(append(blocks, blocks[2])...))
		if err == nil || !strings.Contains(err.Error(), "invalid_attachments") {
			t.Fatalf("two tables: err = %v, want invalid_attachments (only_one_table_allowed)", err)
		}
	})
	for name, r := range reports {
		t.Run(name, func(t *testing.T) {
			text, blocks := RenderProgress(r.Command, r.Service, 1, 9, r.Sections[:min(1, len(r.Sections))])
			_, ts, err := api.PostMessage(channel, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
			if err != nil {
				t.Fatalf("chat.postMessage of the progress message: %v", err)
			}
			text, blocks = RenderReport(r)
			if _, _, _, err := api.UpdateMessage(channel, ts, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...)); err != nil {
				t.Fatalf("chat.update with the report: %v", err)
			}
			msg, ok := srv.Message(channel, ts)
			if !ok || !strings.Contains(string(msg.Blocks), `"type":"section"`) {
				t.Errorf("server does not show the updated report: %+v", msg)
			}
		})
	}
}

// TestAStepThatChangesSomethingIsConfirmed: a next step with a question (Open incident) gets
// Slack's confirm dialog, the others none.
func TestAStepThatChangesSomethingIsConfirmed(t *testing.T) {
	r := handlers.Report{Title: "Assessment of agentic-studio", Headline: "OK", Next: []handlers.NextStep{
		{Label: "Logs", Command: "/perf logs agentic-studio"},
		{Label: "Open incident", Command: "/perf incident open agentic-studio degraded", Confirm: "Open an incident? This pages on-call."}}}
	text, blocks := RenderReport(r)
	checkMessage(t, text, blocks)
	var buttons []*slack.ButtonBlockElement
	for _, b := range blocks {
		if a, ok := b.(*slack.ActionBlock); ok {
			for _, e := range a.Elements.ElementSet {
				if btn, ok := e.(*slack.ButtonBlockElement); ok {
					buttons = append(buttons, btn)
				}
			}
		}
	}
	if len(buttons) != 2 {
		t.Fatalf("%d buttons, want 2", len(buttons))
	}
	if buttons[0].Confirm != nil {
		t.Errorf("Logs asks for confirmation: %+v", buttons[0].Confirm)
	}
	if c := buttons[1].Confirm; c == nil || c.Text.Text != "Open an incident? This pages on-call." || c.Deny.Text != "Cancel" {
		t.Errorf("Open incident confirm = %+v", c)
	}
}

// TestReportNamesWhoAsked: in a shared channel a report says who ran it, as a mention; an ID that is
// not a user's is not shown.
func TestReportNamesWhoAsked(t *testing.T) {
	rep := handlers.Report{Command: "/perf api", Title: "API", Status: probes.OK, Headline: "OK: fine.",
		Sections: []handlers.Section{{Title: "latency", Duration: 40 * time.Millisecond}}, Elapsed: 50 * time.Millisecond}
	rep.AskedBy = "U0ASKER1"
	_, blocks := RenderReport(rep)
	raw, _ := json.Marshal(blocks)
	if !strings.Contains(string(raw), `asked by \u003c@U0ASKER1\u003e`) {
		t.Errorf("report does not say who asked: %s", raw)
	}
	rep.AskedBy = "<!channel>"
	_, blocks = RenderReport(rep)
	raw, _ = json.Marshal(blocks)
	if strings.Contains(string(raw), "asked by") || strings.Contains(string(raw), "<!channel>") {
		t.Errorf("a malformed asker reached the message: %s", raw)
	}
}
