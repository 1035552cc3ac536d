package incidents

import (
	"context"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// seedTimeline bulk-loads n events of mixed kinds (a third of them commands with findings) into inc.
func seedTimeline(b *testing.B, st *Store, inc Incident, n int) {
	b.Helper()
	kinds := []Kind{KindCommand, KindNote, KindChart, KindPin, KindCommand, KindReaction, KindAlertFiring, KindActionRequested, KindActionApproved, KindActionExecuted}
	rows := make([][]any, n)
	for i := range n {
		k := kinds[i%len(kinds)]
		at := inc.OpenedAt.Add(time.Duration(i) * time.Second)
		var detail any
		switch k {
		case KindCommand:
			detail = string(JSON(CommandDetail{Command: "/perf assess", Status: "WARN", Findings: []Finding{
				{Check: "API p95 latency", Status: "CRIT", Subject: fmt.Sprintf("/api/e%d", i%40), Value: 0.5 + float64(i%9), Threshold: 0.5, Unit: "s", Message: "p95 high"},
				{Check: "Missing index candidate", Status: "WARN", Subject: fmt.Sprintf("t%d", i%7), Value: 20000, Threshold: 10000, Message: "seq scans"},
			}}))
		case KindChart:
			detail = string(JSON(ChartDetail{Title: "p95", Numbers: []Number{{Name: "p95", Unit: "s", Before: 0.2, After: float64(i % 5)}}}))
		case KindActionRequested, KindActionApproved, KindActionExecuted:
			detail = string(JSON(ActionDetail{ActionID: fmt.Sprintf("a%d", i/10), Action: "scale", Target: "d", Change: "2 → 3", RequestedBy: "U1", ApprovedBy: "U2"}))
		}
		rows[i] = []any{uuid.New(), inc.ID, string(k), at, at, fmt.Sprintf("U%d", i%12),
			fmt.Sprintf("event %d: something happened | with a pipe", i), detail, "", fmt.Sprintf("k%d", i)}
	}
	_, err := st.pool.CopyFrom(context.Background(), pgx.Identifier{"timeline_events"},
		[]string{"id", "incident_id", "kind", "occurred_at", "recorded_at", "actor", "summary", "detail", "link", "dedupe_key"},
		pgx.CopyFromRows(rows))
	if err != nil {
		b.Fatalf("seed timeline: %v", err)
	}
}

// BenchmarkPostmortem10kEvents measures generating (reading, rendering, storing) the postmortem
// of an incident whose timeline holds 10 000 events.
func BenchmarkPostmortem10kEvents(b *testing.B) {
	st, clock := newStore(b, Options{})
	ctx := context.Background()
	inc, err := st.Open(ctx, OpenParams{Title: "big incident", Service: "agentic-studio", OpenedBy: "U1"})
	if err != nil {
		b.Fatal(err)
	}
	seedTimeline(b, st, inc, 10_000)
	clock.Advance(3 * time.Hour)
	if _, err := st.Resolve(ctx, inc.ID, "U1", "root cause"); err != nil {
		b.Fatal(err)
	}
	loc, _ := time.LoadLocation("Europe/Berlin")
	b.Run("full", func(b *testing.B) {
		var size int
		cpu := cpuTime()
		for b.Loop() {
			md, err := st.Postmortem(ctx, inc.ID, loc)
			if err != nil {
				b.Fatal(err)
			}
			size = len(md)
		}
		b.ReportMetric(float64(size)/1024, "KiB")
		reportCPU(b, cpu)
	})
	b.Run("render-only", func(b *testing.B) {
		events, err := st.Timeline(ctx, inc.ID)
		if err != nil || len(events) < 10_000 {
			b.Fatalf("timeline: %d events, %v", len(events), err)
		}
		inc, _ := st.Get(ctx, inc.ID)
		cpu := cpuTime()
		for b.Loop() {
			if _, err := RenderPostmortem(inc, events, clock.Now(), loc); err != nil {
				b.Fatal(err)
			}
		}
		reportCPU(b, cpu)
	})
}

// BenchmarkRecord measures timeline write throughput: one writer, then parallel writers.
func BenchmarkRecord(b *testing.B) {
	st, _ := newStore(b, Options{NewID: uuid.New})
	ctx := context.Background()
	inc, err := st.Open(ctx, OpenParams{Title: "writes", Service: "s"})
	if err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	ev := func() Event {
		i := n.Add(1)
		return Event{Kind: KindCommand, Actor: "U1", Summary: "/perf db", DedupeKey: fmt.Sprintf("ev-%d", i),
			Detail: JSON(CommandDetail{Command: "/perf db", Findings: []Finding{{Check: "x", Status: "WARN", Message: "m"}}})}
	}
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			if ok, err := st.Record(ctx, inc.ID, ev()); err != nil || !ok {
				b.Fatal(ok, err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("parallel", func(b *testing.B) {
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if ok, err := st.Record(ctx, inc.ID, ev()); err != nil || !ok {
					b.Error(ok, err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
}

// cpuTime is this process's user+system CPU time. Reported per op next to wall time, it stays
// meaningful when other work shares the machine's cores.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}
