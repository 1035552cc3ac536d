package slackserver_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/perfbot/perfbot/dev/slackserver"
)

// reportPercentiles adds p50 and p99 of the samples to the benchmark output.
func reportPercentiles(b *testing.B, samples []time.Duration) {
	if len(samples) == 0 {
		return
	}
	slices.Sort(samples)
	at := func(q float64) float64 {
		return float64(samples[int(q*float64(len(samples)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// BenchmarkPostMessage measures a chat.postMessage round trip through slack-go,
// with a typical report (header, sections, table, buttons) validated by the server.
func BenchmarkPostMessage(b *testing.B) {
	srv := slackserver.NewTestServer(b, slackserver.Options{RateLimits: slackserver.RateLimits{Disabled: true}})
	_, ch := workspace(srv)
	api, ctx := newAPI(srv), context.Background()
	rows := make([][]slack.TableCell, 10)
	for i := range rows {
		rows[i] = []slack.TableCell{slack.NewTableRawTextCell("p95 latency"), slack.NewTableRawTextCell("812 ms"), slack.NewTableRawTextCell("500 ms")}
	}
	tbl := slack.NewTableBlock("checks")
	tbl.Rows = rows
	blocks := slack.MsgOptionBlocks(
		slack.NewHeaderBlock(slack.NewTextBlockObject("plain_text", "Critical: agentic-studio", false, false)),
		slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", "*p95* 812 ms on /api/ideas", false, false), nil, nil),
		tbl,
		slack.NewActionBlock("next",
			slack.NewButtonBlockElement("db", "db", slack.NewTextBlockObject("plain_text", "DB details", false, false)),
			slack.NewButtonBlockElement("logs", "logs", slack.NewTextBlockObject("plain_text", "Logs", false, false))),
	)
	samples := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if _, _, err := api.PostMessageContext(ctx, ch, slack.MsgOptionText("report", false), blocks); err != nil {
			b.Fatal(err)
		}
		samples = append(samples, time.Since(start))
	}
	reportPercentiles(b, samples)
}

// BenchmarkEnvelopeAck measures a slash command from the server's delivery to the
// app's ack through the real socketmode client (the app acks at once).
func BenchmarkEnvelopeAck(b *testing.B) {
	srv := slackserver.NewTestServer(b)
	user, ch := workspace(srv)
	a := startApp(b, srv)
	a.ackAll(b)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := srv.SlashCommand(ctx, user, ch, "/perf", "assess"); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	var samples []time.Duration
	for _, ack := range srv.Acks() {
		samples = append(samples, ack.Latency)
	}
	reportPercentiles(b, samples)
}
