package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/perfbot/perfbot/config"
)

// rendered is one value set's objects, by kind (and the Deployment, ConfigMap and Service typed).
type rendered struct {
	all        []*unstructured.Unstructured
	deployment *appsv1.Deployment
	configMap  *corev1.ConfigMap
	service    *corev1.Service
	secret     *corev1.Secret
}

func (r rendered) kind(k string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range r.all {
		if o.GetKind() == k {
			out = append(out, o)
		}
	}
	return out
}

func renderTyped(t *testing.T, values string) rendered {
	t.Helper()
	r := rendered{all: render(t, "perfbot", "agentic-studio", values)}
	for _, o := range r.all {
		var into any
		switch o.GetKind() {
		case "Deployment":
			r.deployment = &appsv1.Deployment{}
			into = r.deployment
		case "ConfigMap":
			r.configMap = &corev1.ConfigMap{}
			into = r.configMap
		case "Service":
			r.service = &corev1.Service{}
			into = r.service
		case "Secret":
			r.secret = &corev1.Secret{}
			into = r.secret
		default:
			continue
		}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, into); err != nil {
			t.Fatalf("%s: %v", o.GetKind(), err)
		}
	}
	if r.deployment == nil || r.configMap == nil || r.service == nil {
		t.Fatal("the chart did not render a Deployment, ConfigMap and Service")
	}
	return r
}

// TestChartConfigAndSecrets: with each value set, the perfbot.yaml the chart ships validates,
// every ${VAR} it reads is set from the Secret, every key read from the Secret is in the Secret
// the chart creates (or optional), and the Deployment runs perfbot as the chart's ServiceAccount.
func TestChartConfigAndSecrets(t *testing.T) {
	for name, values := range valueSets {
		t.Run(name, func(t *testing.T) {
			r := renderTyped(t, values)
			spec := r.deployment.Spec.Template.Spec
			c := spec.Containers[0]
			env := map[string]string{}
			for _, e := range c.Env {
				ref := e.ValueFrom.SecretKeyRef
				if ref == nil {
					t.Errorf("%s is not read from a Secret", e.Name)
					continue
				}
				env[e.Name] = map[string]string{"SLACK_APP_TOKEN": "xapp-1", "SLACK_BOT_TOKEN": "xoxb-1"}[e.Name]
				if env[e.Name] == "" {
					env[e.Name] = "postgres://x@db/" + strings.ToLower(e.Name)
				}
				if r.secret != nil {
					if ref.Name != r.secret.Name {
						t.Errorf("%s reads Secret %q; the chart creates %q", e.Name, ref.Name, r.secret.Name)
					}
					if _, ok := r.secret.StringData[ref.Key]; !ok && (ref.Optional == nil || !*ref.Optional) {
						t.Errorf("%s needs key %q, which the created Secret lacks", e.Name, ref.Key)
					}
				}
			}
			raw := r.configMap.Data["perfbot.yaml"]
			for _, m := range regexp.MustCompile(`\$\{([A-Z0-9_]+)\}`).FindAllStringSubmatch(raw, -1) {
				if _, ok := env[m[1]]; !ok {
					t.Errorf("perfbot.yaml reads ${%s}, which the container's environment does not set", m[1])
				}
			}
			cfg, err := config.Parse([]byte(raw), func(k string) string { return env[k] })
			if err != nil {
				t.Fatalf("shipped perfbot.yaml: %v", err)
			}
			if err := cfg.Validate(); err != nil {
				t.Errorf("shipped perfbot.yaml does not validate: %v", err)
			}
			if !strings.HasSuffix(cfg.HTTP.Listen, ":"+strconv.Itoa(int(c.Ports[0].ContainerPort))) {
				t.Errorf("http.listen %s is not the container port %d", cfg.HTTP.Listen, c.Ports[0].ContainerPort)
			}
			if sa := r.kind("ServiceAccount"); len(sa) != 1 || spec.ServiceAccountName != sa[0].GetName() {
				t.Errorf("the pod runs as %q, not the chart's ServiceAccount", spec.ServiceAccountName)
			}
			if spec.AutomountServiceAccountToken == nil || !*spec.AutomountServiceAccountToken {
				t.Error("the pod needs its ServiceAccount token for the API server")
			}
			if !strings.Contains(strings.Join(c.Args, " "), "-config /etc/perfbot/perfbot.yaml") || c.Args[len(c.Args)-1] != "run" {
				t.Errorf("container args %v", c.Args)
			}
		})
	}
}

// TestChartDeploymentIsHardened: replicas, anti-affinity, PodDisruptionBudget, non-root with a
// read-only root filesystem, requests and limits, and /healthz (liveness) apart from /readyz (readiness).
func TestChartDeploymentIsHardened(t *testing.T) {
	for name, values := range valueSets {
		t.Run(name, func(t *testing.T) {
			r := renderTyped(t, values)
			d := r.deployment
			replicas := *d.Spec.Replicas
			if name == "default" && replicas != 2 {
				t.Errorf("default replicas %d, want 2", replicas)
			}
			spec := d.Spec.Template.Spec
			c := spec.Containers[0]
			psc, sc := spec.SecurityContext, c.SecurityContext
			if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
				t.Errorf("pod security context %+v: want non-root with a non-zero user", psc)
			}
			if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil ||
				*sc.AllowPrivilegeEscalation || sc.Capabilities == nil || len(sc.Capabilities.Drop) == 0 {
				t.Errorf("container security context %+v: want a read-only root filesystem, no privilege escalation, capabilities dropped", sc)
			}
			for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if _, ok := c.Resources.Requests[res]; !ok {
					t.Errorf("no %s request", res)
				}
				if _, ok := c.Resources.Limits[res]; !ok {
					t.Errorf("no %s limit", res)
				}
			}
			if p := c.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/readyz" {
				t.Errorf("readiness probe %+v, want GET /readyz", p)
			}
			if p := c.LivenessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" {
				t.Errorf("liveness probe %+v, want GET /healthz", p)
			}
			if a := spec.Affinity; a == nil || a.PodAntiAffinity == nil {
				t.Error("no pod anti-affinity: replicas may land on one node")
			}
			pdbs := r.kind("PodDisruptionBudget")
			if replicas > 1 && len(pdbs) != 1 {
				t.Errorf("%d replicas and %d PodDisruptionBudgets", replicas, len(pdbs))
			}
			if replicas == 1 && len(pdbs) != 0 {
				t.Error("a PodDisruptionBudget for one replica would block every node drain")
			}
			if got := r.service.Spec.Ports[0].TargetPort.String(); got != c.Ports[0].Name {
				t.Errorf("the Service targets %q, the container's port is %q", got, c.Ports[0].Name)
			}
			for k, v := range r.service.Spec.Selector {
				if d.Spec.Template.Labels[k] != v {
					t.Errorf("the Service selects %s=%s, which the pods do not carry", k, v)
				}
			}
		})
	}
}

// TestHelmMonitoringObjects: the ServiceMonitor scrapes the Service's port, the PrometheusRule
// holds the runbook's rules with the configured windows and passes promtool, and the
// AlertmanagerConfig sends to perfbot's webhook with the token from the Secret.
func TestHelmMonitoringObjects(t *testing.T) {
	r := renderTyped(t, valueSets["created-secret-monitoring"])
	sms, rules, amcs := r.kind("ServiceMonitor"), r.kind("PrometheusRule"), r.kind("AlertmanagerConfig")
	if len(sms) != 1 || len(rules) != 1 || len(amcs) != 1 {
		t.Fatalf("ServiceMonitors %d, PrometheusRules %d, AlertmanagerConfigs %d; want one each", len(sms), len(rules), len(amcs))
	}
	var port string
	eps, _, _ := unstructured.NestedSlice(sms[0].Object, "spec", "endpoints")
	if len(eps) == 1 {
		port, _ = eps[0].(map[string]any)["port"].(string)
	}
	if port != r.service.Spec.Ports[0].Name {
		t.Errorf("the ServiceMonitor scrapes port %q; the Service's is %q", port, r.service.Spec.Ports[0].Name)
	}
	sel, _, _ := unstructured.NestedStringMap(sms[0].Object, "spec", "selector", "matchLabels")
	for k, v := range sel {
		if r.service.Labels[k] != v {
			t.Errorf("the ServiceMonitor selects %s=%s, which the Service does not carry", k, v)
		}
	}
	groups, _, _ := unstructured.NestedSlice(rules[0].Object, "spec", "groups")
	raw, err := yaml.Marshal(map[string]any{"groups": groups})
	if err != nil {
		t.Fatal(err)
	}
	if s := string(raw); !strings.Contains(s, "[10m]") || strings.Contains(s, "[30s]") || !strings.Contains(s, "for: 10m") {
		t.Errorf("the PrometheusRule does not use the configured 10m window:\n%s", s)
	}
	if !strings.Contains(string(raw), "{{ $labels.endpoint }}") {
		t.Error("Prometheus's own templates in the annotations were changed")
	}
	if promtool, err := exec.LookPath("promtool"); err == nil {
		f := filepath.Join(t.TempDir(), "rules.yml")
		if err := os.WriteFile(f, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(promtool, "check", "rules", f).CombinedOutput(); err != nil {
			t.Errorf("promtool check rules: %v\n%s", err, out)
		}
	} else {
		t.Log("promtool is not installed (scripts/stack installs it): rules checked for shape only")
	}
	wh, _, _ := unstructured.NestedSlice(amcs[0].Object, "spec", "receivers")
	body, _ := yaml.Marshal(wh)
	for _, want := range []string{"url: http://perfbot.agentic-studio.svc:18081/alertmanager", "name: " + r.secret.Name, "key: alertmanager-token"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the AlertmanagerConfig receiver lacks %q:\n%s", want, body)
		}
	}
}
