package bot

import (
	"testing"

	"github.com/perfbot/perfbot/handlers"
	"github.com/perfbot/perfbot/probes"
)

// FuzzRenderReport: whatever a backend or a user puts in a report, the rendered message stays
// within Slack's Block Kit limits (checkMessage) and rendering never panics.
func FuzzRenderReport(f *testing.F) {
	for _, s := range []string{"", "<!channel>", "*bold* _it_ `code` ~s~", "<@U0ALICE|x>", "\xff\xfe", "🔥\u200d🔥", "a\nb\r\n\tc"} {
		f.Add(s, s, s, uint8(3))
	}
	f.Fuzz(func(t *testing.T, headline, message, cell string, n uint8) {
		r := handlers.Report{Command: "/perf assess", Title: "Assessment of " + cell, Status: probes.Crit, Headline: headline}
		for i := 0; i < int(n%40); i++ {
			r.Findings = append(r.Findings, probes.Finding{Check: cell, Status: probes.Status(i % 4), Subject: message, Message: message, Value: float64(i), Unit: cell})
			r.Sections = append(r.Sections, handlers.Section{Probe: cell, Title: cell, Status: probes.Warn, Summary: message, Err: headline})
		}
		r.Tables = append(r.Tables, probes.Table{Title: cell, Columns: []string{cell, message}, Rows: [][]string{{message, headline}}})
		r.Next = []handlers.NextStep{{Label: cell, Command: "/perf db " + message}}
		text, blocks := RenderReport(r)
		checkMessage(t, text, blocks)
		r.Ephemeral, r.Findings, r.Sections, r.Tables = true, nil, nil, nil
		r.Headline, r.Text = "", handlers.T(handlers.Plain(headline), handlers.Data(message), handlers.Who(cell), handlers.Code(message))
		text, blocks = RenderReport(r)
		checkMessage(t, text, blocks)
	})
}
