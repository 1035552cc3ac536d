// Package config holds perfbot's one configuration struct, its defaults and its validation.
package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is everything perfbot is told: the services it watches, how it reaches Slack and its own state.
type Config struct {
	Services  []Service `yaml:"services"`
	Slack     Slack     `yaml:"slack"`
	State     State     `yaml:"state"`
	HTTP      HTTP      `yaml:"http"`
	Commands  Commands  `yaml:"commands"`
	Incidents Incidents `yaml:"incidents"`
	Actions   Actions   `yaml:"actions"`
	// Teams are the people /perf incident page can bring in (database, infrastructure, security).
	Teams []Team `yaml:"teams"`
	// Terminal maps terminal users to Slack users for perfbot exec and perfbot console.
	Terminal Terminal `yaml:"terminal"`
	// TimeZone is the IANA zone shown next to UTC in timelines and postmortems.
	TimeZone string `yaml:"time_zone"`
	// MissingEnv lists ${VAR} references whose variable was unset; they read as empty.
	MissingEnv []string `yaml:"-"`
}

// Service is one watched application and the backends that serve it.
type Service struct {
	Name       string     `yaml:"name"`
	Prometheus Prometheus `yaml:"prometheus"`
	Metrics    Metrics    `yaml:"metrics"`
	HealthURL  string     `yaml:"health_url"`
	Kubernetes Kubernetes `yaml:"kubernetes"`
	Postgres   Postgres   `yaml:"postgres"`
	Redis      Redis      `yaml:"redis"`
	Thresholds Thresholds `yaml:"thresholds"`
	Logs       Logs       `yaml:"logs"`
}

// Prometheus says where the service's metrics live and which series are the service's own.
type Prometheus struct {
	URL string `yaml:"url"`
	// Selector is a PromQL label matcher list without braces, e.g. `job="agentic-studio"`.
	Selector string `yaml:"selector"`
	// NodeSelector selects the node exporter's series for the infrastructure checks.
	NodeSelector string `yaml:"node_selector"`
	// Window is the look-back for rates and range charts.
	Window Duration `yaml:"window"`
	// PodSelector selects the service's pods in container series (cAdvisor, kube-state-metrics),
	// e.g. `namespace="agentic-studio", pod=~"agentic-studio-[a-z0-9]+-[a-z0-9]+"`.
	PodSelector string `yaml:"pod_selector"`
}

// Metrics names the series and labels the probes query; defaults are the runbook's.
type Metrics struct {
	RequestDuration   string `yaml:"request_duration"`
	RequestsTotal     string `yaml:"requests_total"`
	StatusLabel       string `yaml:"status_label"`
	EndpointLabel     string `yaml:"endpoint_label"`
	CrewTasksTotal    string `yaml:"crewai_tasks_total"`
	CrewTaskDuration  string `yaml:"crewai_task_duration"`
	AgentLabel        string `yaml:"agent_label"`
	AICallsTotal      string `yaml:"ai_calls_total"`
	ProviderLabel     string `yaml:"provider_label"`
	OpenAIDuration    string `yaml:"openai_duration"`
	OpenAIErrorsTotal string `yaml:"openai_errors_total"`
}

// Kubernetes says where the service runs.
type Kubernetes struct {
	// Kubeconfig is a kubeconfig file, or "in-cluster" for the pod's own ServiceAccount.
	Kubeconfig string `yaml:"kubeconfig"`
	Namespace  string `yaml:"namespace"`
	Deployment string `yaml:"deployment"`
	Container  string `yaml:"container"`
}

// Postgres is the service's database, read by the probes through a read-only transaction.
type Postgres struct {
	DSN string `yaml:"dsn"`
	// LongQuery is how long a query may run before it is reported (runbook: 5 minutes).
	LongQuery Duration `yaml:"long_query"`
	// SeqScanMinRows is the table size above which sequential scans make a missing-index candidate.
	SeqScanMinRows int64 `yaml:"seq_scan_min_rows"`
	// ConnectionsWarn and ConnectionsCrit are the shares of max_connections in use that make a WARN and a CRIT.
	ConnectionsWarn float64 `yaml:"connections_warn"`
	ConnectionsCrit float64 `yaml:"connections_crit"`
	// IdleInTransaction is how long a transaction may sit idle before it is reported: it holds
	// locks and a pool connection.
	IdleInTransaction Duration `yaml:"idle_in_transaction"`
	// CacheHitWarn is the buffer cache hit ratio below which reads are reported as going to disk.
	CacheHitWarn float64 `yaml:"cache_hit_warn"`
	// IgnoreApplications are application_name prefixes whose statements are not the service's
	// (maintenance, backups, perfbot itself); the DB query time trigger leaves them out.
	IgnoreApplications []string `yaml:"ignore_applications"`
}

// Redis is the service's cache.
type Redis struct {
	Addr     string `yaml:"addr"`
	Password string `yaml:"password"`
	// MemoryWarn and MemoryCrit are the shares of maxmemory in use that make a WARN and a CRIT.
	MemoryWarn float64 `yaml:"memory_warn"`
	MemoryCrit float64 `yaml:"memory_crit"`
	// SlowCommand is how long a command in the slow log must have taken to be reported.
	SlowCommand Duration `yaml:"slow_command"`
}

// Thresholds are the runbook's alert triggers.
type Thresholds struct {
	P95Latency   Duration `yaml:"p95_latency"`
	ErrorRate    float64  `yaml:"error_rate"` // fraction, 0.01 = 1 %
	DBQueryTime  Duration `yaml:"db_query_time"`
	MemoryUsage  float64  `yaml:"memory_usage"` // fraction of total
	CPUUsage     float64  `yaml:"cpu_usage"`    // fraction of all cores
	CrewAIErrors float64  `yaml:"crewai_error_rate"`
	OpenAIP95    Duration `yaml:"openai_p95"`
	// MinRequests is the traffic floor for per-endpoint shares: an endpoint with fewer requests in
	// the window is not judged by its error share (one failed request is not a 100 % outage).
	MinRequests float64 `yaml:"min_requests"`
}

// Logs configures the log patterns the logs probe groups lines by.
type Logs struct {
	Since    Duration  `yaml:"since"`
	Patterns []Pattern `yaml:"patterns"`
}

// Pattern is one named regular expression over log lines.
type Pattern struct {
	Name  string `yaml:"name"`
	Regex string `yaml:"regex"`
}

// Slack holds the tokens (from the environment) and API location.
type Slack struct {
	AppToken string `yaml:"app_token"`
	BotToken string `yaml:"bot_token"`
	// APIURL points the client at another Slack API (the local server in tests and the demo).
	APIURL  string `yaml:"api_url"`
	Workers int    `yaml:"workers"`
}

// State is where perfbot keeps its own data.
type State struct {
	PostgresDSN string `yaml:"postgres_dsn"`
	RedisAddr   string `yaml:"redis_addr"`
	// ShareProbes says where identical probe runs are shared: "redis" (default: across replicas,
	// through RedisAddr; per process while Redis does not answer) or "process" (each process alone).
	ShareProbes string `yaml:"share_probes"`
	// WorkLease is how long a replica holds a command it accepted without renewing it: when a
	// replica dies, its unfinished commands are taken up by another after at most this long.
	WorkLease Duration `yaml:"work_lease"`
}

// The places state.share_probes accepts.
const (
	ShareRedis   = "redis"
	ShareProcess = "process"
)

// HTTP is perfbot's own listener (Alertmanager webhook, postmortems, metrics).
type HTTP struct {
	Listen string `yaml:"listen"`
	// AlertmanagerToken is the bearer token Alertmanager sends to POST /alertmanager. Empty turns
	// the webhook off (404): an endpoint without a token is never open.
	AlertmanagerToken string `yaml:"alertmanager_token"`
	// PostmortemToken is the bearer token for reading GET /incidents/{id}/postmortem; it is not the
	// webhook's (that one can open incidents, this one reads them). Empty turns the endpoint off (404).
	PostmortemToken string `yaml:"postmortem_token"`
}

// Commands bounds how long a command may take.
type Commands struct {
	Deadline     Duration `yaml:"deadline"`
	ProbeTimeout Duration `yaml:"probe_timeout"`
}

// Incidents configures escalation.
type Incidents struct {
	OnCall []string          `yaml:"on_call"`
	Levels []EscalationLevel `yaml:"levels"`
	// MayResolve says who may escalate or resolve an incident: Slack user IDs, and the words
	// "responders" (whoever opened it and the users its fired levels paged) and "on_call"
	// (incidents.on_call). Default: responders and on_call.
	MayResolve []string `yaml:"may_resolve"`
	// Announce names, per service, the channel (ID) where stakeholders read short updates: when an
	// incident opens, escalates, gets a status update and is resolved. A service without one announces nothing.
	Announce map[string]string `yaml:"announce"`
	// UpdateEvery is how often a status update is due, per severity (sev1, sev2, sev3); an overdue
	// one is asked for in the incident channel.
	UpdateEvery map[string]Duration `yaml:"update_every"`
}

// The words incidents.may_resolve accepts besides user IDs.
const (
	MayResolveResponders = "responders"
	MayResolveOnCall     = "on_call"
)

// EscalationLevel is one rung of the runbook's escalation ladder.
type EscalationLevel struct {
	Name  string   `yaml:"name"`
	After Duration `yaml:"after"`
	Page  []string `yaml:"page"`
	// Duties are what this level is expected to do, shown as a checklist on its page (default: the runbook's).
	Duties []string `yaml:"duties"`
}

// Actions configures which changes may be requested and who approves them.
type Actions struct {
	Approvers     []string          `yaml:"approvers"`
	ApproverGroup string            `yaml:"approver_group"`
	Expiry        Duration          `yaml:"expiry"`
	Allowed       []string          `yaml:"allowed"`
	Deployments   []DeploymentLimit `yaml:"deployments"`
	Databases     []string          `yaml:"databases"`
	// Deadlines bound how long an approved action of each kind (scale, limits, analyze, index,
	// cancel, rollback, restart, explain-analyze) may run before it is stopped and fails; unset kinds take DefaultActionDeadlines.
	Deadlines map[string]Duration `yaml:"deadlines"`
	// RolloutWait is how long a rollback or restart waits for its new pods to be ready before it
	// reports the rollout as still in progress (not failed).
	RolloutWait Duration `yaml:"rollout_wait"`
	// ShutdownWait is how long a stopping perfbot waits for the actions it runs; those still running
	// then are left to lease recovery (another replica, or this one when it starts again).
	ShutdownWait Duration `yaml:"shutdown_wait"`
}

// DefaultActionDeadlines are the deadlines of actions whose kind actions.deadlines does not name.
// CREATE INDEX CONCURRENTLY on a large, busy table may take hours.
var DefaultActionDeadlines = map[string]Duration{
	"scale": Duration(2 * time.Minute), "limits": Duration(2 * time.Minute), "analyze": Duration(30 * time.Minute),
	"index": Duration(6 * time.Hour), "cancel": Duration(time.Minute),
	// A rollback and a restart wait for the new pods to be ready; EXPLAIN ANALYZE runs the statement
	// under this deadline as its statement_timeout.
	"rollback": Duration(5 * time.Minute), "restart": Duration(5 * time.Minute), "explain-analyze": Duration(time.Minute),
}

// DeploymentLimit is one deployment actions may touch, and the replica range allowed.
type DeploymentLimit struct {
	Namespace   string `yaml:"namespace"`
	Name        string `yaml:"name"`
	MinReplicas int32  `yaml:"min_replicas"`
	MaxReplicas int32  `yaml:"max_replicas"`
}

// Duration is a time.Duration written as "500ms" or "5m" in YAML.
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as a Go duration string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Load reads a YAML file strictly (unknown keys are errors), expands ${VAR} from env, and fills defaults.
// It does not validate; call Validate for every problem at once.
func Load(path string, getenv func(string) string) (*Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(raw, getenv)
}

// Parse is Load on bytes. ${VAR} is expanded after parsing, inside scalar values only, so a
// variable's value is always exactly one value: it cannot end at a " #", change the document's
// structure or add keys, and references inside comments are not read at all. Inside a flow
// collection ({…} or […]) YAML reads "{" and "}" as structure, so quote the reference there.
func Parse(raw []byte, getenv func(string) string) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("parse config: %w", err)
	}
	c := &Config{}
	if doc.Kind != 0 {
		c.MissingEnv = expandEnv(&doc, getenv)
		if err := errors.Join(unknownKeys(&doc, reflect.TypeOf(c).Elem(), "")...); err != nil {
			return nil, fmt.Errorf("parse config: %w", err)
		}
		if err := doc.Decode(c); err != nil {
			return nil, fmt.Errorf("parse config: %w", err)
		}
	}
	c.ApplyDefaults()
	return c, nil
}

// Service returns the named service, or the first one when name is empty.
func (c *Config) Service(name string) (Service, bool) {
	if name == "" && len(c.Services) > 0 {
		return c.Services[0], true
	}
	for _, s := range c.Services {
		if s.Name == name {
			return s, true
		}
	}
	return Service{}, false
}

// ServiceNames lists the configured services in order.
func (c *Config) ServiceNames() []string {
	out := make([]string, len(c.Services))
	for i, s := range c.Services {
		out[i] = s.Name
	}
	return out
}
