package probetest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/internal/stacktest"
	"github.com/perfbot/perfbot/probes"
)

// KubeNode is the Node the stack's node log server runs as.
const KubeNode = "studio-node-1"

// KubeClient connects with one of the stack's kubeconfigs ("admin" or "perfbot") and fails the test
// when the API server does not answer.
func KubeClient(t *testing.T, who string) kubernetes.Interface {
	t.Helper()
	path := filepath.Join(stacktest.StackDir(t), "kube", who+".kubeconfig")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no %s: start the local control plane with `scripts/kube up` first (%v)", path, err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	cfg.Timeout = 10 * time.Second
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("client for %s: %v", path, err)
	}
	if _, err := c.Discovery().ServerVersion(); err != nil {
		t.Fatalf("kube-apiserver not reachable with %s (is `scripts/kube up` running?): %v", path, err)
	}
	return c
}

// KubeNamespace makes a namespace for one test, deleted when the test ends, and waits for its
// default ServiceAccount (pods cannot be created before it exists).
func KubeNamespace(t *testing.T, c kubernetes.Interface) string {
	t.Helper()
	ctx := context.Background()
	name := "perfbot-test-" + stacktest.RandomSuffix()
	if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	t.Cleanup(func() { _ = c.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{}) })
	Eventually(t, 30*time.Second, "default service account in "+name, func() bool {
		_, err := c.CoreV1().ServiceAccounts(name).Get(ctx, "default", metav1.GetOptions{})
		return err == nil
	})
	return name
}

// KubeDeployment creates a Deployment like the stack's (container "app", requests and limits,
// envFrom a ConfigMap) and waits until its ReplicaSet has created all pods.
func KubeDeployment(t *testing.T, c kubernetes.Interface, ns, name string, replicas int32) []corev1.Pod {
	t.Helper()
	ctx := context.Background()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name + "-config"}, Data: map[string]string{"LOG_LEVEL": "info"}}
	if _, err := c.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create configmap: %v", err)
	}
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: "agentic-studio:1.0.0",
					EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{
						LocalObjectReference: corev1.LocalObjectReference{Name: cm.Name}}}},
					Resources: corev1.ResourceRequirements{
						Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("256Mi")},
						Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("512Mi")},
					},
				}}},
			},
		},
	}
	if _, err := c.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create deployment: %v", err)
	}
	var pods []corev1.Pod
	Eventually(t, 30*time.Second, "pods of "+name, func() bool {
		l, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + name})
		pods = nil
		if err == nil {
			for _, p := range l.Items {
				if p.DeletionTimestamp == nil {
					pods = append(pods, p)
				}
			}
		}
		return len(pods) == int(replicas)
	})
	return pods
}

// KubeBind binds a pod to the stack's Node, as a scheduler would.
func KubeBind(t *testing.T, c kubernetes.Interface, p corev1.Pod) {
	t.Helper()
	b := &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace},
		Target: corev1.ObjectReference{Kind: "Node", Name: KubeNode}}
	if err := c.CoreV1().Pods(p.Namespace).Bind(context.Background(), b, metav1.CreateOptions{}); err != nil && !apierrors.IsConflict(err) {
		t.Fatalf("bind %s: %v", p.Name, err)
	}
}

// KubeSetStatus sets a pod's status as a kubelet would report it.
func KubeSetStatus(t *testing.T, c kubernetes.Interface, p corev1.Pod, ready bool, cs corev1.ContainerStatus) {
	t.Helper()
	ctx := context.Background()
	cur, err := c.CoreV1().Pods(p.Namespace).Get(ctx, p.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get %s: %v", p.Name, err)
	}
	now := metav1.Now()
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	cur.Status.Phase = corev1.PodRunning
	cur.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: st, LastTransitionTime: now}}
	cs.Name, cs.Image, cs.Ready = "app", "agentic-studio:1.0.0", ready
	cur.Status.ContainerStatuses = []corev1.ContainerStatus{cs}
	if _, err := c.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("set status of %s: %v", p.Name, err)
	}
}

// KubeEnv returns an Env for the service "name" deployed in ns.
func KubeEnv(c kubernetes.Interface, ns, name string) *probes.Env {
	svc := config.Default().Services[0]
	svc.Kubernetes.Namespace, svc.Kubernetes.Deployment = ns, name
	return &probes.Env{Service: svc, Now: time.Now(), Window: time.Hour, Kube: c}
}

// KubeEvent records a Warning event about a pod, last seen at `at`.
func KubeEvent(t *testing.T, c kubernetes.Interface, p corev1.Pod, reason, msg string, at time.Time) {
	t.Helper()
	ts := metav1.NewTime(at)
	e := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{GenerateName: p.Name + "."},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: p.Namespace, Name: p.Name, UID: p.UID},
		Reason:         reason, Message: msg, Type: corev1.EventTypeWarning, Count: 3,
		FirstTimestamp: ts, LastTimestamp: ts, Source: corev1.EventSource{Component: "kubelet", Host: KubeNode},
	}
	if _, err := c.CoreV1().Events(p.Namespace).Create(context.Background(), e, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create event: %v", err)
	}
}
