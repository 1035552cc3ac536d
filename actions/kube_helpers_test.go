package actions

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/retry"

	"github.com/perfbot/perfbot/config"
)

// adminKubeconfig is the local control plane's admin kubeconfig written by `scripts/kube up`.
func adminKubeconfig() string {
	dir := os.Getenv("PERFBOT_STACK_DIR")
	if dir == "" {
		dir = filepath.Join("..", ".stack")
	}
	return filepath.Join(dir, "kube", "admin.kubeconfig")
}

// kubeConfig loads the admin kubeconfig, or skips the test when the control plane is not up
// (set PERFBOT_REQUIRE_KUBE=1 to fail instead).
func kubeConfig(t testing.TB) *rest.Config {
	t.Helper()
	path := adminKubeconfig()
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err == nil {
		var cs *kubernetes.Clientset
		if cs, err = kubernetes.NewForConfig(cfg); err == nil {
			_, err = cs.Discovery().ServerVersion()
		}
	}
	if err != nil {
		if os.Getenv("PERFBOT_REQUIRE_KUBE") != "" {
			t.Fatalf("kube-apiserver via %s: %v", path, err)
		}
		t.Skipf("no kube-apiserver (run scripts/kube up): %v", err)
	}
	cfg.QPS, cfg.Burst = 200, 400
	return cfg
}

// scaleCounter counts the real (non-dry-run) scale updates a client gets the API server to apply; an
// update refused for a stale resourceVersion (409) applies nothing and is not counted.
type scaleCounter struct {
	next    http.RoundTripper
	updates *atomic.Int64
}

func (c scaleCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/scale") && !r.URL.Query().Has("dryRun") &&
		err == nil && resp.StatusCode < 300 {
		c.updates.Add(1)
	}
	return resp, err
}

// countingClient is a clientset whose real scale updates are counted in updates.
func countingClient(t testing.TB, base *rest.Config, updates *atomic.Int64) kubernetes.Interface {
	t.Helper()
	cfg := rest.CopyConfig(base)
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { return scaleCounter{next: rt, updates: updates} }
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// kubeTarget is a throwaway namespace with one Deployment (containers app and sidecar), deleted at cleanup.
type kubeTarget struct {
	cs   kubernetes.Interface
	ns   string
	name string
}

func newKubeTarget(t testing.TB, cfg *rest.Config, replicas int32) kubeTarget {
	t.Helper()
	ctx := context.Background()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	k := kubeTarget{cs: cs, ns: "actions-test-" + randomSuffix(t), name: "agentic-studio"}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: k.ns}},
		metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	t.Cleanup(func() {
		if err := cs.CoreV1().Namespaces().Delete(context.Background(), k.ns, metav1.DeleteOptions{}); err != nil {
			t.Errorf("delete namespace %s: %v", k.ns, err)
		}
	})
	labels := map[string]string{"app": k.name}
	res := corev1.ResourceRequirements{
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("512Mi")},
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
	}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: k.name, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{
					{Name: "app", Image: "agentic-studio:test", Resources: res},
					{Name: "sidecar", Image: "proxy:test", Resources: res},
				}},
			},
		},
	}
	if _, err := cs.AppsV1().Deployments(k.ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create deployment: %v", err)
	}
	return k
}

func (k kubeTarget) limit(min, max int32) config.DeploymentLimit {
	return config.DeploymentLimit{Namespace: k.ns, Name: k.name, MinReplicas: min, MaxReplicas: max}
}

// limitFor allow-lists another deployment name in the same namespace.
func (k kubeTarget) limitFor(name string, min, max int32) config.DeploymentLimit {
	l := k.limit(min, max)
	l.Name = name
	return l
}

func (k kubeTarget) deployment(t testing.TB) *appsv1.Deployment {
	t.Helper()
	d, err := k.cs.AppsV1().Deployments(k.ns).Get(context.Background(), k.name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("read deployment: %v", err)
	}
	return d
}

// waitObserved waits until the deployment controller has seen the current generation, so later
// generation counts start from a settled object.
func (k kubeTarget) waitObserved(t testing.TB) {
	t.Helper()
	for i := 0; i < 100; i++ {
		d := k.deployment(t)
		if d.Status.ObservedGeneration >= d.Generation {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Log("deployment controller did not observe the deployment (is kube-controller-manager running?)")
}

// setReplicas scales the test deployment as another writer would, retrying when the controller
// manager wrote the deployment in between.
func (k kubeTarget) setReplicas(t testing.TB, n int32) {
	t.Helper()
	ctx := context.Background()
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		sc, err := k.cs.AppsV1().Deployments(k.ns).GetScale(ctx, k.name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		sc.Spec.Replicas = n
		_, err = k.cs.AppsV1().Deployments(k.ns).UpdateScale(ctx, k.name, sc, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("scale to %d: %v", n, err)
	}
}
