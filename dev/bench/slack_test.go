package bench

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/perfbot/perfbot/dev/slackserver"
)

// timing is one /perf command from the moment the local Slack server sent it.
type timing struct {
	ack, placeholder, final, charts time.Duration
	channel                         string
}

// slackDriver sends commands as users of the local Slack server, each in a channel of its own, and
// times what perfbot posts there.
type slackDriver struct {
	s      *slackserver.Server
	n      atomic.Int64
	charts int // files a finished assessment has in its thread
}

func newSlackDriver() (*slackDriver, error) {
	s := slackserver.New(slackserver.Options{RateLimits: slackserver.RateLimits{Disabled: true}})
	if err := s.Start(); err != nil {
		return nil, err
	}
	return &slackDriver{s: s}, nil
}

// user adds (once) and returns the user ID of user number i.
func (d *slackDriver) user(i int) string {
	id := fmt.Sprintf("U0BENCH%04d", i)
	d.s.AddUser(id, fmt.Sprintf("user%d", i))
	return id
}

func isFinal(m slackserver.Message) bool {
	return m.ThreadTS == "" && bytes.Contains(m.Blocks, []byte(`"type":"table"`))
}

// command sends "/perf text" as user in a new channel and waits until the final report and
// d.charts files are there (want 0: only the report).
func (d *slackDriver) command(ctx context.Context, user, text string, withCharts bool) (timing, error) {
	ch := d.s.AddChannel(fmt.Sprintf("bench-%d", d.n.Add(1)))
	t := timing{channel: ch}
	start := time.Now()
	if _, err := d.s.SlashCommand(ctx, user, ch, "/perf", text); err != nil {
		return t, err
	}
	t.ack = time.Since(start)
	err := d.s.WaitFor(ctx, func() bool {
		msgs := d.s.Messages(ch)
		if t.placeholder == 0 && len(msgs) > 0 {
			t.placeholder = time.Since(start)
		}
		if t.final == 0 {
			for _, m := range msgs {
				if isFinal(m) {
					t.final = time.Since(start)
				}
			}
		}
		if t.final == 0 {
			return false
		}
		if !withCharts || d.s.FileCount(ch) >= d.charts {
			t.charts = time.Since(start)
			return true
		}
		return false
	})
	if err != nil {
		return t, fmt.Errorf("/perf %s in %s: %w", text, ch, err)
	}
	return t, nil
}

// learnCharts runs one assessment and counts the files in its thread once they stop coming.
func (d *slackDriver) learnCharts(ctx context.Context, user string) error {
	d.charts = 0
	tm, err := d.command(ctx, user, "assess", false)
	if err != nil {
		return err
	}
	ch := tm.channel
	last, stable := -1, time.Now()
	for time.Since(stable) < 3*time.Second {
		if n := d.s.FileCount(ch); n != last {
			last, stable = n, time.Now()
		}
		time.Sleep(100 * time.Millisecond)
	}
	if last <= 0 {
		return fmt.Errorf("the assessment posted no chart")
	}
	d.charts = last
	return nil
}

// storm sends "/perf assess" from n users spread over one second and returns each one's timing.
func (d *slackDriver) storm(ctx context.Context, n int, during func()) ([]timing, error) {
	users := make([]string, n)
	for i := range users {
		users[i] = d.user(1000 + i)
	}
	out := make([]timing, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(n))))
			out[i], errs[i] = d.command(ctx, users[i], "assess", true)
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	if during != nil {
		for {
			select {
			case <-done:
			case <-time.After(50 * time.Millisecond):
				during()
				continue
			}
			break
		}
	}
	<-done
	for _, err := range errs {
		if err != nil {
			return out, err
		}
	}
	return out, nil
}
