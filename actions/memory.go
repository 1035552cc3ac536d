package actions

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/kubernetes"
)

// PodMemory reads the memory pods use now, in bytes by pod name (the sum of their containers); a pod
// it has no number for is left out. A restart reports it before and after.
type PodMemory interface {
	PodMemory(ctx context.Context, namespace string, pods []string) (map[string]float64, error)
}

// MetricsAPI reads pod memory from the resource metrics API (metrics.k8s.io, served by
// metrics-server), the numbers `kubectl top pods` shows.
type MetricsAPI struct{ Kube kubernetes.Interface }

// PodMemory implements PodMemory with one list of the namespace's PodMetrics.
func (m MetricsAPI) PodMemory(ctx context.Context, ns string, pods []string) (map[string]float64, error) {
	body, err := m.Kube.Discovery().RESTClient().Get().AbsPath("/apis/metrics.k8s.io/v1beta1/namespaces", ns, "pods").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("the metrics API (metrics.k8s.io) did not answer: %s", apiMessage(err))
	}
	var list struct {
		Items []struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
			Containers []struct {
				Usage map[string]resource.Quantity `json:"usage"`
			} `json:"containers"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("decode pod metrics: %w", err)
	}
	out := map[string]float64{}
	for _, it := range list.Items {
		if !slices.Contains(pods, it.Metadata.Name) {
			continue
		}
		for _, c := range it.Containers {
			q := c.Usage["memory"]
			out[it.Metadata.Name] += q.AsApproximateFloat64()
		}
	}
	return out, nil
}

// memorySample is the memory of a Deployment's pods at one moment, in MiB.
type memorySample struct {
	pods       int
	max, total float64
}

func newMemorySample(byPod map[string]float64) (memorySample, error) {
	if len(byPod) == 0 {
		return memorySample{}, fmt.Errorf("no pod of the deployment has a memory measurement yet")
	}
	s := memorySample{pods: len(byPod)}
	for _, b := range byPod {
		mib := b / (1 << 20)
		s.max = max(s.max, mib)
		s.total += mib
	}
	return s, nil
}

func (s memorySample) String() string {
	return fmt.Sprintf("%.0f MiB in %d pods (largest %.0f MiB)", s.total, s.pods, s.max)
}
