package actions

import (
	"context"
	"fmt"

	"k8s.io/client-go/kubernetes"
)

// buildRollout binds a rollback or restart to its Deployment; both wait actions.rollout_wait for
// the new pods.
func (s *Service) buildRollout(spec Spec) action {
	wait := s.cfg.Actions.RolloutWait.D()
	if wait <= 0 {
		wait = s.verifyTimeout
	}
	if spec.Kind == Rollback {
		return &rollbackAction{kube: s.kube, spec: spec, timeout: wait}
	}
	return &restartAction{kube: s.kube, spec: spec, timeout: wait, memory: s.memory, now: s.now}
}

// pin records the revisions the request showed: approval rolls back to exactly that revision, and
// recovery knows which revision the Deployment started from.
func (a *rollbackAction) pin(spec Spec) Spec {
	spec.Revision, spec.FromRevision = a.to, a.from
	return spec
}

// pin records the revision the restart starts from, for recovery.
func (a *restartAction) pin(spec Spec) Spec {
	spec.FromRevision = a.before.revision
	return spec
}

// settle: a rollback took effect when the Deployment rolled out a revision after the one it started from.
func (a *rollbackAction) settle(ctx context.Context, _ Request) (settlement, error) {
	return settleRollout(ctx, a.kube, a.spec)
}

// settle: a restart took effect when the Deployment rolled out a revision after the one it started from.
func (a *restartAction) settle(ctx context.Context, _ Request) (settlement, error) {
	return settleRollout(ctx, a.kube, a.spec)
}

func settleRollout(ctx context.Context, kube kubernetes.Interface, spec Spec) (settlement, error) {
	ns, name := spec.Namespace, spec.Deployment
	d, err := readDeployment(ctx, kube, ns, name)
	if err != nil {
		return settlement{}, err
	}
	st := stateOf(d)
	if spec.FromRevision > 0 && st.revision > spec.FromRevision {
		return succeeded("%s/%s moved from revision %d to %s", ns, name, spec.FromRevision, st), nil
	}
	return failed("%s/%s is still at revision %d: the %s did not take effect; ask again", ns, name, st.revision,
		fmt.Sprint(spec.Kind)), nil
}
