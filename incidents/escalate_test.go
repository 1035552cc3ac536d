package incidents

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/perfbot/perfbot/errs"
)

// gatedPager counts pages like countingPager, but each page first signals entered and then waits
// until release is closed, so a test can act while a page is in flight.
type gatedPager struct {
	*countingPager
	entered chan struct{}
	release chan struct{}
}

func newGatedPager() gatedPager {
	return gatedPager{countingPager: newPager(), entered: make(chan struct{}, 8), release: make(chan struct{})}
}

func (p gatedPager) Page(ctx context.Context, inc Incident, l Level) error {
	p.entered <- struct{}{}
	select {
	case <-p.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return p.countingPager.Page(ctx, inc, l)
}

// TestManualEscalateWhileLevelIsBeingPaged: while level 2 is being paged (by the clock or by
// another person), a manual escalate is refused at once instead of waiting and then paging
// level 3 as well.
func TestManualEscalateWhileLevelIsBeingPaged(t *testing.T) {
	for _, tc := range []struct {
		name  string
		first func(st *Store, id uuid.UUID, p Pager) error // pages level 2 through p
	}{
		{"clock pages level 2", func(st *Store, _ uuid.UUID, p Pager) error {
			n, err := st.FireDue(context.Background(), t0.Add(31*time.Minute), "clock", p)
			if err == nil && n != 1 {
				err = fmt.Errorf("FireDue fired %d, want 1", n)
			}
			return err
		}},
		{"another person escalates", func(st *Store, id uuid.UUID, p Pager) error {
			e, err := st.Escalate(context.Background(), id, "U1FIRST", p)
			if err == nil && e.Level.Number != 2 {
				err = fmt.Errorf("first Escalate fired level %d, want 2", e.Level.Number)
			}
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, clock := newStore(t, Options{})
			inc := openN(t, st, 1)[0]
			if _, err := st.FireDue(context.Background(), clock.Now(), "clock", newPager()); err != nil {
				t.Fatal(err) // level 1 at open
			}
			clock.Set(t0.Add(31 * time.Minute))
			gate := newGatedPager()
			done := make(chan error, 1)
			go func() { done <- tc.first(st, inc.ID, gate) }()
			<-gate.entered // level 2's page is in flight, its row locked

			second := newPager()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := st.Escalate(ctx, inc.ID, "U2SECOND", second)
			if errs.KindOf(err) != errs.Conflict || ctx.Err() != nil {
				t.Errorf("Escalate during level 2's page: %v (waited: %v), want an immediate Conflict", err, ctx.Err())
			} else if want := "level 2 is being paged right now"; !strings.Contains(err.Error(), want) {
				t.Errorf("Escalate error %q lacks %q", err, want)
			}
			close(gate.release)
			if err := <-done; err != nil {
				t.Fatalf("first caller: %v", err)
			}
			esc, _ := st.Escalations(context.Background(), inc.ID)
			key := func(l int) string { return fmt.Sprintf("%d/L%d", inc.Number, l) }
			if gate.count(key(2)) != 1 || second.total() != 0 || !esc[2].FiredAt.IsZero() {
				t.Errorf("pages %v and %v, level 3 fired at %v; want level 2 paged once, level 3 not", gate.pages, second.pages, esc[2].FiredAt)
			}
			// Once the page is done, escalating again goes to level 3, as asked.
			if e, err := st.Escalate(context.Background(), inc.ID, "U2SECOND", second); err != nil || e.Level.Number != 3 {
				t.Errorf("Escalate after the page = level %d, %v; want 3", e.Level.Number, err)
			}
		})
	}
}
