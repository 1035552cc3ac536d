package actions

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/internal/textfmt"
)

// clockBatch bounds how many requests one tick expires, recovers or announces.
const clockBatch = 50

// SetMessage records where the bot posted request id's approval message, so the clock can update
// it in place when it decides the request's outcome.
func (s *Service) SetMessage(ctx context.Context, id, channel, ts string) error {
	uid, err := uuid.Parse(id)
	if err != nil {
		return errs.NotFoundf("no action request %q", id)
	}
	if err := s.store.setMessage(ctx, uid, channel, ts); errors.Is(err, pgx.ErrNoRows) {
		return errs.NotFoundf("no action request %s", id)
	} else if err != nil {
		return err
	}
	return nil
}

// Expire marks pending requests past their expiry as expired (claimed with FOR UPDATE SKIP LOCKED,
// so replicas split them), records each in the audit trail in the same transaction, and then tells
// each: its approval message is updated in place (buttons gone, "expired") and the incident timeline
// records it. It returns the requests it expired. Approve and Deny refuse an expired request even
// before the clock gets to it.
func (s *Service) Expire(ctx context.Context) ([]Request, error) {
	var out []Request
	for {
		batch, err := s.store.expireDue(ctx, s.now().UTC(), clockBatch)
		if err != nil {
			return out, err
		}
		for _, r := range batch {
			s.log.Info("action expired", "request", r.ID, "action", string(r.Spec.Kind), "incident", r.IncidentRef)
		}
		out = append(out, batch...)
		if len(batch) < clockBatch {
			break
		}
	}
	return out, s.Announce(ctx)
}

// Recover decides the outcome of every executing request whose lease lapsed (the process running
// it stopped): the target is read again and the outcome follows from what is there (replicas as
// requested: succeeded; an index valid: succeeded, invalid: dropped and failed; a build still
// running: asked again later). Each outcome is stored with its event, then told like an expiry.
// It returns the requests it decided.
func (s *Service) Recover(ctx context.Context) ([]Request, error) {
	var out []Request
	for range clockBatch {
		r, st, found, err := s.store.settleLapsed(ctx, s.now().UTC(), s.instance, s.leaseTTL, s.settle)
		if err != nil {
			return out, err
		}
		if !found {
			break
		}
		if st.decided {
			s.log.Warn("action recovered after its process stopped", "request", r.ID, "action", string(r.Spec.Kind),
				"status", string(st.status), "result", st.result)
			out = append(out, r)
		}
	}
	return out, s.Announce(ctx)
}

// settle reads what became of a request whose process stopped. A target it cannot read now
// (unreachable, or an error it does not know) is asked again later; one it may no longer touch
// (no longer allowed, gone) fails the request.
func (s *Service) settle(ctx context.Context, r Request) settlement {
	ctx, cancel := context.WithTimeout(ctx, s.verifyTimeout)
	defer cancel()
	a, _, err := s.build(ctx, r.Spec)
	var st settlement
	if err == nil {
		if sa, ok := a.(settler); ok {
			st, err = sa.settle(ctx, r)
		} else {
			err = fmt.Errorf("the %s action cannot be checked", r.Spec.Kind)
		}
	}
	switch {
	case err == nil:
		return st
	case errs.KindOf(err) == errs.Internal || errs.KindOf(err) == errs.Unavailable:
		s.log.Warn("recover action: the target cannot be read now; trying again later", "request", r.ID, "err", err)
		return settlement{}
	}
	return failed("its outcome cannot be checked: %s", errs.UserMessage(err, r.ID))
}

// Announce tells the outcomes the clock decided and has not told yet (claimed with FOR UPDATE SKIP
// LOCKED): the incident timeline records each, and its approval message is updated in place. An
// outcome that cannot be told is tried again a minute later, at most maxAnnounceTries times.
func (s *Service) Announce(ctx context.Context) error {
	for {
		batch, err := s.store.claimAnnouncements(ctx, s.now().UTC(), clockBatch)
		if err != nil {
			return err
		}
		for _, a := range batch {
			s.announce(ctx, a)
		}
		if len(batch) < clockBatch {
			return nil
		}
	}
}

func (s *Service) announce(ctx context.Context, a announcement) {
	r := a.r
	var errs []error
	if s.recorder != nil {
		e := Event{At: s.now(), RequestID: r.ID, Kind: outcomeEvent(r.Status), Summary: r.Plan.Summary, Detail: r.Result}
		if e.Summary == "" {
			e.Summary = r.Spec.Summary()
		}
		if r.Status == StatusExpired {
			e.Detail = "nobody approved it before " + r.ExpiresAt.Format(time.RFC3339)
		}
		if err := s.recorder.Record(ctx, r.IncidentRef, e); err != nil {
			errs = append(errs, fmt.Errorf("timeline: %w", err))
		}
	}
	if s.messages != nil {
		mctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		if err := s.messages.ShowRequest(mctx, r); err != nil {
			errs = append(errs, fmt.Errorf("approval message: %w", err))
		}
		cancel()
	}
	if err := errors.Join(errs...); err != nil && !a.last {
		s.log.Warn("announce action outcome; trying again later", "request", r.ID, "status", string(r.Status), "err", err)
		return
	} else if err != nil {
		s.log.Error("announce action outcome: giving up", "request", r.ID, "status", string(r.Status), "err", err)
	}
	// Told is told, even when the clock is stopping: mark it so nobody tells it again.
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.store.announced(mctx, r.ID); err != nil {
		s.log.Warn("mark action outcome announced", "request", r.ID, "err", err)
	}
}

// Tick runs the clock once: expiry, lease recovery, and outcomes still to tell.
func (s *Service) Tick(ctx context.Context) error {
	_, eerr := s.Expire(ctx)
	_, rerr := s.Recover(ctx)
	return errors.Join(eerr, rerr)
}

// RunClock ticks every interval until ctx ends. Run one per process; replicas split the work.
func (s *Service) RunClock(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		interval = 5 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("action clock", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Shutdown stops new approvals and waits for the requests this process is running, until they
// finish or ctx ends. When ctx ends first it returns ctx's error and leaves them to lease recovery:
// whatever they still do is not recorded, and their leases lapse, so another replica (or this one
// when it starts again) reads what became of them from the targets. Either way nothing is half-recorded.
func (s *Service) Shutdown(ctx context.Context) error {
	s.stopping.Store(true)
	select {
	case <-s.inflight.idle():
		return nil
	case <-ctx.Done():
		s.abandoned.Store(true)
		s.log.Warn("shutdown: actions still running are left to lease recovery", "running", s.inflight.count(),
			"lease", textfmt.Seconds(s.leaseTTL.Seconds()))
		return ctx.Err()
	}
}

// inflight counts running requests and tells when none is left.
type inflight struct {
	mu   sync.Mutex
	n    int
	zero chan struct{} // closed when n drops to zero
}

func (f *inflight) add() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == 0 {
		f.zero = make(chan struct{})
	}
	f.n++
}

func (f *inflight) done() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n--
	if f.n == 0 {
		close(f.zero)
	}
}

func (f *inflight) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

// idle is closed once nothing is running.
func (f *inflight) idle() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == 0 {
		c := make(chan struct{})
		close(c)
		return c
	}
	return f.zero
}
