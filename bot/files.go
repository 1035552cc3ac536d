package bot

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/slack-go/slack"

	"github.com/perfbot/perfbot/charts"
	"github.com/perfbot/perfbot/handlers"
	"github.com/perfbot/perfbot/internal/textfmt"
	"github.com/perfbot/perfbot/probes"
)

// maxCharts bounds the chart files one report posts.
const maxCharts = 4

// postCharts renders the report's charts as PNG and uploads them into the thread (three-step upload).
func (b *Bot) postCharts(ctx context.Context, channel, threadTS string, rep handlers.Report) []handlers.PostedChart {
	var posted []handlers.PostedChart
	for i, c := range rep.Charts {
		if i == maxCharts {
			break
		}
		png, err := b.renderChart(c)
		if err != nil {
			b.log.Warn("chart render failed", "chart", c.Title, "err", err)
			continue
		}
		name := fmt.Sprintf("%s-%d.png", slug(c.Title), i+1)
		f, err := b.api.UploadFileContext(ctx, slack.UploadFileParameters{
			Reader: bytes.NewReader(png), FileSize: len(png), Filename: name, Title: textfmt.Truncate(c.Title, 250),
			Channel: channel, ThreadTimestamp: threadTS, AltTxt: textfmt.Truncate(c.Title+" chart", 1000),
		})
		if err != nil {
			b.log.Warn("chart upload failed", "chart", c.Title, "err", err)
			continue
		}
		posted = append(posted, handlers.PostedChart{Chart: c, FileID: f.ID})
	}
	return posted
}

// renderChart renders one chart as PNG, waiting for a render slot: charts render fewer at a time than
// there are cores, so the goroutine that reads and acks envelopes always finds a core free.
func (b *Bot) renderChart(c probes.Chart) ([]byte, error) {
	b.render <- struct{}{}
	defer func() { <-b.render }()
	return charts.PNG(c)
}

// postOverflow pages tables that do not fit in the message into the thread as a text file.
func (b *Bot) postOverflow(ctx context.Context, channel, threadTS string, rep handlers.Report) {
	tables := OverflowTables(rep)
	if len(tables) == 0 {
		return
	}
	var buf bytes.Buffer
	for _, t := range tables {
		fmt.Fprintf(&buf, "%s\n", t.Title)
		tw := tabwriter.NewWriter(&buf, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(t.Columns, "\t"))
		for _, r := range t.Rows {
			fmt.Fprintln(tw, strings.Join(r, "\t"))
		}
		tw.Flush()
		buf.WriteString("\n")
	}
	_, err := b.api.UploadFileContext(ctx, slack.UploadFileParameters{
		Content: buf.String(), FileSize: buf.Len(), Filename: slug(rep.Title) + "-tables.txt",
		Title: textfmt.Truncate(rep.Title+": all tables", 250), Channel: channel, ThreadTimestamp: threadTS,
	})
	if err != nil {
		b.log.Error("table file upload failed; the report's \"in the thread\" note is not kept", "channel", channel, "err", err)
	}
}

func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
		if b.Len() >= 60 {
			break
		}
	}
	out := strings.Trim(b.String(), "-")
	if out == "" {
		return "perfbot"
	}
	return out
}
