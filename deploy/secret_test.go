package deploy_test

import (
	"os"
	"regexp"
	"slices"
	"sort"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// TestPerfbotSecretKeysAreDocumented: the Secret the header tells people to create holds every
// key the Deployment needs (a missing one is CreateContainerConfigError), and every ${VAR} the
// shipped configuration reads is set in the container's environment (an unset one reads as empty).
func TestPerfbotSecretKeysAreDocumented(t *testing.T) {
	raw, err := os.ReadFile("kubernetes/perfbot.yaml")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	var secretName string
	for _, m := range regexp.MustCompile(`(?m)^#.*create secret generic (\S+)`).FindAllStringSubmatch(string(raw), -1) {
		secretName = m[1]
	}
	for _, m := range regexp.MustCompile(`--from-literal=([a-z0-9-]+)=`).FindAllStringSubmatch(string(raw), -1) {
		documented[m[1]] = true
	}
	var cm *corev1.ConfigMap
	var env []corev1.EnvVar
	for _, o := range decodeAll(t, "kubernetes/perfbot.yaml") {
		switch o := o.(type) {
		case *corev1.ConfigMap:
			cm = o
		case *appsv1.Deployment:
			env = o.Spec.Template.Spec.Containers[0].Env
		}
	}
	set := map[string]bool{}
	for _, e := range env {
		set[e.Name] = true
		ref := e.ValueFrom.SecretKeyRef
		if ref == nil {
			continue
		}
		if ref.Name != secretName {
			t.Errorf("%s reads Secret %q; the header creates %q", e.Name, ref.Name, secretName)
		}
		if !documented[ref.Key] && (ref.Optional == nil || !*ref.Optional) {
			t.Errorf("%s needs key %q of Secret %s, which the header's create command leaves out", e.Name, ref.Key, ref.Name)
		}
	}
	var missing []string
	for _, m := range regexp.MustCompile(`\$\{([A-Z0-9_]+)\}`).FindAllStringSubmatch(cm.Data["perfbot.yaml"], -1) {
		if !set[m[1]] && !slices.Contains(missing, m[1]) {
			missing = append(missing, m[1])
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("the configuration reads %v, which the container's environment does not set", missing)
	}
}
