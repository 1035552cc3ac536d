package studiosim

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Defaults of the simulated pods.
const (
	DefaultNamespace      = "default"
	DefaultDeployment     = "agentic-studio"
	DefaultPodCount       = 3
	DefaultPodMemoryLimit = 512 << 20 // bytes
	DefaultPodCPULimit    = 0.5       // cores
	// PodContainer is the container label of every simulated pod's series.
	PodContainer = "app"
)

// Defaults of the pod faults' rates, as fractions of the limit.
const (
	defaultPodMemoryRate = 0.95
	defaultPodCPURate    = 0.98
)

// nameAlphabet is the alphabet Kubernetes uses for generated name parts (no vowels, no 0, 1, 3).
const nameAlphabet = "bcdfghjklmnpqrstvwxz2456789"

// dnsLabel is what Kubernetes accepts as a namespace or pod name part.
var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// PodNames returns n pod names as a Deployment's ReplicaSet would name them,
// <deployment>-<template hash>-<suffix>, derived from namespace and deployment so that the
// same inputs always give the same names and different namespaces give different ones.
func PodNames(namespace, deployment string, n int) []string {
	h := fnv.New64a()
	h.Write([]byte(namespace + "/" + deployment))
	seed := h.Sum64()
	r := rand.New(rand.NewPCG(seed, seed>>7|1))
	word := func(k int) string {
		b := make([]byte, k)
		for i := range b {
			b[i] = nameAlphabet[r.IntN(len(nameAlphabet))]
		}
		return string(b)
	}
	hash := word(9)
	names := make([]string, 0, n)
	for len(names) < n {
		name := deployment + "-" + hash + "-" + word(5)
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names
}

// applyPodDefaults fills the pod options' defaults.
func (o *Options) applyPodDefaults() {
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if o.Deployment == "" {
		o.Deployment = DefaultDeployment
	}
	if len(o.Pods) == 0 {
		o.Pods = PodNames(o.Namespace, o.Deployment, DefaultPodCount)
	}
	if o.PodMemoryLimit <= 0 {
		o.PodMemoryLimit = DefaultPodMemoryLimit
	}
	if o.PodCPULimit <= 0 {
		o.PodCPULimit = DefaultPodCPULimit
	}
}

// checkPods reports every problem with the pod options after defaults.
func (o *Options) checkPods() error {
	var errs []error
	if !dnsLabel.MatchString(o.Namespace) || len(o.Namespace) > 63 {
		errs = append(errs, fmt.Errorf("namespace %q: want a DNS label (lower-case letters, digits, '-')", o.Namespace))
	}
	seen := map[string]bool{}
	for _, p := range o.Pods {
		switch {
		case !dnsLabel.MatchString(p) || len(p) > 253:
			errs = append(errs, fmt.Errorf("pod name %q: want lower-case letters, digits and '-'", p))
		case seen[p]:
			errs = append(errs, fmt.Errorf("pod name %q given twice", p))
		}
		seen[p] = true
	}
	if len(errs) > 0 {
		return fmt.Errorf("pod options: %w", errors.Join(errs...))
	}
	return nil
}

// checkPod checks a pod fault's pod and rate, fills their defaults and resolves Pod to a name.
func (f *Fault) checkPod(v *validation, pods []string) {
	if f.Rate == 0 {
		f.Rate = defaultPodMemoryRate
		if f.Kind == KindPodCPU {
			f.Rate = defaultPodCPURate
		}
	}
	v.rate(f.Rate)
	if f.Kind != KindPodMemory {
		return
	}
	if len(pods) == 0 {
		v.add("the simulator has no pods")
		return
	}
	switch i, err := strconv.Atoi(f.Pod); {
	case f.Pod == "":
		f.Pod = pods[0]
	case err == nil && i >= 0 && i < len(pods):
		f.Pod = pods[i]
	case err == nil:
		v.add("pod index %d: want 0 to %d", i, len(pods)-1)
	case !slices.Contains(pods, f.Pod):
		v.add("pod %q: want an index 0 to %d or one of %s", f.Pod, len(pods)-1, strings.Join(pods, ", "))
	}
}
