package deploy_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/perfbot/perfbot/internal/stacktest"
)

// access is one request perfbot's ServiceAccount may or may not make.
type access struct {
	verb, group, resource, sub, ns, name string
}

func (a access) String() string {
	r := a.resource
	if a.sub != "" {
		r += "/" + a.sub
	}
	if a.group != "" {
		r += "." + a.group
	}
	if a.name != "" {
		r += " " + a.name
	}
	return fmt.Sprintf("%s %s in %s", a.verb, r, a.ns)
}

// TestChartRBACIsLeastPrivilege renders the chart watching two fresh namespaces, creates its
// ServiceAccount, Roles and RoleBindings on the stack's real API server, and asks the API server
// (SelfSubjectAccessReview, impersonating the rendered ServiceAccount) what perfbot may do: what
// its probes read and its actions change is allowed, and nothing more: no Secrets, no deletes, no
// other Deployment, nothing outside the watched namespaces. SelfSubjectRulesReview lists every
// rule it holds in each namespace, which must be exactly those.
func TestChartRBACIsLeastPrivilege(t *testing.T) {
	admin := stacktest.KubeClient(t, "admin")
	ctx := context.Background()
	suffix := stacktest.RandomSuffix()
	home, other, unwatched := "perfbot-helm-"+suffix, "perfbot-helm-apps-"+suffix, "perfbot-helm-none-"+suffix
	for _, ns := range []string{home, other, unwatched} {
		if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = admin.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
	}
	objs := render(t, "perfbot", home, "", "watch[0].namespace="+home, "watch[0].deployments={web}",
		"watch[1].namespace="+other, "watch[1].deployments={api,worker}")
	var sa string
	for _, o := range objs {
		var err error
		switch o.GetKind() {
		case "ServiceAccount":
			var v corev1.ServiceAccount
			must(t, runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &v))
			sa = v.Name
			_, err = admin.CoreV1().ServiceAccounts(v.Namespace).Create(ctx, &v, metav1.CreateOptions{})
		case "Role":
			var v rbacv1.Role
			must(t, runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &v))
			_, err = admin.RbacV1().Roles(v.Namespace).Create(ctx, &v, metav1.CreateOptions{})
		case "RoleBinding":
			var v rbacv1.RoleBinding
			must(t, runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &v))
			_, err = admin.RbacV1().RoleBindings(v.Namespace).Create(ctx, &v, metav1.CreateOptions{})
		}
		if err != nil {
			t.Fatalf("create %s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
	bot := impersonate(t, home, sa)

	read := func(ns string) []access {
		var out []access
		for _, r := range []struct{ group, resource, sub string }{{"", "pods", ""}, {"", "pods", "log"}, {"", "events", ""},
			{"", "configmaps", ""}, {"events.k8s.io", "events", ""}, {"apps", "deployments", ""}, {"apps", "replicasets", ""},
			{"autoscaling", "horizontalpodautoscalers", ""}} {
			for _, verb := range []string{"get", "list", "watch"} {
				out = append(out, access{verb, r.group, r.resource, r.sub, ns, ""})
			}
		}
		return append(out, access{"get", "metrics.k8s.io", "pods", "", ns, ""}, access{"list", "metrics.k8s.io", "pods", "", ns, ""})
	}
	change := func(ns, deploy string) []access {
		return []access{{"get", "apps", "deployments", "scale", ns, deploy}, {"update", "apps", "deployments", "scale", ns, deploy},
			{"patch", "apps", "deployments", "scale", ns, deploy}, {"patch", "apps", "deployments", "", ns, deploy}}
	}
	allowed := append(append(read(home), read(other)...), change(home, "web")...)
	allowed = append(append(allowed, change(other, "api")...), change(other, "worker")...)
	denied := []access{
		{"get", "", "secrets", "", home, ""}, {"list", "", "secrets", "", other, ""}, {"watch", "", "secrets", "", home, ""},
		{"delete", "", "pods", "", home, ""}, {"create", "", "pods", "", home, ""}, {"create", "", "pods", "exec", home, ""},
		{"update", "apps", "deployments", "", home, "web"}, {"delete", "apps", "deployments", "", home, "web"},
		{"create", "apps", "deployments", "", home, ""}, {"patch", "apps", "deployments", "", home, "api"},
		{"patch", "apps", "deployments", "scale", home, "api"}, {"patch", "apps", "deployments", "", other, "web"},
		{"update", "apps", "deployments", "scale", other, "other"}, {"patch", "apps", "deployments", "", home, ""},
		{"update", "", "configmaps", "", home, ""}, {"patch", "apps", "replicasets", "", home, ""},
		{"create", "", "serviceaccounts", "token", home, sa}, {"list", "", "nodes", "", "", ""}, {"list", "", "namespaces", "", "", ""},
		{"list", "", "pods", "", unwatched, ""}, {"get", "", "pods", "log", unwatched, ""}, {"patch", "apps", "deployments", "scale", unwatched, "web"},
		{"list", "", "pods", "", "", ""}, // all namespaces
		{"escalate", "rbac.authorization.k8s.io", "roles", "", home, ""}, {"bind", "rbac.authorization.k8s.io", "roles", "", home, ""},
	}
	for _, a := range allowed {
		if !can(t, bot, a) {
			t.Errorf("perfbot may not %s; its probes or actions need it", a)
		}
	}
	for _, a := range denied {
		if can(t, bot, a) {
			t.Errorf("perfbot may %s; it must not", a)
		}
	}

	// Nothing more: every resource rule the account holds in each namespace is one of these.
	wantRules := map[string][]string{
		home:      {"apps deployments [web] patch", "apps deployments/scale [web] get,patch,update"},
		other:     {"apps deployments [api worker] patch", "apps deployments/scale [api worker] get,patch,update"},
		unwatched: nil,
	}
	common := []string{" configmaps,events,pods,pods/log [] get,list,watch", "apps deployments,replicasets [] get,list,watch",
		"autoscaling horizontalpodautoscalers [] get,list,watch", "events.k8s.io events [] get,list,watch", "metrics.k8s.io pods [] get,list"}
	for ns, want := range wantRules {
		if ns != unwatched {
			want = append(want, common...)
		}
		sort.Strings(want)
		got := rulesIn(t, bot, ns)
		if !slices.Equal(got, want) {
			t.Errorf("perfbot's rules in %s:\n  %s\nwant:\n  %s", ns, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// impersonate is a client for the stack's API server acting as ServiceAccount ns/name.
func impersonate(t *testing.T, ns, name string) kubernetes.Interface {
	t.Helper()
	rc, err := clientcmd.BuildConfigFromFlags("", stacktest.Kubeconfig(t, "admin"))
	if err != nil {
		t.Fatal(err)
	}
	rc.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + ns + ":" + name,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}}
	c, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func can(t *testing.T, c kubernetes.Interface, a access) bool {
	t.Helper()
	r, err := c.AuthorizationV1().SelfSubjectAccessReviews().Create(context.Background(), &authzv1.SelfSubjectAccessReview{
		Spec: authzv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authzv1.ResourceAttributes{
			Namespace: a.ns, Verb: a.verb, Group: a.group, Resource: a.resource, Subresource: a.sub, Name: a.name}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("SelfSubjectAccessReview %s: %v", a, err)
	}
	return r.Status.Allowed
}

// rulesIn lists the account's resource rules in ns as "group resources [names] verbs", leaving out
// what every authenticated user holds (reviewing its own access).
func rulesIn(t *testing.T, c kubernetes.Interface, ns string) []string {
	t.Helper()
	r, err := c.AuthorizationV1().SelfSubjectRulesReviews().Create(context.Background(), &authzv1.SelfSubjectRulesReview{
		Spec: authzv1.SelfSubjectRulesReviewSpec{Namespace: ns}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, rule := range r.Status.ResourceRules {
		if slices.Contains(rule.APIGroups, "authorization.k8s.io") || slices.Contains(rule.APIGroups, "authentication.k8s.io") {
			continue
		}
		res, verbs, names := slices.Clone(rule.Resources), slices.Clone(rule.Verbs), slices.Clone(rule.ResourceNames)
		sort.Strings(res)
		sort.Strings(verbs)
		sort.Strings(names)
		out = append(out, fmt.Sprintf("%s %s %v %s", strings.Join(rule.APIGroups, ","), strings.Join(res, ","), names, strings.Join(verbs, ",")))
	}
	sort.Strings(out)
	return out
}
