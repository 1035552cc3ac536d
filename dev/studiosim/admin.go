package studiosim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// maxFaultBody bounds the size of a fault request body.
const maxFaultBody = 64 << 10

// faultList is the body of GET /admin/faults.
type faultList struct {
	Faults []Fault `json:"faults"`
}

func (s *Server) adminRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /admin/faults", s.handleInject)
	mux.HandleFunc("GET /admin/faults", s.handleList)
	mux.HandleFunc("DELETE /admin/faults", s.handleClearAll)
	mux.HandleFunc("DELETE /admin/faults/{id}", s.handleClear)
}

// handleInject answers 201 with the fault and its id once the fault is in effect, 400 when
// the body is not a valid fault.
func (s *Server) handleInject(w http.ResponseWriter, r *http.Request) {
	f, err := decodeFault(r.Body)
	if err == nil {
		f, err = s.InjectFault(r.Context(), f)
	}
	var inv errInvalid
	switch {
	case errors.As(err, &inv):
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
	case errors.Is(err, errClosed):
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
	case err != nil:
		s.log.Error("fault injection failed", "error", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
	default:
		writeJSON(w, http.StatusCreated, f)
	}
}

// decodeFault reads exactly one JSON fault object; anything else is invalid input.
func decodeFault(body io.Reader) (Fault, error) {
	b, err := io.ReadAll(io.LimitReader(body, maxFaultBody+1))
	if err != nil {
		return Fault{}, errInvalid{fmt.Errorf("read body: %w", err)}
	}
	if len(b) > maxFaultBody {
		return Fault{}, errInvalid{fmt.Errorf("body larger than %d bytes", maxFaultBody)}
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return Fault{}, errInvalid{errors.New(`empty body: want a JSON fault such as {"kind":"latency","endpoint":"/api/ideas","delay":"800ms"}`)}
	}
	var f Fault
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&f); err != nil {
		return Fault{}, errInvalid{fmt.Errorf("bad fault JSON: %w", err)}
	}
	if dec.More() {
		return Fault{}, errInvalid{errors.New("bad fault JSON: trailing data after the object")}
	}
	if f.ID != "" || !f.CreatedAt.IsZero() {
		return Fault{}, errInvalid{errors.New("id and created_at are set by the server")}
	}
	return f, nil
}

func (s *Server) handleList(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, faultList{Faults: s.Faults()})
}

func (s *Server) handleClear(w http.ResponseWriter, r *http.Request) {
	err := s.ClearFault(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, errNotFound):
		writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
	case err != nil:
		s.log.Error("fault clear failed", "error", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Server) handleClearAll(w http.ResponseWriter, r *http.Request) {
	if err := s.ClearFaults(r.Context()); err != nil {
		s.log.Error("fault clear failed", "error", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
