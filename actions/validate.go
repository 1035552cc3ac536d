package actions

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/errs"
)

// build checks spec against the configuration (the allow-lists) and binds it to its target. It returns
// the spec completed with defaults (namespace from the allow-list, schema public).
func (s *Service) build(ctx context.Context, spec Spec) (action, Spec, error) {
	if err := spec.check(); err != nil {
		return nil, spec, err
	}
	if !slices.Contains(s.cfg.Actions.Allowed, string(spec.Kind)) {
		return nil, spec, errs.Forbiddenf("the %s action is not enabled here; enabled actions: %s",
			spec.Kind, listOrNone(s.cfg.Actions.Allowed, "none (configure actions.allowed)"))
	}
	switch spec.Kind {
	case Scale, Limits, Rollback, Restart:
		return s.buildKube(spec)
	default:
		return s.buildDB(ctx, spec)
	}
}

func (s *Service) buildKube(spec Spec) (action, Spec, error) {
	d, err := s.deployment(spec.Namespace, spec.Deployment)
	if err != nil {
		return nil, spec, err
	}
	spec.Namespace = d.Namespace
	if s.kube == nil {
		return nil, spec, errs.Unavailablef("Kubernetes is not configured for actions")
	}
	if spec.Kind == Scale {
		if spec.Replicas < d.MinReplicas || spec.Replicas > d.MaxReplicas {
			return nil, spec, errs.Invalidf("%d replicas is outside the allowed range for %s/%s: %d to %d",
				spec.Replicas, d.Namespace, d.Name, d.MinReplicas, d.MaxReplicas)
		}
		return &scaleAction{kube: s.kube, spec: spec, timeout: s.verifyTimeout}, spec, nil
	}
	if spec.Kind == Rollback || spec.Kind == Restart {
		return s.buildRollout(spec), spec, nil
	}
	return &limitsAction{kube: s.kube, spec: spec, container: s.container(d)}, spec, nil
}

// deployment finds the allow-list entry for ns/name; ns may be empty when the name is unambiguous.
func (s *Service) deployment(ns, name string) (config.DeploymentLimit, error) {
	var found []config.DeploymentLimit
	for _, d := range s.cfg.Actions.Deployments {
		if d.Name == name && (ns == "" || d.Namespace == ns) {
			found = append(found, d)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		target := name
		if ns != "" {
			target = ns + "/" + name
		}
		return config.DeploymentLimit{}, errs.Forbiddenf("deployment %s is not on the allow-list; actions may change: %s",
			target, s.allowedDeployments())
	}
	return config.DeploymentLimit{}, errs.Invalidf("deployment %s exists in several namespaces; name it as <namespace>/%s: %s",
		name, name, s.allowedDeployments())
}

func (s *Service) allowedDeployments() string {
	var out []string
	for _, d := range s.cfg.Actions.Deployments {
		out = append(out, fmt.Sprintf("%s/%s (%d–%d replicas)", d.Namespace, d.Name, d.MinReplicas, d.MaxReplicas))
	}
	return listOrNone(out, "none (configure actions.deployments)")
}

// container is the container limits patches: the one a service configures for this deployment, else "app".
func (s *Service) container(d config.DeploymentLimit) string {
	for _, svc := range s.cfg.Services {
		k := svc.Kubernetes
		if k.Namespace == d.Namespace && k.Deployment == d.Name && k.Container != "" {
			return k.Container
		}
	}
	return "app"
}

func (s *Service) buildDB(ctx context.Context, spec Spec) (action, Spec, error) {
	if s.db == nil {
		return nil, spec, errs.Unavailablef("no database is configured for actions")
	}
	var name string
	if err := s.db.QueryRow(ctx, "SELECT current_database()").Scan(&name); err != nil {
		return nil, spec, errs.Unavailablef("the database cannot be reached: %v", err)
	}
	if !slices.Contains(s.cfg.Actions.Databases, name) {
		return nil, spec, errs.Forbiddenf("database %s is not on the allow-list; actions may change: %s",
			name, listOrNone(s.cfg.Actions.Databases, "none (configure actions.databases)"))
	}
	switch spec.Kind {
	case Analyze, Index:
		if spec.Schema == "" {
			spec.Schema = "public"
		}
		return &tableAction{db: s.db, spec: spec, timeout: s.verifyTimeout}, spec, nil
	case ExplainAnalyze:
		return s.buildExplainAnalyze(spec), spec, nil
	default:
		return &cancelAction{db: s.db, state: s.store.pool, spec: spec, databases: s.cfg.Actions.Databases,
			timeout: s.verifyTimeout}, spec, nil
	}
}

func listOrNone(items []string, none string) string {
	if len(items) == 0 {
		return none
	}
	return strings.Join(items, ", ")
}
