package slackserver

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// FaultPanel is what the web view's fault panel drives: the faults of the service under watch.
// The demo gives the server one (SetFaultPanel); without one the page shows no panel.
type FaultPanel interface {
	// Faults lists every fault a visitor can inject, and whether each is in effect.
	Faults(ctx context.Context) ([]Fault, error)
	// Inject puts the named fault into effect; Clear undoes it ("" undoes every fault).
	Inject(ctx context.Context, name string) error
	Clear(ctx context.Context, name string) error
}

// Fault is one entry of the fault panel.
type Fault struct {
	Name   string `json:"name"`   // e.g. "latency"
	Label  string `json:"label"`  // e.g. "Slow API"
	Does   string `json:"does"`   // one line: what it does and what perfbot should find
	Active bool   `json:"active"` // in effect now
}

// SetFaultPanel shows p's faults in the web view.
func (s *Server) SetFaultPanel(p FaultPanel) {
	s.mu.Lock()
	s.faults = p
	s.mu.Unlock()
}

func (s *Server) faultPanel() FaultPanel {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// faultTimeout bounds one call to the panel: injecting a lock or filling Redis takes a moment.
const faultTimeout = 20 * time.Second

func (w *webUI) listFaults(rw http.ResponseWriter, r *http.Request) {
	p := w.s.faultPanel()
	if p == nil {
		uiJSON(rw, http.StatusOK, map[string]any{"ok": true, "faults": []Fault{}})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), faultTimeout)
	defer cancel()
	fs, err := p.Faults(ctx)
	if err != nil {
		uiJSON(rw, http.StatusBadGateway, map[string]any{"ok": false, "error": err.Error()})
		return
	}
	uiJSON(rw, http.StatusOK, map[string]any{"ok": true, "faults": fs})
}

// setFault injects or clears one fault: {"name": "latency", "on": true}.
func (w *webUI) setFault(rw http.ResponseWriter, r *http.Request) {
	var req struct {
		Name string `json:"name"`
		On   bool   `json:"on"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(rw, r.Body, 4<<10)).Decode(&req); err != nil {
		uiJSON(rw, http.StatusBadRequest, map[string]any{"ok": false, "error": "unreadable request: " + err.Error()})
		return
	}
	p := w.s.faultPanel()
	if p == nil {
		uiJSON(rw, http.StatusNotFound, map[string]any{"ok": false, "error": "no simulator is attached to this workspace (run perfbot demo)"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), faultTimeout)
	defer cancel()
	var err error
	if req.On {
		err = p.Inject(ctx, req.Name)
	} else {
		err = p.Clear(ctx, req.Name)
	}
	if err != nil {
		uiJSON(rw, http.StatusBadRequest, map[string]any{"ok": false, "error": err.Error()})
		return
	}
	w.s.notify()
	uiJSON(rw, http.StatusOK, map[string]any{"ok": true})
}
