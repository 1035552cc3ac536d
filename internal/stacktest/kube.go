package stacktest

import (
	"os"
	"path/filepath"
	"testing"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// StackDir is the local stack's state directory: $PERFBOT_STACK_DIR, or .stack at the repository root.
func StackDir(t testing.TB) string {
	if d := os.Getenv("PERFBOT_STACK_DIR"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, ".stack")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// Kubeconfig returns the path of the local control plane's kubeconfig ("admin" or "perfbot").
func Kubeconfig(t testing.TB, name string) string {
	p := filepath.Join(StackDir(t), "kube", name+".kubeconfig")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("no %s: start the local control plane with scripts/stack up (or scripts/kube up) first", p)
	}
	return p
}

// KubeClient returns a client for the local control plane as "admin" or "perfbot".
func KubeClient(t testing.TB, name string) kubernetes.Interface {
	rc, err := clientcmd.BuildConfigFromFlags("", Kubeconfig(t, name))
	if err != nil {
		t.Fatal(err)
	}
	c, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
