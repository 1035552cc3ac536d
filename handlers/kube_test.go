package handlers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/perfbot/perfbot/app"
	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/dev/studiosim"
	"github.com/perfbot/perfbot/handlers"
	"github.com/perfbot/perfbot/internal/stacktest"
	"github.com/perfbot/perfbot/probes"
)

// kubeScene makes a namespace with a two-replica Deployment, rolled out to a new image, one pod
// OOMKilled with restarts and a Warning event about it, on the real API server.
func kubeScene(t *testing.T, c kubernetes.Interface) (ns string) {
	t.Helper()
	ctx := context.Background()
	ns = "perfbot-handlers-" + stacktest.RandomSuffix()
	if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
	stacktest.Eventually(t, 30*time.Second, 200*time.Millisecond, func() bool {
		_, err := c.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
		return err == nil
	}, "no default service account in %s", ns)
	replicas := int32(2)
	labels := map[string]string{"app": "studio"}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "studio"}, Spec: appsv1.DeploymentSpec{
		Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "agentic-studio:1.0.0"}}}}}}
	if _, err := c.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pods := func() []corev1.Pod {
		l, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=studio"})
		if err != nil {
			return nil
		}
		return l.Items
	}
	stacktest.Eventually(t, 30*time.Second, 200*time.Millisecond, func() bool { return len(pods()) == 2 }, "pods not created")
	// The rollout: a new image makes ReplicaSet revision 2. The test's own writes read the object
	// again when the controller manager wrote it in between.
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		cur, err := c.AppsV1().Deployments(ns).Get(ctx, "studio", metav1.GetOptions{})
		if err != nil {
			return err
		}
		cur.Spec.Template.Spec.Containers[0].Image = "agentic-studio:1.1.0"
		_, err = c.AppsV1().Deployments(ns).Update(ctx, cur, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	stacktest.Eventually(t, 30*time.Second, 200*time.Millisecond, func() bool {
		l, err := c.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{})
		return err == nil && len(l.Items) == 2
	}, "no second ReplicaSet")
	p := pods()[0]
	err = retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		cur, err := c.CoreV1().Pods(ns).Get(ctx, p.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		p = *cur
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse, LastTransitionTime: metav1.Now()}}
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", Image: "agentic-studio:1.1.0", RestartCount: 5,
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137,
				FinishedAt: metav1.NewTime(time.Now().Add(-time.Minute))}}}}
		_, err = c.CoreV1().Pods(ns).UpdateStatus(ctx, &p, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := metav1.Now()
	ev := &corev1.Event{ObjectMeta: metav1.ObjectMeta{GenerateName: p.Name + "."}, Type: corev1.EventTypeWarning, Reason: "BackOff",
		Message: "Back-off restarting failed container app", Count: 3, FirstTimestamp: ts, LastTimestamp: ts,
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: p.Name, UID: p.UID}}
	if _, err := c.CoreV1().Events(ns).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return ns
}

// TestAssessAndInfraShowPodsAndRecentChanges: an OOMKilled pod with restarts, a Warning event and a rollout
// ten minutes before "now" all appear in /perf assess and /perf infra, read through the real API server.
func TestAssessAndInfraShowPodsAndRecentChanges(t *testing.T) {
	admin := stacktest.KubeClient(t, "admin")
	ns := kubeScene(t, admin)
	cfg := &config.Config{Services: []config.Service{{Name: "studio", Prometheus: config.Prometheus{URL: "http://127.0.0.1:1"},
		Kubernetes: config.Kubernetes{Kubeconfig: stacktest.Kubeconfig(t, "admin"), Namespace: ns, Deployment: "studio"}}}}
	cfg.ApplyDefaults()
	cfg.Services[0].Prometheus.URL = "" // no Prometheus: only the Kubernetes checks run
	cfg.Services[0].Prometheus.Window = config.Duration(15 * time.Minute)
	later := func() time.Time { return time.Now().Add(10 * time.Minute) }
	b := app.NewBackends(cfg, later)
	t.Cleanup(b.Close)
	h := handlers.New(cfg, b, nil)
	for _, cmd := range []string{"assess", "infra"} {
		t.Run(cmd, func(t *testing.T) {
			rep, err := h.Handle(context.Background(), handlers.Request{Text: cmd})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]probes.Status{"OOMKilled": probes.Crit, "Warning events": probes.Warn}
			if cmd == "assess" && !strings.Contains(rep.Headline, "Likely cause: rollout of studio revision 2") {
				t.Errorf("assess does not tie the OOM kill a minute after the rollout to it: %s", rep.Headline)
			}
			for check, st := range want {
				var got *probes.Finding
				for i, f := range rep.Findings {
					if f.Check == check {
						got = &rep.Findings[i]
						break
					}
				}
				if got == nil || got.Status < st {
					t.Errorf("%s: finding %q = %+v, want at least %s\n%s", cmd, check, got, st, rep.Headline)
				}
			}
			if cmd == "assess" && !strings.Contains(findingMessages(rep), "agentic-studio:1.1.0") {
				t.Errorf("the rollout finding does not name the new image:\n%s", findingMessages(rep))
			}
			if rep.Status != probes.Crit || !strings.HasPrefix(rep.Headline, "CRIT") {
				t.Errorf("%s: status %s, headline %q", cmd, rep.Status, rep.Headline)
			}
		})
	}
}

func findingMessages(rep handlers.Report) string {
	var b strings.Builder
	for _, f := range rep.Findings {
		b.WriteString(f.Check + ": " + f.Message + "\n")
	}
	return b.String()
}

// TestAssessTiesABreachToTheRolloutBeforeIt: a Deployment is rolled out to a new image, then an
// endpoint slows down; /perf assess names the rollout as the likely cause of the latency.
func TestAssessTiesABreachToTheRolloutBeforeIt(t *testing.T) {
	admin := stacktest.KubeClient(t, "admin")
	ns := kubeScene(t, admin)
	sim := stacktest.StartSim(t, 15)
	prom := stacktest.StartPrometheus(t, map[string]string{"sim-rollout": sim.Addr})
	if _, err := sim.Client.Inject(context.Background(), studiosim.Fault{Kind: "latency", Endpoint: "/api/ideas", Delay: 900 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	cfg := simConfig(sim, "sim-rollout", prom.URL, false)
	cfg.Services[0].Kubernetes = config.Kubernetes{Kubeconfig: stacktest.Kubeconfig(t, "admin"), Namespace: ns, Deployment: "studio", Container: "app"}
	var rep handlers.Report
	stacktest.Eventually(t, 120*time.Second, 2*time.Second, func() bool {
		rep = assess(t, cfg)
		return strings.Contains(rep.Headline, "Likely cause: rollout of studio revision 2") && strings.Contains(rep.Headline, "/api/ideas")
	}, "the headline does not tie the latency to the rollout:\n%s", lazy(func() string { return rep.Headline + "\n" + findingMessages(rep) }))
	if rep.Findings[0].Signal != probes.SigRollout {
		t.Errorf("the rollout does not lead the findings: %+v", rep.Findings[0])
	}
}
