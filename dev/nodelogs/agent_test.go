package nodelogs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// adminClient connects to the stack's API server (`scripts/kube up`).
func adminClient(t *testing.T) kubernetes.Interface {
	t.Helper()
	dir := os.Getenv("PERFBOT_STACK_DIR")
	if dir == "" {
		dir, _ = filepath.Abs(filepath.Join("..", "..", ".stack"))
	}
	path := filepath.Join(dir, "kube", "admin.kubeconfig")
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatalf("no usable %s: start the local control plane with `scripts/kube up` first (%v)", path, err)
	}
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestAgentSync binds, starts and finally deletes a pod on the real API server, as a kubelet would.
func TestAgentSync(t *testing.T) {
	c := adminClient(t)
	ctx := context.Background()
	b := make([]byte, 4)
	rand.Read(b)
	ns := "nodelogs-test-" + hex.EncodeToString(b)
	if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	t.Cleanup(func() { c.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "app-1"}, Spec: corev1.PodSpec{
		AutomountServiceAccountToken: ptr(false),
		Containers:                   []corev1.Container{{Name: "app", Image: "agentic-studio:1.0.0"}}}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := c.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
		if err == nil {
			break
		}
		if time.Now().After(deadline) { // the default ServiceAccount appears a moment after the namespace
			t.Fatalf("create pod: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	a := &Agent{Client: c, Node: "studio-node-1", Address: "127.0.0.1", Port: 18250,
		Namespaces: []string{ns}, Now: time.Now, Log: slog.New(slog.DiscardHandler)}
	if err := a.Sync(ctx); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	got, err := c.CoreV1().Pods(ns).Get(ctx, "app-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Spec.NodeName != "studio-node-1" || got.Status.Phase != corev1.PodRunning ||
		len(got.Status.ContainerStatuses) != 1 || !got.Status.ContainerStatuses[0].Ready {
		t.Fatalf("after Sync: node %q phase %s statuses %+v", got.Spec.NodeName, got.Status.Phase, got.Status.ContainerStatuses)
	}
	names, err := a.PodNames(ctx, ns)
	if err != nil || len(names) != 1 || names[0] != "app-1" {
		t.Errorf("PodNames = %v, %v", names, err)
	}
	if err := c.CoreV1().Pods(ns).Delete(ctx, "app-1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := a.Sync(ctx); err != nil {
		t.Fatalf("Sync after delete: %v", err)
	}
	if _, err := c.CoreV1().Pods(ns).Get(ctx, "app-1", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("pod still there after the agent finished its deletion: %v", err)
	}
}
