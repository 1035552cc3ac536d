package kube

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/internal/probetest"
	"github.com/perfbot/perfbot/probes"
)

func TestKubePods(t *testing.T) {
	c := probetest.KubeClient(t, "admin")
	ns := probetest.KubeNamespace(t, c)
	pods := probetest.KubeDeployment(t, c, ns, "studio", 3)
	for _, p := range pods {
		probetest.KubeBind(t, c, p)
	}
	oomAt := metav1.NewTime(time.Now().Add(-2 * time.Minute))
	probetest.KubeSetStatus(t, c, pods[0], true, corev1.ContainerStatus{State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}})
	probetest.KubeSetStatus(t, c, pods[1], false, corev1.ContainerStatus{
		RestartCount: 4,
		State:        corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 40s restarting failed container"}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			Reason: "OOMKilled", ExitCode: 137, FinishedAt: oomAt}},
	})
	probetest.KubeSetStatus(t, c, pods[2], true, corev1.ContainerStatus{RestartCount: 1,
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			Reason: "Error", ExitCode: 1, FinishedAt: oomAt}},
	})
	probetest.KubeEvent(t, c, pods[1], "BackOff", "Back-off restarting failed container app", time.Now().Add(-time.Minute))
	probetest.KubeEvent(t, c, pods[0], "Unhealthy", "Readiness probe failed (old)", time.Now().Add(-3*time.Hour))

	env := probetest.KubeEnv(c, ns, "studio")
	res, err := readPods(context.Background(), env)
	if err != nil {
		t.Fatalf("readPods: %v", err)
	}
	oom := probetest.Findings(res, "OOMKilled", pods[1].Name+"/app")
	if len(oom) != 1 || oom[0].Status != probes.Crit || !strings.Contains(oom[0].Message, "4 restarts") {
		t.Errorf("OOMKilled finding = %+v, want one CRIT with 4 restarts", oom)
	}
	if f := probetest.Findings(res, "CrashLoopBackOff", pods[1].Name+"/app"); len(f) != 1 || f[0].Status != probes.Crit {
		t.Errorf("CrashLoopBackOff finding = %+v", f)
	}
	if f := probetest.Findings(res, "Restarts", pods[2].Name+"/app"); len(f) != 1 || f[0].Status != probes.Warn {
		t.Errorf("restart finding for %s = %+v", pods[2].Name, f)
	}
	if f := probetest.Findings(res, "Pods not ready", ""); len(f) != 1 || f[0].Status != probes.Warn || f[0].Value != 1 {
		t.Errorf("not-ready finding = %+v, want WARN for 1 of 3", f)
	}
	if f := probetest.Findings(res, "Warning events", "BackOff"); len(f) != 1 || !strings.Contains(f[0].Message, "Back-off restarting") {
		t.Errorf("BackOff event finding = %+v", f)
	}
	if f := probetest.Findings(res, "Warning events", "Unhealthy"); len(f) != 0 {
		t.Errorf("event older than the window reported: %+v", f)
	}
	if res.Status != probes.Crit {
		t.Errorf("status = %s, want CRIT", res.Status)
	}
}

func TestKubePodsNotReadyFraction(t *testing.T) {
	c := probetest.KubeClient(t, "admin")
	ns := probetest.KubeNamespace(t, c)
	pods := probetest.KubeDeployment(t, c, ns, "studio", 3)
	for i, p := range pods {
		probetest.KubeBind(t, c, p)
		probetest.KubeSetStatus(t, c, p, i == 0, corev1.ContainerStatus{State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}})
	}
	env := probetest.KubeEnv(c, ns, "studio")
	var res probes.Result
	probetest.Eventually(t, 30*time.Second, "deployment status to show 1 ready", func() bool {
		var err error
		res, err = readPods(context.Background(), env)
		return err == nil && len(probetest.Findings(res, "Ready replicas", "studio")) == 1 && probetest.Findings(res, "Ready replicas", "studio")[0].Value == 1
	})
	if f := probetest.Findings(res, "Pods not ready", ""); len(f) != 1 || f[0].Status != probes.Crit {
		t.Errorf("2 of 3 not ready = %+v, want CRIT", f)
	}
	if f := probetest.Findings(res, "Ready replicas", "studio"); f[0].Status != probes.Crit {
		t.Errorf("ready replicas finding = %+v, want CRIT", f)
	}
}

func TestKubeDeploymentMissing(t *testing.T) {
	c := probetest.KubeClient(t, "admin")
	ns := probetest.KubeNamespace(t, c)
	_, err := readPods(context.Background(), probetest.KubeEnv(c, ns, "nope"))
	if errs.KindOf(err) != errs.NotFound {
		t.Fatalf("err = %v, want NotFound", err)
	}
	if _, err := readPods(context.Background(), &probes.Env{}); !errors.Is(err, probes.ErrNotConfigured) {
		t.Fatalf("no client: err = %v, want ErrNotConfigured", err)
	}
}

func TestKubeChanges(t *testing.T) {
	c := probetest.KubeClient(t, "admin")
	ns := probetest.KubeNamespace(t, c)
	probetest.KubeDeployment(t, c, ns, "studio", 1)
	ctx := context.Background()
	patch := `{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"agentic-studio:1.1.0"}]}}}}`
	if _, err := c.AppsV1().Deployments(ns).Patch(ctx, "studio", types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatalf("roll out a new image: %v", err)
	}
	probetest.Eventually(t, 30*time.Second, "revision 2", func() bool {
		d, err := c.AppsV1().Deployments(ns).Get(ctx, "studio", metav1.GetOptions{})
		return err == nil && d.Annotations[kubeRevisionKey] == "2"
	})
	env := probetest.KubeEnv(c, ns, "studio")
	tests := []struct {
		name      string
		later     time.Duration
		want      probes.Status // of revision 2 and of the ConfigMap
		wantCount int           // findings about revisions
	}{
		{"ten minutes", 10 * time.Minute, probes.OK, 2},
		{"two hours", 2 * time.Hour, probes.OK, 2},
		{"two days", 48 * time.Hour, -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env.Now = time.Now().Add(tt.later)
			res, err := readChanges(ctx, env)
			if err != nil {
				t.Fatalf("readChanges: %v", err)
			}
			rev := probetest.Findings(res, "Recent change", "revision 2")
			cm := probetest.Findings(res, "Recent change", "ConfigMap studio-config")
			if got := len(rev) + len(probetest.Findings(res, "Recent change", "revision 1")); got != tt.wantCount {
				t.Fatalf("revision findings = %d, want %d: %+v", got, tt.wantCount, res.Findings)
			}
			if tt.want < 0 {
				if len(cm) != 0 {
					t.Errorf("old ConfigMap change reported: %+v", cm)
				}
				if len(res.Tables) == 0 || len(res.Tables[0].Rows) != 1 || !strings.HasPrefix(res.Tables[0].Rows[0][0], "2 (current)") {
					t.Errorf("rollout table should keep only the current revision: %+v", res.Tables)
				}
				return
			}
			if rev[0].Signal != probes.SigRollout || rev[0].Onset.IsZero() || cm[0].Signal != probes.SigConfigChange || cm[0].Onset.IsZero() {
				t.Errorf("changes carry no signal or onset for diagnosis: %+v %+v", rev[0], cm[0])
			}
			if rev[0].Status != tt.want || !strings.Contains(rev[0].Message, "agentic-studio:1.1.0") {
				t.Errorf("revision 2 finding = %+v, want %s naming the new image", rev[0], tt.want)
			}
			if len(cm) != 1 || cm[0].Status != tt.want {
				t.Errorf("ConfigMap finding = %+v, want %s", cm, tt.want)
			}
		})
	}
}

func TestKubeResourcesWithoutMetricsAPI(t *testing.T) {
	c := probetest.KubeClient(t, "admin")
	if _, err := c.Discovery().ServerResourcesForGroupVersion(kubeMetricsGroup); err == nil {
		t.Skip("this cluster serves the metrics API")
	}
	ns := probetest.KubeNamespace(t, c)
	probetest.KubeDeployment(t, c, ns, "studio", 1)
	res, err := readResources(context.Background(), probetest.KubeEnv(c, ns, "studio"))
	if err != nil {
		t.Fatalf("readResources: %v", err)
	}
	f := probetest.Findings(res, "Pod usage", "")
	if len(f) != 1 || f[0].Status != probes.Unknown || !strings.Contains(f[0].Message, "metrics API not available") {
		t.Errorf("usage finding = %+v, want the plain 'metrics API not available'", f)
	}
	want := []string{"app", "250m", "1", "256Mi", "512Mi"}
	if got := res.Tables[0].Rows; len(got) != 1 || strings.Join(got[0], " ") != strings.Join(want, " ") {
		t.Errorf("requests and limits = %v, want %v", got, want)
	}
}

func TestKubeUsageFindings(t *testing.T) {
	body := []byte(`{"kind":"PodMetricsList","items":[
	 {"metadata":{"name":"studio-a"},"containers":[{"name":"app","usage":{"cpu":"100m","memory":"500Mi"}}]},
	 {"metadata":{"name":"studio-b"},"containers":[{"name":"app","usage":{"cpu":"900m","memory":"100Mi"}}]}]}`)
	usage, err := kubeParseUsage(body)
	if err != nil {
		t.Fatal(err)
	}
	env := probetest.KubeEnv(nil, "ns", "studio")
	var res probes.Result
	limits := map[string]corev1.ResourceList{"app": {
		corev1.ResourceCPU: kubeQuantity(t, "1"), corev1.ResourceMemory: kubeQuantity(t, "512Mi")}}
	kubeUsageFindings(&res, env, usage, limits)
	tests := []struct {
		check, subject string
		want           probes.Status
	}{
		{"Pod memory of limit", "studio-a/app", probes.Crit}, // 97.7 % > 85 %
		{"Pod memory of limit", "studio-b/app", probes.OK},
		{"Pod CPU of limit", "studio-a/app", probes.OK},
		{"Pod CPU of limit", "studio-b/app", probes.Crit}, // 90 % > 80 %
	}
	for _, tt := range tests {
		t.Run(tt.check+" "+tt.subject, func(t *testing.T) {
			f := probetest.Findings(res, tt.check, tt.subject)
			if len(f) != 1 || f[0].Status != tt.want {
				t.Errorf("got %+v, want %s", f, tt.want)
			}
		})
	}
}

// TestKubeRBAC checks the bot's service account on the real API server: it reads what the runbook
// needs, may scale and patch agentic-studio only, and never reads secrets.
func TestKubeRBAC(t *testing.T) {
	bot := probetest.KubeClient(t, "perfbot")
	ctx := context.Background()
	const ns, dep = "agentic-studio", "agentic-studio"
	dry := []string{metav1.DryRunAll}
	tests := []struct {
		name      string
		call      func() error
		forbidden bool
	}{
		{"list secrets", func() error { _, err := bot.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{}); return err }, true},
		{"get a secret", func() error { _, err := bot.CoreV1().Secrets(ns).Get(ctx, "any", metav1.GetOptions{}); return err }, true},
		{"list secrets elsewhere", func() error { _, err := bot.CoreV1().Secrets("default").List(ctx, metav1.ListOptions{}); return err }, true},
		{"delete a pod", func() error {
			return bot.CoreV1().Pods(ns).Delete(ctx, "any", metav1.DeleteOptions{DryRun: dry})
		}, true},
		{"scale agentic-studio", func() error {
			s, err := bot.AppsV1().Deployments(ns).GetScale(ctx, dep, metav1.GetOptions{})
			if err != nil {
				return err
			}
			_, err = bot.AppsV1().Deployments(ns).UpdateScale(ctx, dep, s, metav1.UpdateOptions{DryRun: dry})
			return err
		}, false},
		{"scale another deployment", func() error {
			_, err := bot.AppsV1().Deployments(ns).GetScale(ctx, "other", metav1.GetOptions{})
			return err
		}, true},
		{"patch agentic-studio (restart)", func() error {
			p := `{"spec":{"template":{"metadata":{"annotations":{"perfbot/restartedAt":"test"}}}}}`
			_, err := bot.AppsV1().Deployments(ns).Patch(ctx, dep, types.StrategicMergePatchType, []byte(p), metav1.PatchOptions{DryRun: dry})
			return err
		}, false},
		{"patch another deployment", func() error {
			_, err := bot.AppsV1().Deployments(ns).Patch(ctx, "other", types.StrategicMergePatchType, []byte(`{}`), metav1.PatchOptions{DryRun: dry})
			return err
		}, true},
		{"update agentic-studio", func() error {
			d, err := bot.AppsV1().Deployments(ns).Get(ctx, dep, metav1.GetOptions{})
			if err != nil {
				return err
			}
			_, err = bot.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{DryRun: dry})
			return err
		}, true},
		{"read pods elsewhere", func() error { _, err := bot.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{}); return err }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if tt.forbidden != apierrors.IsForbidden(err) || (!tt.forbidden && err != nil) {
				t.Errorf("err = %v, want forbidden=%v", err, tt.forbidden)
			}
		})
	}
}

func TestKubeOwnedName(t *testing.T) {
	for name, want := range map[string]bool{
		"agentic-studio":                        true,
		"agentic-studio-75844b57bf":             true,
		"agentic-studio-75844b57bf-8qqs4":       true,
		"agentic-studio-worker":                 false,
		"agentic-studio-worker-6d8f9c7b5-x2b4k": false,
		"agentic-studio-api-75844b57bf-8qqs4":   false,
		"other-75844b57bf-8qqs4":                false,
	} {
		if got := kubeOwnedName("agentic-studio", name); got != want {
			t.Errorf("kubeOwnedName(%q) = %v, want %v", name, got, want)
		}
	}
}

func kubeQuantity(t *testing.T, s string) resource.Quantity {
	t.Helper()
	q, err := resource.ParseQuantity(s)
	if err != nil {
		t.Fatal(err)
	}
	return q
}
