package studiosim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

const (
	runInsertSQL     = `INSERT INTO agent_runs (topic, status) VALUES ($1, 'running') RETURNING id`
	runInsertSlowSQL = `WITH delay AS MATERIALIZED (SELECT pg_sleep($2))
INSERT INTO agent_runs (topic, status) SELECT $1, 'running' FROM delay RETURNING id`
	runFinishSQL = `UPDATE agent_runs SET status = $2, error = $3, tasks = $4, finished_at = now() WHERE id = $1`
)

// errTaskFailed is the cause of agent tasks failed by the crewai_failures fault.
var errTaskFailed = errors.New("agent output failed validation")

// runRequest is the body of POST /api/agents/run.
type runRequest struct {
	Topic string `json:"topic"`
}

// runResult is the answer of POST /api/agents/run.
type runResult struct {
	RunID  int64  `json:"run_id"`
	Status string `json:"status"` // running (queued in the background), success or error
	Tasks  int    `json:"tasks,omitempty"`
	Error  string `json:"error,omitempty"`
}

// handleAgentsRun records a run and starts a crew (researcher, writer, reviewer) for it. The
// crew runs in the background and the answer is 202, as CrewAI work takes seconds; with
// ?wait=true the crew runs inside the request and the answer carries its outcome.
func (s *Server) handleAgentsRun(w http.ResponseWriter, r *http.Request) error {
	var req runRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			return &httpError{status: http.StatusBadRequest, msg: "body: want JSON {\"topic\": \"...\"}: " + err.Error()}
		}
	}
	if req.Topic == "" {
		req.Topic = "market research: " + categories[rand.IntN(len(categories))]
	}
	select {
	case s.crewSlots <- struct{}{}:
	default:
		return &httpError{status: http.StatusServiceUnavailable, msg: "crew capacity exhausted",
			err: fmt.Errorf("%d crews already running", cap(s.crewSlots))}
	}
	id, err := s.insertRun(r.Context(), req.Topic)
	if err != nil {
		<-s.crewSlots
		return err
	}
	if r.URL.Query().Get("wait") == "true" {
		res := s.runCrew(r.Context(), id)
		<-s.crewSlots
		writeJSON(w, http.StatusOK, res)
		return nil
	}
	s.crews.Add(1)
	go func() {
		defer s.crews.Done()
		defer func() { <-s.crewSlots }()
		s.runCrew(s.bg, id)
	}()
	writeJSON(w, http.StatusAccepted, runResult{RunID: id, Status: "running"})
	return nil
}

func (s *Server) insertRun(ctx context.Context, topic string) (int64, error) {
	var id int64
	err := s.withConn(ctx, EndpointAgentsRun, "agent_runs", func(ctx context.Context, c *pgxpool.Conn) error {
		if sec := s.faults.effects().sqlSleep(EndpointAgentsRun); sec > 0 {
			return c.QueryRow(ctx, runInsertSlowSQL, topic, sec).Scan(&id)
		}
		return c.QueryRow(ctx, runInsertSQL, topic).Scan(&id)
	})
	return id, err
}

// runCrew runs the agents in sequence, stops at the first failed task and records the outcome.
func (s *Server) runCrew(ctx context.Context, id int64) runResult {
	res := runResult{RunID: id, Status: "success"}
	for _, agent := range agents {
		if err := s.runTask(ctx, id, agent); err != nil {
			res.Status, res.Error = "error", err.Error()
			if ctx.Err() != nil {
				res.Status = "cancelled"
			}
			break
		}
		res.Tasks++
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	var errText *string
	if res.Error != "" {
		errText = &res.Error
	}
	err := s.withConn(fctx, EndpointAgentsRun, "agent_runs", func(ctx context.Context, c *pgxpool.Conn) error {
		_, err := c.Exec(ctx, runFinishSQL, id, res.Status, errText, res.Tasks)
		return err
	})
	if err != nil {
		s.log.Error("record agent run failed", "run_id", id, "error", err)
	}
	return res
}

// runTask is one agent's task: its model calls, a little local work, and the crewai_failures fault.
func (s *Server) runTask(ctx context.Context, runID int64, agent string) error {
	start := time.Now()
	err := s.taskCalls(ctx, agent)
	if err == nil {
		err = sleep(ctx, jittered(s.opts.OpenAILatency/20)) // parsing, tool use
	}
	if err == nil && hit(s.faults.effects().crewFailure(agent)) {
		err = errTaskFailed
	}
	if ctx.Err() != nil {
		s.log.Info("crewai task cancelled", "agent", agent, "run_id", runID)
		return ctx.Err()
	}
	s.metrics.crewDuration.WithLabelValues(agent).Observe(time.Since(start).Seconds())
	status := "success"
	if err != nil {
		status = "error"
		s.log.Error("crewai task failed", "agent", agent, "run_id", runID, "error", err)
	}
	s.metrics.crewTasks.WithLabelValues(agent, status).Inc()
	return err
}

// taskCalls makes the agent's model calls: the researcher searches then summarises, the writer
// drafts with the large model, the reviewer sometimes asks the second provider.
func (s *Server) taskCalls(ctx context.Context, agent string) error {
	switch agent {
	case "researcher":
		if err := s.callOpenAIRetrying(ctx, agent, "gpt-4o-mini"); err != nil {
			return err
		}
		return s.callOpenAIRetrying(ctx, agent, "gpt-4o-mini")
	case "writer":
		return s.callOpenAIRetrying(ctx, agent, "gpt-4o")
	default:
		if rand.IntN(5) == 0 {
			return s.callAnthropic(ctx)
		}
		return s.callOpenAIRetrying(ctx, agent, "gpt-4o-mini")
	}
}
