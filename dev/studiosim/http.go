package studiosim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// slowQuery is the duration above which a database call is logged as a slow query.
const slowQuery = 200 * time.Millisecond

// statusClientClosed is recorded when the client went away before the answer (nginx's 499).
const statusClientClosed = 499

// apiHandler serves one endpoint; a returned error becomes the response and an ERROR line.
type apiHandler func(w http.ResponseWriter, r *http.Request) error

// httpError is an error with the status and public message it is answered with.
type httpError struct {
	status int
	msg    string
	err    error
}

func (e *httpError) Error() string {
	if e.err == nil {
		return e.msg
	}
	return e.msg + ": " + e.err.Error()
}

func (e *httpError) Unwrap() error { return e.err }

// errInjected is the cause of responses failed by the errors fault.
var errInjected = errors.New("unhandled exception (injected fault)")

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// instrument applies the endpoint's latency and error faults, records the request in the
// runbook's HTTP metrics and logs every 5xx as `request failed`.
func (s *Server) instrument(endpoint string, h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		s.pods.requests.Add(1)
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		err := s.serveAPI(endpoint, sw, r, h)
		if err != nil && !sw.wrote {
			status, msg := errorStatus(r.Context(), err)
			writeJSON(sw, status, map[string]string{"error": msg})
		}
		d := time.Since(start)
		status := statusText(sw.status)
		s.metrics.reqDuration.WithLabelValues(endpoint, r.Method, status).Observe(d.Seconds())
		s.metrics.reqTotal.WithLabelValues(endpoint, r.Method, status).Inc()
		if sw.status >= 500 {
			s.log.Error("request failed", "endpoint", endpoint, "status", sw.status, "method", r.Method,
				"duration", d, "error", errText(err))
		}
	})
}

func (s *Server) serveAPI(endpoint string, w http.ResponseWriter, r *http.Request, h apiHandler) error {
	eff := s.faults.effects()
	if d := eff.latency[endpoint]; d > 0 {
		if err := sleep(r.Context(), d); err != nil {
			return err
		}
	}
	if hit(eff.errorRate[endpoint]) {
		return &httpError{status: http.StatusInternalServerError, msg: "internal server error", err: errInjected}
	}
	return h(w, r)
}

func errorStatus(ctx context.Context, err error) (int, string) {
	var he *httpError
	switch {
	case errors.As(err, &he):
		return he.status, he.msg
	case ctx.Err() != nil:
		return statusClientClosed, "client closed request"
	default:
		return http.StatusInternalServerError, "internal server error"
	}
}

func errText(err error) string {
	if err == nil {
		return "none"
	}
	return err.Error()
}

// statusText avoids an allocation per request for the common statuses.
func statusText(code int) string {
	switch code {
	case 200:
		return "200"
	case 202:
		return "202"
	case 400:
		return "400"
	case 500:
		return "500"
	case 503:
		return "503"
	}
	return strconv.Itoa(code)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// withConn runs fn on a pool connection under the query budget. A pool that cannot hand out a
// connection in time is logged as `database connection timeout` (503); a statement over 200 ms
// as `slow query`; a statement over its budget as `database query timeout`.
func (s *Server) withConn(ctx context.Context, endpoint, table string, fn func(context.Context, *pgxpool.Conn) error) error {
	actx, cancel := context.WithTimeout(ctx, s.opts.AcquireTimeout)
	start := time.Now()
	conn, err := s.pool.Acquire(actx)
	cancel()
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			waited := time.Since(start)
			s.log.Error("database connection timeout", "endpoint", endpoint, "table", table, "waited", waited,
				"pool_size", s.opts.Pool)
			return &httpError{status: http.StatusServiceUnavailable, msg: "database unavailable",
				err: fmt.Errorf("acquire connection: pool exhausted after %s", waited.Round(time.Millisecond))}
		}
		return fmt.Errorf("acquire connection: %w", err)
	}
	defer conn.Release()
	qctx, cancel := context.WithTimeout(ctx, s.opts.QueryTimeout)
	defer cancel()
	qstart := time.Now()
	err = fn(qctx, conn)
	d := time.Since(qstart)
	if d > slowQuery {
		s.log.Warn("slow query", "duration", d, "table", table, "endpoint", endpoint)
	}
	if err != nil && ctx.Err() == nil && qctx.Err() != nil {
		s.log.Error("database query timeout", "endpoint", endpoint, "table", table, "waited", d)
		return &httpError{status: http.StatusInternalServerError, msg: "database query timeout", err: err}
	}
	if err != nil {
		return fmt.Errorf("query %s: %w", table, err)
	}
	return nil
}
