package studiosim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Kind names a fault the simulator can inject.
type Kind string

// The fault kinds, one per runbook symptom.
const (
	KindLatency        Kind = "latency"         // sleep in one endpoint's handler
	KindErrors         Kind = "errors"          // a fraction of one endpoint's requests answer 500
	KindSlowSQL        Kind = "slow_sql"        // the endpoint's query runs pg_sleep in the database
	KindLock           Kind = "lock"            // a transaction holds row locks /api/projects waits on
	KindIdleInTx       Kind = "idle_in_tx"      // pool connections sit idle in transaction
	KindRedisMemory    Kind = "redis_memory"    // megabytes of fill keys in Redis
	KindOpenAILatency  Kind = "openai_latency"  // extra latency on every simulated OpenAI call
	KindOpenAI429      Kind = "openai_429"      // a fraction of OpenAI calls are rate limited
	KindCrewAIFailures Kind = "crewai_failures" // a fraction of agent tasks fail
	KindMemoryGrowth   Kind = "memory_growth"   // the process retains ever more memory
	KindPodMemory      Kind = "pod_memory"      // one simulated pod's working set sits near its memory limit
	KindPodCPU         Kind = "pod_cpu"         // every simulated pod runs at its CPU limit and is throttled
)

// Kinds lists every fault kind in a stable order.
var Kinds = []Kind{KindLatency, KindErrors, KindSlowSQL, KindLock, KindIdleInTx, KindRedisMemory,
	KindOpenAILatency, KindOpenAI429, KindCrewAIFailures, KindMemoryGrowth, KindPodMemory, KindPodCPU}

// The simulator's HTTP endpoints, as they appear in the `endpoint` metric label.
const (
	EndpointIdeas     = "/api/ideas"
	EndpointProjects  = "/api/projects"
	EndpointAgentsRun = "/api/agents/run"
	EndpointHealth    = "/health/detailed"
)

// Endpoints lists the simulator's instrumented endpoints.
var Endpoints = []string{EndpointIdeas, EndpointProjects, EndpointAgentsRun, EndpointHealth}

// Limits on fault parameters; anything outside is rejected with 400.
const (
	maxDelay    = time.Minute
	maxSleepSec = 60
	maxRedisMB  = 4096
	maxGrowthMB = 4096
	maxMBPerSec = 1024
)

// Fault is one injected fault: its kind and the parameters that kind takes.
// On the wire it is JSON; Delay is a Go duration string such as "800ms".
type Fault struct {
	ID          string        `json:"id,omitempty"`
	Kind        Kind          `json:"kind"`
	Endpoint    string        `json:"endpoint,omitempty"`
	Delay       time.Duration `json:"-"`
	Rate        float64       `json:"rate,omitempty"`
	Seconds     float64       `json:"seconds,omitempty"`
	Table       string        `json:"table,omitempty"`
	Connections int           `json:"connections,omitempty"`
	MB          int           `json:"mb,omitempty"`
	MBPerSec    float64       `json:"mb_per_sec,omitempty"`
	MaxMB       int           `json:"max_mb,omitempty"`
	// Agent narrows crewai_failures to one agent: researcher, writer or reviewer.
	Agent string `json:"agent,omitempty"`
	// Pod names the simulated pod of a pod_memory fault, by name or by index ("0" is the first);
	// on the wire a JSON number is accepted too. The server answers with the pod's name.
	Pod string `json:"pod,omitempty"`
	// CreatedAt is set by the server when the fault takes effect.
	CreatedAt time.Time `json:"created_at,omitzero"`
	// RetainedMB is how much a memory_growth fault holds right now (set by the server when listing).
	RetainedMB float64 `json:"retained_mb,omitempty"`
}

type faultAlias Fault

type faultJSON struct {
	faultAlias
	Delay string          `json:"delay,omitempty"`
	Pod   json.RawMessage `json:"pod,omitempty"`
}

// MarshalJSON writes Delay as a duration string.
func (f Fault) MarshalJSON() ([]byte, error) {
	j := faultJSON{faultAlias: faultAlias(f)}
	if f.Delay != 0 {
		j.Delay = f.Delay.String()
	}
	if f.Pod != "" {
		j.Pod, _ = json.Marshal(f.Pod)
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads a fault strictly: unknown fields and malformed durations are errors.
func (f *Fault) UnmarshalJSON(data []byte) error {
	var j faultJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return err
	}
	*f = Fault(j.faultAlias)
	if j.Delay != "" {
		d, err := time.ParseDuration(j.Delay)
		if err != nil {
			return fmt.Errorf("delay: want a duration such as \"800ms\": %w", err)
		}
		f.Delay = d
	}
	if len(j.Pod) > 0 {
		pod, err := podRef(j.Pod)
		if err != nil {
			return err
		}
		f.Pod = pod
	}
	return nil
}

// podRef reads the pod field: a name, or an index as a JSON string or integer.
func podRef(raw json.RawMessage) (string, error) {
	var name string
	if json.Unmarshal(raw, &name) == nil {
		return name, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		if _, err := n.Int64(); err == nil {
			return n.String(), nil
		}
	}
	return "", fmt.Errorf("pod: want a pod name or index, got %s", raw)
}

// String names the fault and its parameters, for logs.
func (f Fault) String() string {
	b, _ := json.Marshal(f)
	return string(b)
}

// logAttrs are the fault's id, kind and set parameters as key-value pairs for a log line.
func (f *Fault) logAttrs() []any {
	a := []any{"id", f.ID, "kind", string(f.Kind)}
	add := func(set bool, k string, v any) {
		if set {
			a = append(a, k, v)
		}
	}
	add(f.Endpoint != "", "endpoint", f.Endpoint)
	add(f.Delay != 0, "delay", f.Delay)
	add(f.Rate != 0, "rate", f.Rate)
	add(f.Seconds != 0, "seconds", f.Seconds)
	add(f.Table != "", "table", f.Table)
	add(f.Connections != 0, "connections", f.Connections)
	add(f.MB != 0, "mb", f.MB)
	add(f.MBPerSec != 0, "mb_per_sec", f.MBPerSec)
	add(f.MaxMB != 0, "max_mb", f.MaxMB)
	add(f.Agent != "", "agent", f.Agent)
	add(f.Pod != "", "pod", f.Pod)
	return a
}

// params lists which parameters are set, by their JSON names.
func (f *Fault) params() []string {
	var p []string
	add := func(set bool, name string) {
		if set {
			p = append(p, name)
		}
	}
	add(f.Endpoint != "", "endpoint")
	add(f.Delay != 0, "delay")
	add(f.Rate != 0, "rate")
	add(f.Seconds != 0, "seconds")
	add(f.Table != "", "table")
	add(f.Connections != 0, "connections")
	add(f.MB != 0, "mb")
	add(f.MBPerSec != 0, "mb_per_sec")
	add(f.MaxMB != 0, "max_mb")
	add(f.Agent != "", "agent")
	add(f.Pod != "", "pod")
	return p
}

// allowedParams says which parameters each kind takes.
var allowedParams = map[Kind]string{
	KindLatency:        "endpoint delay",
	KindErrors:         "endpoint rate",
	KindSlowSQL:        "endpoint seconds",
	KindLock:           "table",
	KindIdleInTx:       "connections",
	KindRedisMemory:    "mb",
	KindOpenAILatency:  "delay",
	KindOpenAI429:      "rate",
	KindCrewAIFailures: "rate agent",
	KindMemoryGrowth:   "mb_per_sec max_mb",
	KindPodMemory:      "pod rate",
	KindPodCPU:         "rate",
}

// Validate checks f's kind and parameters, fills defaults, and returns every problem at once.
// poolSize bounds idle_in_tx connections; pods are the simulated pods a pod_memory fault may
// name (its Pod is replaced by the pod's name).
func (f *Fault) Validate(poolSize int, pods []string) error {
	allowed, ok := allowedParams[f.Kind]
	if !ok {
		return fmt.Errorf("unknown fault kind %q (want one of %s)", f.Kind, kindList())
	}
	v := &validation{}
	for _, p := range f.params() {
		if !strings.Contains(" "+allowed+" ", " "+p+" ") {
			v.add("%s does not apply to %s (it takes: %s)", p, f.Kind, allowed)
		}
	}
	f.checkValues(v, poolSize, pods)
	if len(v.probs) > 0 {
		return fmt.Errorf("%s: %s", f.Kind, strings.Join(v.probs, "; "))
	}
	return nil
}

// validation collects every problem with a fault.
type validation struct{ probs []string }

func (v *validation) add(format string, a ...any) {
	v.probs = append(v.probs, fmt.Sprintf(format, a...))
}

func (v *validation) endpoint(e string, required bool) {
	switch {
	case e == "" && !required:
	case e == "":
		v.add("endpoint is required: one of %s", strings.Join(Endpoints, ", "))
	case !isEndpoint(e):
		v.add("endpoint %q: want one of %s", e, strings.Join(Endpoints, ", "))
	}
}

func (v *validation) delay(d time.Duration) {
	if d <= 0 || d > maxDelay {
		v.add("delay must be a duration in (0, %s], such as \"800ms\"", maxDelay)
	}
}

func (v *validation) rate(r float64) {
	if !(r > 0 && r <= 1) {
		v.add("rate must be in (0, 1], got %g", r)
	}
}

func (v *validation) intRange(name string, n, lo, hi int, why string) {
	if n < lo || n > hi {
		v.add("%s must be in [%d, %d]%s, got %d", name, lo, hi, why, n)
	}
}

// checkValues checks the values of the parameters f's kind takes.
func (f *Fault) checkValues(v *validation, poolSize int, pods []string) {
	switch f.Kind {
	case KindLatency:
		v.endpoint(f.Endpoint, true)
		v.delay(f.Delay)
	case KindErrors:
		v.endpoint(f.Endpoint, true)
		v.rate(f.Rate)
	case KindSlowSQL:
		v.endpoint(f.Endpoint, false)
		if !(f.Seconds > 0 && f.Seconds <= maxSleepSec) {
			v.add("seconds must be in (0, %d], got %g", maxSleepSec, f.Seconds)
		}
	case KindLock:
		if f.Table == "" {
			f.Table = "projects"
		}
		if f.Table != "projects" {
			v.add("table %q: only \"projects\" can be locked (it is the table /api/projects updates)", f.Table)
		}
	case KindIdleInTx:
		v.intRange("connections", f.Connections, 1, poolSize, " (the pool size)")
	case KindRedisMemory:
		v.intRange("mb", f.MB, 1, maxRedisMB, "")
	case KindOpenAILatency:
		v.delay(f.Delay)
	case KindOpenAI429:
		v.rate(f.Rate)
	case KindCrewAIFailures:
		v.rate(f.Rate)
		if f.Agent != "" && !slices.Contains(agents, f.Agent) {
			v.add("agent %q: want one of %s", f.Agent, strings.Join(agents, ", "))
		}
	case KindPodMemory, KindPodCPU:
		f.checkPod(v, pods)
	case KindMemoryGrowth:
		if !(f.MBPerSec > 0 && f.MBPerSec <= maxMBPerSec) {
			v.add("mb_per_sec must be in (0, %d], got %g", maxMBPerSec, f.MBPerSec)
		}
		v.intRange("max_mb", f.MaxMB, 1, maxGrowthMB, "")
	}
}

func isEndpoint(e string) bool {
	for _, x := range Endpoints {
		if x == e {
			return true
		}
	}
	return false
}

func kindList() string {
	s := make([]string, len(Kinds))
	for i, k := range Kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// errNotFound is returned when a fault id is not active.
var errNotFound = errors.New("no such fault")
