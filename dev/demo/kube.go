package demo

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// Pods writes what a kubelet would report when a container is OOMKilled: the control plane of the
// local stack has no kubelet, so the demo plays its part through the API server's status subresource.
type Pods struct {
	Client     kubernetes.Interface
	Namespace  string
	Deployment string
}

// NewPods reads a kubeconfig that may write pod status (the stack's admin one).
func NewPods(kubeconfig, namespace, deployment string) (*Pods, error) {
	rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", kubeconfig, err)
	}
	c, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	return &Pods{Client: c, Namespace: namespace, Deployment: deployment}, nil
}

// OOMKill records that the first running pod's first container was OOMKilled just now and restarted.
func (p *Pods) OOMKill(ctx context.Context) error {
	pod, err := p.first(ctx)
	if err != nil {
		return err
	}
	now := metav1.NewTime(time.Now())
	cs := &pod.Status.ContainerStatuses[0]
	cs.RestartCount++
	cs.LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		Reason: "OOMKilled", ExitCode: 137, StartedAt: metav1.NewTime(now.Add(-10 * time.Minute)), FinishedAt: now}}
	cs.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}
	if _, err := p.Client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("mark pod %s OOMKilled: %w", pod.Name, err)
	}
	return nil
}

// Restore forgets the last termination of every pod of the Deployment, as if the kill were long ago.
func (p *Pods) Restore(ctx context.Context) error {
	pods, err := p.pods(ctx)
	if err != nil {
		return err
	}
	for i := range pods {
		pod := &pods[i]
		changed := false
		for j := range pod.Status.ContainerStatuses {
			if pod.Status.ContainerStatuses[j].LastTerminationState.Terminated != nil {
				pod.Status.ContainerStatuses[j].LastTerminationState = corev1.ContainerState{}
				changed = true
			}
		}
		if !changed {
			continue
		}
		if _, err := p.Client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("restore pod %s: %w", pod.Name, err)
		}
	}
	return nil
}

func (p *Pods) pods(ctx context.Context) ([]corev1.Pod, error) {
	list, err := p.Client.CoreV1().Pods(p.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list pods in %s: %w", p.Namespace, err)
	}
	var out []corev1.Pod
	for _, pod := range list.Items {
		if strings.HasPrefix(pod.Name, p.Deployment+"-") && pod.DeletionTimestamp == nil {
			out = append(out, pod)
		}
	}
	return out, nil
}

func (p *Pods) first(ctx context.Context) (*corev1.Pod, error) {
	pods, err := p.pods(ctx)
	if err != nil {
		return nil, err
	}
	for i := range pods {
		if pods[i].Status.Phase == corev1.PodRunning && len(pods[i].Status.ContainerStatuses) > 0 {
			return &pods[i], nil
		}
	}
	return nil, fmt.Errorf("no running pod of %s/%s to OOM-kill", p.Namespace, p.Deployment)
}
