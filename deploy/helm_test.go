package deploy_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/perfbot/perfbot/internal/stacktest"
)

const chartDir = "helm/perfbot"

// valueSets are the value files every chart test renders: the defaults and the chart's ci/ sets.
var valueSets = map[string]string{
	"default":                   "",
	"watch-three-namespaces":    "helm/perfbot/ci/watch-three-namespaces-values.yaml",
	"created-secret-monitoring": "helm/perfbot/ci/created-secret-monitoring-values.yaml",
}

// helmBin is Helm from scripts/helm (built from the Go module proxy on first use, then cached).
func helmBin(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("../scripts/helm", "path").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("scripts/helm path: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("scripts/helm path: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(helmBin(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String() + stderr.String(), err
	}
	return stdout.String(), nil
}

// render is `helm template` of the chart as release in namespace with a values file (may be "") and --set flags.
func render(t *testing.T, release, namespace, values string, set ...string) []*unstructured.Unstructured {
	t.Helper()
	args := []string{"template", release, chartDir, "--namespace", namespace}
	if values != "" {
		args = append(args, "-f", values)
	}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	out, err := helm(t, args...)
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return decodeRendered(t, out)
}

func decodeRendered(t *testing.T, out string) []*unstructured.Unstructured {
	t.Helper()
	r := utilyaml.NewYAMLReader(bufioReader([]byte(out)))
	var objs []*unstructured.Unstructured
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objs
		}
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		if err := utilyaml.Unmarshal(doc, &u.Object); err != nil {
			t.Fatalf("rendered document does not parse: %v\n%s", err, doc)
		}
		if len(u.Object) == 0 {
			continue
		}
		objs = append(objs, u)
	}
}

// TestHelmLint: the chart lints (strict) with each value set, and values.schema.json turns a wrong
// value into an install-time error that names it.
func TestHelmLint(t *testing.T) {
	for name, values := range valueSets {
		args := []string{"lint", "--strict", chartDir}
		if values != "" {
			args = append(args, "-f", values)
		}
		if out, err := helm(t, args...); err != nil {
			t.Errorf("helm lint (%s): %v\n%s", name, err, out)
		}
	}
	for _, tc := range []struct{ set, want string }{
		{"replicaCount=two", "/replicaCount"},
		{"replicaCount=0", "/replicaCount"},
		{"logFormat=xml", "/logFormat"},
		{"watch[0].namespace=Agentic_Studio", "/watch/0/namespace"},
		{"antiAffinity=always", "/antiAffinity"},
		{"service.port=70000", "/service/port"},
		{"replicas=2", "replicas"}, // a misspelt key is refused, not ignored
		{"secret.create=true", "secret.values.alertmanager-token is needed"},
	} {
		out, err := helm(t, "template", "perfbot", chartDir, "--set", tc.set)
		if err == nil || !strings.Contains(out, tc.want) {
			t.Errorf("helm template --set %s: err=%v, want an error naming %q; got:\n%s", tc.set, err, tc.want, firstLines(out, 5))
		}
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}

// TestHelmTemplateServerDryRun: each value set renders, and the stack's real API server accepts
// every object with a server-side apply under dryRun=All (nothing is changed). Kinds the server
// does not serve (prometheus-operator's, in a cluster without it) are checked by
// TestHelmMonitoringObjects instead.
func TestHelmTemplateServerDryRun(t *testing.T) {
	rc, err := clientcmd.BuildConfigFromFlags("", stacktest.Kubeconfig(t, "admin"))
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	ctx := context.Background()
	for name, values := range valueSets {
		t.Run(name, func(t *testing.T) {
			objs := render(t, "perfbot", "agentic-studio", values)
			applied := map[string]int{}
			for _, o := range objs {
				gvk := o.GroupVersionKind()
				m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
				if err != nil {
					if gvk.Group == "monitoring.coreos.com" {
						t.Logf("%s %s: the API server does not serve %s; checked without it", gvk.Kind, o.GetName(), gvk.Group)
						continue
					}
					t.Errorf("%s %s: %v", gvk.Kind, o.GetName(), err)
					continue
				}
				_, err = dyn.Resource(m.Resource).Namespace(o.GetNamespace()).Apply(ctx, o.GetName(), o,
					metav1.ApplyOptions{FieldManager: "perfbot-helm-test", Force: true, DryRun: []string{metav1.DryRunAll}})
				if err != nil {
					t.Errorf("API server rejected %s %s/%s: %v", gvk.Kind, o.GetNamespace(), o.GetName(), err)
					continue
				}
				applied[gvk.Kind]++
			}
			want := []string{"ServiceAccount", "Role", "RoleBinding", "ConfigMap", "Deployment", "Service"}
			for _, k := range want {
				if applied[k] == 0 {
					t.Errorf("no %s was rendered and accepted (accepted: %v)", k, applied)
				}
			}
			t.Logf("accepted under dryRun=All: %v", applied)
		})
	}
}

// TestRawManifestsAreGeneratedFromTheChart: deploy/kubernetes's perfbot files are what
// `scripts/helm manifests` writes from the chart today.
func TestRawManifestsAreGeneratedFromTheChart(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("../scripts/helm", "manifests")
	cmd.Env = append(os.Environ(), "PERFBOT_MANIFESTS_DIR="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/helm manifests: %v\n%s", err, out)
	}
	for _, f := range []string{"perfbot.yaml", "perfbot-rbac.yaml"} {
		want, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("kubernetes", f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("deploy/kubernetes/%s differs from the chart's rendering: run scripts/helm manifests", f)
		}
	}
}

// TestChartAlertRulesAreTheStacks: the chart's PrometheusRule reads the same rules file the
// local stack's Prometheus evaluates.
func TestChartAlertRulesAreTheStacks(t *testing.T) {
	chart, err := os.ReadFile(filepath.Join(chartDir, "files", "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	stack, err := os.ReadFile("prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(chart, stack) {
		t.Error("deploy/helm/perfbot/files/alerts.yml differs from deploy/prometheus/alerts.yml: copy it over")
	}
}

func isNotFound(err error) bool { return apierrors.IsNotFound(err) }
