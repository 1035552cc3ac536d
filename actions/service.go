package actions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"k8s.io/client-go/kubernetes"

	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/errs"
)

// Options is what a Service needs. State is required; Kube and DB only for the actions that use them.
type Options struct {
	Config *config.Config
	// State is perfbot's own database, where requests live (run Migrate on it first).
	State *pgxpool.Pool
	// Kube reaches the cluster for scale and limits.
	Kube kubernetes.Interface
	// DB is the service's database for analyze, index and cancel; its name must be in actions.databases.
	DB *pgxpool.Pool

	Recorder  Recorder
	Approvers Approvers
	Incidents Incidents
	// Messages updates approval messages for the outcomes the clock decides; may be nil.
	Messages Messages
	Log      *slog.Logger
	// Now and NewID default to time.Now and uuid.New.
	Now   func() time.Time
	NewID func() uuid.UUID
	// VerifyTimeout bounds how long verification waits for a change to be reported (default 20s).
	VerifyTimeout time.Duration
	// PodMemory reads pod memory for a restart's before and after (default: the metrics API through Kube).
	PodMemory PodMemory
	// Instance names this process as the owner of the leases on the requests it runs (default host:pid:random).
	Instance string
	// LeaseTTL is how long a running request's lease holds unless renewed (default 30s); a process
	// that stops is noticed that long after its last renewal.
	LeaseTTL time.Duration
}

// Service validates, stores, approves and runs action requests. It is safe for concurrent use, and any
// number of Services (in any number of processes) may share one state database.
type Service struct {
	cfg           *config.Config
	store         *store
	kube          kubernetes.Interface
	db            *pgxpool.Pool
	memory        PodMemory
	recorder      Recorder
	approvers     Approvers
	incidents     Incidents
	messages      Messages
	log           *slog.Logger
	now           func() time.Time
	newID         func() uuid.UUID
	verifyTimeout time.Duration
	instance      string
	leaseTTL      time.Duration

	// inflight counts the requests this process is running. stopping refuses new approvals once
	// Shutdown began; abandoned is set when it stopped waiting, so that what running requests still
	// do is left to lease recovery, not recorded.
	inflight  inflight
	stopping  atomic.Bool
	abandoned atomic.Bool
}

// New returns a Service; it does not touch the network.
func New(o Options) (*Service, error) {
	if o.Config == nil || o.State == nil {
		return nil, errors.New("actions: Config and State are required")
	}
	s := &Service{cfg: o.Config, store: &store{pool: o.State}, kube: o.Kube, db: o.DB,
		recorder: o.Recorder, approvers: o.Approvers, incidents: o.Incidents, messages: o.Messages, log: o.Log,
		now: o.Now, newID: o.NewID, verifyTimeout: o.VerifyTimeout, instance: o.Instance, leaseTTL: o.LeaseTTL,
		memory: o.PodMemory}
	if s.memory == nil && o.Kube != nil {
		s.memory = MetricsAPI{Kube: o.Kube}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.newID == nil {
		s.newID = uuid.New
	}
	if s.verifyTimeout <= 0 {
		s.verifyTimeout = 20 * time.Second
	}
	if s.instance == "" {
		host, _ := os.Hostname()
		s.instance = fmt.Sprintf("%s:%d:%s", host, os.Getpid(), uuid.NewString()[:8])
	}
	if s.leaseTTL <= 0 {
		s.leaseTTL = 30 * time.Second
	}
	return s, nil
}

// Request validates spec against the allow-list and the live state, dry-runs it, and stores a pending
// request that expires after actions.expiry. The returned Request carries the Plan to show approvers.
func (s *Service) Request(ctx context.Context, requester, channel string, spec Spec) (Request, error) {
	return s.RequestOnce(ctx, "", requester, channel, spec)
}

// requestKeys derives a request's ID from the key of the command that asked for it.
var requestKeys = uuid.MustParse("8f0b6d0e-5d1c-4f43-9a57-2f1f0c3b7a10")

// RequestOnce is Request for a command named by key: the same command run again (after a restart)
// gets the request the first run created, never a second one. An empty key is a new request.
func (s *Service) RequestOnce(ctx context.Context, key, requester, channel string, spec Spec) (Request, error) {
	if key != "" {
		if r, err := s.store.get(ctx, uuid.NewSHA1(requestKeys, []byte(key))); err == nil {
			return r, nil
		}
	}
	if requester == "" {
		return Request{}, errs.Invalidf("a request needs a requester")
	}
	a, spec, err := s.build(ctx, spec)
	if err != nil {
		return Request{}, err
	}
	plan, err := a.plan(ctx)
	if err != nil {
		return Request{}, err
	}
	if p, ok := a.(pinner); ok {
		spec = p.pin(spec)
	}
	now := s.now().UTC()
	id := s.newID()
	if key != "" {
		id = uuid.NewSHA1(requestKeys, []byte(key))
	}
	r := Request{ID: id.String(), Spec: spec, RequestedBy: requester, Channel: channel,
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.Actions.Expiry.D()), Status: StatusPending, Plan: plan}
	if s.incidents != nil && channel != "" {
		if r.IncidentRef, err = s.incidents.IncidentFor(ctx, channel); err != nil {
			s.log.Warn("find incident for action request", "channel", channel, "err", err)
		}
	}
	if err := s.store.insert(ctx, r); err != nil {
		return Request{}, err
	}
	s.record(ctx, r, EventRequested, requester, plan.Text())
	return r, nil
}

// Get returns a stored request; an unknown or malformed id is errs.NotFound.
func (s *Service) Get(ctx context.Context, id string) (Request, error) {
	uid, err := uuid.Parse(id)
	if err != nil {
		return Request{}, errs.NotFoundf("no action request %q", id)
	}
	r, err := s.store.get(ctx, uid)
	if errors.Is(err, pgx.ErrNoRows) {
		return Request{}, errs.NotFoundf("no action request %s", id)
	}
	return r, err
}

// Events returns a request's audit trail (requested, approved, executed, ...), oldest first.
func (s *Service) Events(ctx context.Context, id string) ([]Event, error) {
	r, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.store.events(ctx, uuid.MustParse(r.ID))
}

// Approve lets approver approve request id and, if this call wins the one conditional UPDATE from
// pending to executing, runs the action, verifies it and stores the outcome before returning. The
// requester cannot approve (Forbidden), nor can anyone not allowed to (Forbidden); a request that is
// expired, denied, or already running or done is a Conflict. A failed action is returned as a Request
// with StatusFailed and a nil error: the approval itself succeeded. The action runs under its kind's
// deadline (actions.deadlines), not under ctx: a caller that goes away does not stop it halfway. It
// holds a lease on the request while it runs; if this process stops, Recover decides the outcome.
func (s *Service) Approve(ctx context.Context, id, approver string) (Request, error) {
	r, err := s.Get(ctx, id)
	if err != nil {
		return Request{}, err
	}
	if err := s.mayApprove(ctx, r, approver); err != nil {
		s.record(ctx, r, EventRefused, approver, err.Error())
		return r, err
	}
	s.inflight.add()
	defer s.inflight.done()
	if s.stopping.Load() {
		return r, errs.Unavailablef("perfbot is shutting down; approve again in a moment")
	}
	now := s.now().UTC()
	deadline := s.deadline(r.Spec.Kind)
	claimed, ok, err := s.store.claim(ctx, uuid.MustParse(r.ID), approver, now, s.instance, now.Add(s.leaseTTL), now.Add(deadline))
	if err != nil {
		return r, err
	}
	if !ok {
		return s.notPending(ctx, r.ID, now)
	}
	s.record(ctx, claimed, EventApproved, approver, "")
	return s.run(ctx, claimed, deadline)
}

// Deny closes a pending request without running it. The requester (withdrawing it) and anyone who may
// approve can deny; others get Forbidden, and a request no longer pending is a Conflict.
func (s *Service) Deny(ctx context.Context, id, user string) (Request, error) {
	r, err := s.Get(ctx, id)
	if err != nil {
		return Request{}, err
	}
	if user != r.RequestedBy {
		if err := s.mayApprove(ctx, r, user); err != nil {
			return r, errs.Forbiddenf("only the requester or an approver can deny this request")
		}
	}
	now := s.now().UTC()
	denied, ok, err := s.store.deny(ctx, uuid.MustParse(r.ID), user, now)
	if err != nil {
		return r, err
	}
	if !ok {
		return s.notPending(ctx, r.ID, now)
	}
	s.record(ctx, denied, EventDenied, user, "")
	return denied, nil
}

// mayApprove applies the approval rules that do not depend on the request's state.
func (s *Service) mayApprove(ctx context.Context, r Request, user string) error {
	if user == "" {
		return errs.Invalidf("an approval needs an approver")
	}
	if user == r.RequestedBy {
		return errs.Forbiddenf("you requested this change; someone else must approve it (%s)", s.WhoMayApprove())
	}
	if slices.Contains(s.cfg.Actions.Approvers, user) {
		return nil
	}
	if s.approvers != nil {
		ok, err := s.approvers.IsApprover(ctx, user)
		if err != nil {
			return fmt.Errorf("check whether %s may approve: %w", user, err)
		}
		if ok {
			return nil
		}
	}
	return errs.Forbiddenf("you may not approve changes; %s", s.WhoMayApprove())
}

// WhoMayApprove says in words who may approve, e.g. "approvers are [U1 U2] and members of group S1",
// for approval messages and refusals.
func (s *Service) WhoMayApprove() string {
	a := s.cfg.Actions
	switch {
	case len(a.Approvers) > 0 && a.ApproverGroup != "":
		return fmt.Sprintf("approvers are %v and members of group %s", a.Approvers, a.ApproverGroup)
	case len(a.Approvers) > 0:
		return fmt.Sprintf("approvers are %v", a.Approvers)
	case a.ApproverGroup != "":
		return fmt.Sprintf("approvers are members of group %s", a.ApproverGroup)
	}
	return "no approvers are configured (actions.approvers)"
}

// notPending explains why a request could not be claimed or denied: it is done, denied or expired.
func (s *Service) notPending(ctx context.Context, id string, now time.Time) (Request, error) {
	r, err := s.Get(ctx, id)
	if err != nil {
		return Request{}, err
	}
	switch r.Status {
	case StatusPending:
		if !r.ExpiresAt.After(now) {
			return r, errs.Conflictf("this request expired at %s; ask again", r.ExpiresAt.Format(time.RFC3339))
		}
		return r, errs.Conflictf("this request changed while you clicked; try again")
	case StatusExpired:
		return r, errs.Conflictf("this request expired at %s; ask again", r.ExpiresAt.Format(time.RFC3339))
	case StatusDenied:
		return r, errs.Conflictf("this request was denied by %s", r.DeniedBy)
	case StatusExecuting:
		return r, errs.Conflictf("this request was already approved by %s and is running", r.ApprovedBy)
	default:
		return r, errs.Conflictf("this request was already approved by %s and has %s", r.ApprovedBy, r.Status)
	}
}

// run executes a claimed request under its deadline, verifies it and stores the outcome, renewing
// its lease meanwhile. Only the claimer calls it. When Shutdown stopped waiting for it, what it
// would record is left to lease recovery instead: the pools may be closing under it.
func (s *Service) run(ctx context.Context, r Request, deadline time.Duration) (Request, error) {
	ctx, cancel := context.WithTimeoutCause(context.WithoutCancel(ctx), deadline,
		errs.Conflictf("stopped at its deadline of %s (actions.deadlines.%s)", deadline, r.Spec.Kind))
	defer cancel()
	stopRenewing := s.keepLease(ctx, r.ID)
	status, result := StatusSucceeded, ""
	a, _, err := s.build(ctx, r.Spec)
	if err == nil {
		var now Plan
		now, err = a.plan(ctx) // re-read the live state: it may have moved since the request
		if err == nil {
			err = changedSince(r.Spec.Kind, r.Plan, now)
		}
	}
	var executed string
	if err == nil {
		executed, err = a.execute(ctx)
	}
	if err == nil {
		s.record(ctx, r, EventExecuted, r.ApprovedBy, executed)
		var verified string
		verified, err = a.verify(ctx)
		result = joinLines(executed, verified)
		if err == nil {
			var numbers []Number
			if n, ok := a.(numberer); ok {
				numbers = n.numbers()
			}
			s.recordNumbers(ctx, r, EventVerified, "", verified, numbers)
		}
	}
	stopRenewing()
	if s.abandoned.Load() {
		s.log.Warn("action outcome left to lease recovery: shutdown stopped waiting for it", "request", r.ID, "err", err)
		return r, errs.Unavailablef("perfbot shut down while this ran; its outcome will be read from the target and posted")
	}
	if err != nil {
		if cause := context.Cause(ctx); cause != nil && ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", cause, err)
		}
		status, result = StatusFailed, joinLines(executed, "failed: "+errs.UserMessage(err, r.ID))
		s.record(ctx, r, EventFailed, "", err.Error())
	}
	// The outcome must be stored even when the deadline has passed.
	done, ok, ferr := s.store.finish(context.WithoutCancel(ctx), r.ID, s.instance, status, result, s.now().UTC())
	if ferr != nil {
		return r, ferr
	}
	if !ok { // the lease lapsed and recovery decided meanwhile: what it stored stands
		s.log.Warn("action outcome already decided by lease recovery", "request", r.ID, "status", status)
		return s.Get(context.WithoutCancel(ctx), r.ID)
	}
	return done, nil
}

// keepLease renews this process's lease on request id every third of the lease's life until the
// returned stop is called (which waits for the renewer to end) or shutdown abandons the request.
func (s *Service) keepLease(ctx context.Context, id string) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(s.leaseTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
			}
			if s.abandoned.Load() {
				return
			}
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.leaseTTL/3)
			ok, err := s.store.renew(rctx, id, s.instance, s.now().UTC().Add(s.leaseTTL))
			cancel()
			if err != nil {
				s.log.Warn("renew action lease", "request", id, "err", err)
			} else if !ok {
				s.log.Warn("action lease lost: another process recovered this request", "request", id)
				return
			}
		}
	}()
	return func() { close(quit); <-done }
}

// deadline is how long an action of kind may run: actions.deadlines, else the built-in default.
func (s *Service) deadline(kind Kind) time.Duration {
	if d := s.cfg.Actions.Deadlines[string(kind)].D(); d > 0 {
		return d
	}
	if d := config.DefaultActionDeadlines[string(kind)].D(); d > 0 {
		return d
	}
	return 10 * time.Minute
}

func joinLines(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "\n" + b
}
