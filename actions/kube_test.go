package actions

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/errs"
)

func TestScaleApproval(t *testing.T) {
	ctx := context.Background()
	kcfg := kubeConfig(t)
	k := newKubeTarget(t, kcfg, 1)
	k.waitObserved(t)
	var updates atomic.Int64
	f := newFixture(t, func(o *Options) {
		o.Kube = countingClient(t, kcfg, &updates)
		o.Config.Actions.Deployments = append(o.Config.Actions.Deployments, k.limit(1, 6))
	})
	r, err := f.svc.Request(ctx, "carol", "C1", mustParse(t, "scale agentic-studio 3"))
	if err != nil {
		t.Fatalf("Request: %v", err)
	}
	if want := []Change{{What: "replicas", From: "1", To: "3"}}; !reflect.DeepEqual(r.Plan.Changes, want) {
		t.Errorf("plan changes = %+v, want %+v", r.Plan.Changes, want)
	}
	if !strings.Contains(r.Plan.DryRun, "server-side dry run") || r.Spec.Namespace != k.ns {
		t.Errorf("plan = %q, spec = %+v", r.Plan.Text(), r.Spec)
	}
	if got := *k.deployment(t).Spec.Replicas; got != 1 || updates.Load() != 0 {
		t.Fatalf("the request changed the deployment: replicas %d, %d updates", got, updates.Load())
	}

	_, err = f.svc.Approve(ctx, r.ID, "carol")
	wantKind(t, err, errs.Forbidden)
	done, err := f.svc.Approve(ctx, r.ID, "alice")
	if err != nil || done.Status != StatusSucceeded {
		t.Fatalf("Approve = %+v, %v", done, err)
	}
	sc, err := k.cs.AppsV1().Deployments(k.ns).GetScale(ctx, k.name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sc.Spec.Replicas != 3 {
		t.Errorf("spec.replicas read back from the API server is %d, want 3", sc.Spec.Replicas)
	}
	if updates.Load() != 1 {
		t.Errorf("%d scale updates, want 1", updates.Load())
	}
	if !strings.Contains(done.Result, "replicas 1 → 3") || !strings.Contains(done.Result, "spec.replicas is 3") {
		t.Errorf("result = %q", done.Result)
	}
	t.Logf("result: %s", done.Result)
	want := []EventKind{EventRequested, EventRefused, EventApproved, EventExecuted, EventVerified}
	if got := f.rec.kinds(r.ID); !reflect.DeepEqual(got, want) {
		t.Errorf("timeline = %v, want %v", got, want)
	}
}

// TestScaleExactlyOnce: 50 simultaneous approvals through two Services, each with its own state pool
// and its own Kubernetes client (two bot processes), scale the Deployment once.
func TestScaleExactlyOnce(t *testing.T) {
	ctx := context.Background()
	kcfg := kubeConfig(t)
	k := newKubeTarget(t, kcfg, 1)
	k.waitObserved(t)
	var updatesA, updatesB atomic.Int64
	f := newFixture(t, func(o *Options) {
		o.Kube = countingClient(t, kcfg, &updatesA)
		o.Config.Actions.Deployments = append(o.Config.Actions.Deployments, k.limit(1, 6))
	})
	other := f.service(t, f.db.pool(t, "perfbot-test"), func(o *Options) { o.Kube = countingClient(t, kcfg, &updatesB) })
	r, err := f.svc.Request(ctx, "carol", "C1", mustParse(t, "scale agentic-studio 4"))
	if err != nil {
		t.Fatalf("Request: %v", err)
	}
	gen := k.deployment(t).Generation
	wins, conflicts := raceApprove(t, []*Service{f.svc, other}, r.ID, 50)
	if wins != 1 || conflicts != 49 {
		t.Errorf("%d approvals ran and %d conflicted, want 1 and 49", wins, conflicts)
	}
	if n := updatesA.Load() + updatesB.Load(); n != 1 {
		t.Errorf("%d scale updates reached the API server (%d + %d), want 1", n, updatesA.Load(), updatesB.Load())
	}
	d := k.deployment(t)
	if d.Generation != gen+1 || *d.Spec.Replicas != 4 {
		t.Errorf("generation %d → %d, replicas %d; want one change to 4", gen, d.Generation, *d.Spec.Replicas)
	}
	if n := countRows(t, f.state, "SELECT count(*) FROM action_events WHERE kind = 'executed'"); n != 1 {
		t.Errorf("%d executions recorded, want 1", n)
	}
}

// TestScaleRefused: every bad or stale request gets its own kind of error and the Deployment is untouched.
func TestScaleRefused(t *testing.T) {
	ctx := context.Background()
	kcfg := kubeConfig(t)
	k := newKubeTarget(t, kcfg, 2)
	k.waitObserved(t)
	var updates atomic.Int64
	f := newFixture(t, func(o *Options) {
		o.Kube = countingClient(t, kcfg, &updates)
		o.Config.Actions.Deployments = append(o.Config.Actions.Deployments, k.limit(1, 6),
			k.limitFor("ghost", 1, 3))
	})
	gen := k.deployment(t).Generation
	tests := []struct {
		name, text string
		kind       errs.Kind
		msg        string
	}{
		{"out of range", "scale agentic-studio 9", errs.Invalid, "allowed range for " + k.ns + "/agentic-studio: 1 to 6"},
		{"below range", "scale agentic-studio 0", errs.Invalid, "1 to 6"},
		{"not allow-listed", "scale payments 3", errs.Forbidden, "actions may change: " + k.ns + "/agentic-studio (1–6 replicas)"},
		{"other namespace", "scale kube-system/agentic-studio 3", errs.Forbidden, "not on the allow-list"},
		{"unknown deployment", "scale ghost 2", errs.NotFound, "does not exist in the cluster"},
		{"malformed", "scale agentic-studio three", errs.Invalid, "Usage: scale"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, err := ParseRequest(tt.text)
			if err == nil {
				_, err = f.svc.Request(ctx, "carol", "C1", spec)
			}
			wantKind(t, err, tt.kind)
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("message %q does not contain %q", err, tt.msg)
			}
		})
	}
	t.Run("action not enabled", func(t *testing.T) {
		f.cfg.Actions.Allowed = []string{"analyze"}
		defer func() { f.cfg.Actions.Allowed = testConfig(f.db.name).Actions.Allowed }()
		_, err := f.svc.Request(ctx, "carol", "C1", mustParse(t, "scale agentic-studio 3"))
		wantKind(t, err, errs.Forbidden)
	})
	stale := func(t *testing.T) Request {
		r, err := f.svc.Request(ctx, "carol", "C1", mustParse(t, "scale agentic-studio 5"))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	t.Run("non-approver", func(t *testing.T) {
		_, err := f.svc.Approve(ctx, stale(t).ID, "mallory")
		wantKind(t, err, errs.Forbidden)
	})
	t.Run("expired", func(t *testing.T) {
		r := stale(t)
		f.clock.Advance(time.Hour)
		defer f.clock.Advance(-time.Hour)
		_, err := f.svc.Approve(ctx, r.ID, "alice")
		wantKind(t, err, errs.Conflict)
	})
	t.Run("denied", func(t *testing.T) {
		r := stale(t)
		if _, err := f.svc.Deny(ctx, r.ID, "bob"); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.Approve(ctx, r.ID, "alice")
		wantKind(t, err, errs.Conflict)
	})
	d := k.deployment(t)
	if d.Generation != gen || *d.Spec.Replicas != 2 || updates.Load() != 0 {
		t.Errorf("deployment changed: generation %d → %d, replicas %d, %d updates", gen, d.Generation, *d.Spec.Replicas, updates.Load())
	}
}

func TestScaleWarnsAboutHPA(t *testing.T) {
	ctx := context.Background()
	kcfg := kubeConfig(t)
	k := newKubeTarget(t, kcfg, 1)
	minR := int32(2)
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "studio-hpa"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: k.name},
			MinReplicas:    &minR, MaxReplicas: 8,
		},
	}
	if _, err := k.cs.AutoscalingV2().HorizontalPodAutoscalers(k.ns).Create(ctx, hpa, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create HPA: %v", err)
	}
	f := newFixture(t, func(o *Options) {
		o.Kube = k.cs
		o.Config.Actions.Deployments = append(o.Config.Actions.Deployments, k.limit(1, 6))
	})
	r, err := f.svc.Request(ctx, "carol", "C1", mustParse(t, "scale "+k.ns+"/agentic-studio 3"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Plan.Warnings) != 1 || !strings.Contains(r.Plan.Warnings[0], "HorizontalPodAutoscaler studio-hpa manages agentic-studio (2–8 replicas)") {
		t.Errorf("warnings = %q", r.Plan.Warnings)
	}
}

func TestLimitsPatch(t *testing.T) {
	ctx := context.Background()
	kcfg := kubeConfig(t)
	k := newKubeTarget(t, kcfg, 1)
	f := newFixture(t, func(o *Options) {
		o.Kube = k.cs
		o.Config.Actions.Deployments = append(o.Config.Actions.Deployments, k.limit(1, 6))
	})
	r, err := f.svc.Request(ctx, "carol", "C1", mustParse(t, "limits agentic-studio cpu=1000m memory=2Gi requests memory=1Gi"))
	if err != nil {
		t.Fatalf("Request: %v", err)
	}
	want := []Change{{"limits.cpu", "500m", "1"}, {"limits.memory", "512Mi", "2Gi"}, {"requests.memory", "128Mi", "1Gi"}}
	if !reflect.DeepEqual(r.Plan.Changes, want) {
		t.Errorf("changes = %+v, want %+v", r.Plan.Changes, want)
	}
	if got := k.deployment(t).Spec.Template.Spec.Containers[0].Resources.Limits.Memory().String(); got != "512Mi" {
		t.Fatalf("the dry run changed the deployment: limits.memory %s", got)
	}
	done, err := f.svc.Approve(ctx, r.ID, "bob")
	if err != nil || done.Status != StatusSucceeded {
		t.Fatalf("Approve = %+v, %v", done, err)
	}
	cs := k.deployment(t).Spec.Template.Spec.Containers
	app, side := cs[0].Resources, cs[1].Resources
	checks := []struct {
		what      string
		got, want resource.Quantity
	}{
		{"app limits.cpu", app.Limits[corev1.ResourceCPU], resource.MustParse("1")},
		{"app limits.memory", app.Limits[corev1.ResourceMemory], resource.MustParse("2Gi")},
		{"app requests.memory", app.Requests[corev1.ResourceMemory], resource.MustParse("1Gi")},
		{"app requests.cpu", app.Requests[corev1.ResourceCPU], resource.MustParse("100m")},
		{"sidecar limits.memory", side.Limits[corev1.ResourceMemory], resource.MustParse("512Mi")},
	}
	for _, c := range checks {
		if c.got.Cmp(c.want) != 0 {
			t.Errorf("%s = %s, want %s", c.what, c.got.String(), c.want.String())
		}
	}
	t.Logf("result: %s", done.Result)

	t.Run("requests above limits", func(t *testing.T) {
		_, err := f.svc.Request(ctx, "carol", "C1", mustParse(t, "limits agentic-studio memory=256Mi"))
		wantKind(t, err, errs.Invalid)
	})
	t.Run("no such container", func(t *testing.T) {
		f.cfg.Services[0].Kubernetes.Namespace, f.cfg.Services[0].Kubernetes.Deployment = k.ns, k.name
		f.cfg.Services[0].Kubernetes.Container = "web"
		_, err := f.svc.Request(ctx, "carol", "C1", mustParse(t, "limits agentic-studio cpu=1"))
		wantKind(t, err, errs.NotFound)
		if !strings.Contains(err.Error(), "it has: app, sidecar") {
			t.Errorf("message %q does not list the containers", err)
		}
	})
}

// TestScaleLeastPrivilege plans (reads and dry-runs, never executes) a scale of the stack's own
// agentic-studio Deployment with perfbot's least-privilege account, and checks that the same account
// is refused on a Deployment its Role does not name, as errs.Forbidden.
func TestScaleLeastPrivilege(t *testing.T) {
	ctx := context.Background()
	admin := kubeConfig(t)
	path := filepath.Join(filepath.Dir(adminKubeconfig()), "perfbot.kubeconfig")
	bot, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Skipf("no perfbot kubeconfig: %v", err)
	}
	botCS, err := kubernetes.NewForConfig(bot)
	if err != nil {
		t.Fatal(err)
	}
	adminCS, err := kubernetes.NewForConfig(admin)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := adminCS.AppsV1().Deployments("agentic-studio").GetScale(ctx, "agentic-studio", metav1.GetOptions{})
	if err != nil {
		t.Skipf("the stack's agentic-studio Deployment is not there: %v", err)
	}
	mine := newKubeTarget(t, admin, 1)
	f := newFixture(t, func(o *Options) {
		o.Kube = botCS
		o.Config.Actions.Deployments = append(o.Config.Actions.Deployments,
			config.DeploymentLimit{Namespace: "agentic-studio", Name: "agentic-studio", MinReplicas: 0, MaxReplicas: 100},
			mine.limit(1, 6))
	})
	r, err := f.svc.Request(ctx, "carol", "C1", mustParse(t, fmt.Sprintf("scale agentic-studio/agentic-studio %d", sc.Spec.Replicas)))
	if err != nil {
		t.Fatalf("plan with perfbot's account on the allowed deployment: %v", err)
	}
	t.Logf("plan: %s", r.Plan.Text())
	_, err = f.svc.Request(ctx, "carol", "C1", mustParse(t, "scale "+mine.ns+"/agentic-studio 2"))
	wantKind(t, err, errs.Forbidden)
	t.Logf("refusal: %v", err)
}
