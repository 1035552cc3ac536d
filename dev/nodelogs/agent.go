package nodelogs

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// Agent does the API-server side of a kubelet for one Node: it registers the Node with its address
// and log port, binds pending pods of its namespaces to the Node and reports them Running and Ready,
// and completes the deletion of pods on the Node (a kubelet confirms that containers stopped).
type Agent struct {
	Client  kubernetes.Interface
	Node    string
	Address string // the Node's InternalIP
	Port    int32  // the kubelet (log server) port
	// Namespaces are where pending pods are bound to this Node and started; tests use other
	// namespaces and set pod status themselves.
	Namespaces []string
	Now        func() time.Time
	Log        *slog.Logger
}

// Register creates the Node if needed and sets its addresses, kubelet port and Ready condition.
func (a *Agent) Register(ctx context.Context) error {
	// Controllers touch a new Node right after it is created; retry on their updates.
	return retry.RetryOnConflict(retry.DefaultRetry, func() error { return a.register(ctx) })
}

func (a *Agent) register(ctx context.Context) error {
	nodes := a.Client.CoreV1().Nodes()
	node, err := nodes.Get(ctx, a.Node, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		node, err = nodes.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{
			Name:   a.Node,
			Labels: map[string]string{"kubernetes.io/hostname": a.Node, "kubernetes.io/os": "linux"},
		}}, metav1.CreateOptions{})
	}
	if err != nil {
		return fmt.Errorf("register node %s: %w", a.Node, err)
	}
	if len(node.Spec.Taints) > 0 {
		// The not-ready taint added at creation: this node is ready as soon as it serves.
		node.Spec.Taints = nil
		if node, err = nodes.Update(ctx, node, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("clear taints of node %s: %w", a.Node, err)
		}
	}
	now := metav1.NewTime(a.Now())
	node.Status.Addresses = []corev1.NodeAddress{
		{Type: corev1.NodeInternalIP, Address: a.Address},
		{Type: corev1.NodeHostName, Address: a.Node},
	}
	node.Status.DaemonEndpoints.KubeletEndpoint.Port = a.Port
	node.Status.Conditions = []corev1.NodeCondition{{
		Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
		Message: "node log server is serving", LastHeartbeatTime: now, LastTransitionTime: now,
	}}
	node.Status.Capacity = corev1.ResourceList{}
	node.Status.NodeInfo.KubeletVersion = "nodelogs"
	if _, err := nodes.UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("set status of node %s: %w", a.Node, err)
	}
	return nil
}

// Run syncs every interval until ctx ends; a failed sync is logged and retried.
func (a *Agent) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := a.Sync(ctx); err != nil && ctx.Err() == nil {
			a.Log.Warn("node sync", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sync binds and starts pending pods of the agent's namespaces and finishes deleting pods on the Node.
func (a *Agent) Sync(ctx context.Context) error {
	for _, ns := range a.Namespaces {
		if err := a.bindPending(ctx, ns); err != nil {
			return err
		}
	}
	return a.finishDeletes(ctx)
}

func (a *Agent) bindPending(ctx context.Context, ns string) error {
	pods, err := a.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list pods in %s: %w", ns, err)
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		switch {
		case p.DeletionTimestamp != nil:
			continue
		case p.Spec.NodeName == "":
			if err := a.bind(ctx, p); err != nil {
				return err
			}
		case p.Spec.NodeName != a.Node || p.Status.Phase != corev1.PodPending || len(p.Status.ContainerStatuses) > 0:
			continue // not ours, or already started
		}
		if err := a.start(ctx, ns, p.Name); err != nil {
			return err
		}
	}
	return nil
}

func (a *Agent) bind(ctx context.Context, p *corev1.Pod) error {
	b := &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, UID: p.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: a.Node},
	}
	err := a.Client.CoreV1().Pods(p.Namespace).Bind(ctx, b, metav1.CreateOptions{})
	if err != nil && !apierrors.IsConflict(err) {
		return fmt.Errorf("bind pod %s/%s: %w", p.Namespace, p.Name, err)
	}
	a.Log.Info("bound pod", "namespace", p.Namespace, "pod", p.Name, "node", a.Node)
	return nil
}

// start reports a freshly bound pod as Running with every container ready.
func (a *Agent) start(ctx context.Context, ns, name string) error {
	pods := a.Client.CoreV1().Pods(ns)
	p, err := pods.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("get pod %s/%s: %w", ns, name, err)
	}
	now := metav1.NewTime(a.Now())
	p.Status.Phase = corev1.PodRunning
	p.Status.HostIP = a.Address
	p.Status.PodIP = a.Address
	p.Status.StartTime = &now
	p.Status.Conditions = nil
	for _, c := range []corev1.PodConditionType{corev1.PodScheduled, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady} {
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: c, Status: corev1.ConditionTrue, LastTransitionTime: now})
	}
	p.Status.ContainerStatuses = nil
	for _, c := range p.Spec.Containers {
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, ImageID: c.Image, Ready: true, Started: ptr(true),
			ContainerID: "nodelogs://" + string(p.UID) + "/" + c.Name,
			State:       corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		})
	}
	if _, err := pods.UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("start pod %s/%s: %w", ns, name, err)
	}
	return nil
}

// finishDeletes removes pods on the Node that are being deleted, as a kubelet does once their
// containers have stopped; without it they would stay Terminating forever.
func (a *Agent) finishDeletes(ctx context.Context) error {
	pods, err := a.Client.CoreV1().Pods("").List(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("spec.nodeName", a.Node).String(),
	})
	if err != nil {
		return fmt.Errorf("list pods on node %s: %w", a.Node, err)
	}
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			continue
		}
		uid := p.UID
		err := a.Client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{
			GracePeriodSeconds: ptr(int64(0)), Preconditions: &metav1.Preconditions{UID: &uid},
		})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return fmt.Errorf("finish deleting pod %s/%s: %w", p.Namespace, p.Name, err)
		}
	}
	return nil
}

// PodNames lists the namespace's pods on the Node that are not being deleted, sorted by name.
func (a *Agent) PodNames(ctx context.Context, ns string) ([]string, error) {
	pods, err := a.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("spec.nodeName", a.Node).String(),
	})
	if err != nil {
		return nil, fmt.Errorf("list pods on node %s in %s: %w", a.Node, ns, err)
	}
	var names []string
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			names = append(names, p.Name)
		}
	}
	sort.Strings(names)
	return slices.Compact(names), nil
}

func ptr[T any](v T) *T { return &v }
