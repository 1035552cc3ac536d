package deploy_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/internal/stacktest"
)

func decodeAll(t *testing.T, path string) []runtime.Object {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := utilyaml.NewYAMLReader(bufioReader(raw))
	var out []runtime.Object
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if !hasContent(doc) {
			continue
		}
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(doc, nil, nil)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, obj)
	}
}

// TestPerfbotDeploymentIsAccepted applies the bot's own manifests (generated from the chart) to the
// real API server with a server-side dry run, and checks the configuration it ships is strict-valid.
func TestPerfbotDeploymentIsAccepted(t *testing.T) {
	c := stacktest.KubeClient(t, "admin")
	ctx := context.Background()
	dry := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}
	objs := decodeAll(t, "kubernetes/perfbot.yaml")
	if len(objs) != 4 {
		t.Fatalf("got %d objects, want ConfigMap, Deployment, Service, PodDisruptionBudget", len(objs))
	}
	for _, o := range objs {
		var err error
		switch o := o.(type) {
		case *corev1.ConfigMap:
			_, err = c.CoreV1().ConfigMaps(o.Namespace).Create(ctx, o, dry)
			env := map[string]string{"SLACK_APP_TOKEN": "xapp-1", "SLACK_BOT_TOKEN": "xoxb-1", "STUDIO_DATABASE_URL": "postgres://x@db/studio",
				"PERFBOT_DATABASE_URL": "postgres://x@db/perfbot", "PERFBOT_ALERTMANAGER_TOKEN": "t", "PERFBOT_POSTMORTEM_TOKEN": "p"}
			cfg, perr := config.Parse([]byte(o.Data["perfbot.yaml"]), func(k string) string { return env[k] })
			if perr != nil {
				t.Fatalf("shipped perfbot.yaml: %v", perr)
			}
			if verr := cfg.Validate(); verr != nil {
				t.Errorf("shipped perfbot.yaml does not validate: %v", verr)
			}
		case *appsv1.Deployment:
			if o.Spec.Template.Spec.ServiceAccountName != "perfbot" {
				t.Errorf("the bot must run as the least-privilege ServiceAccount perfbot")
			}
			_, err = c.AppsV1().Deployments(o.Namespace).Create(ctx, o, dry)
		case *corev1.Service:
			_, err = c.CoreV1().Services(o.Namespace).Create(ctx, o, dry)
		case *policyv1.PodDisruptionBudget:
			_, err = c.PolicyV1().PodDisruptionBudgets(o.Namespace).Create(ctx, o, dry)
		default:
			t.Errorf("unexpected object %T", o)
		}
		if err != nil {
			t.Errorf("API server rejected %T: %v", o, err)
		}
	}
}

// hasContent reports whether a YAML document holds more than comments and blank lines.
func hasContent(doc []byte) bool {
	for _, line := range bytes.Split(doc, []byte("\n")) {
		if l := bytes.TrimSpace(line); len(l) > 0 && l[0] != '#' {
			return true
		}
	}
	return false
}

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }
