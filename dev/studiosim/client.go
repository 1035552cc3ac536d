package studiosim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client drives a simulator's admin API.
type Client struct {
	BaseURL string       // e.g. http://127.0.0.1:18000
	HTTP    *http.Client // nil means http.DefaultClient
}

// APIError is a non-success answer of the admin API.
type APIError struct {
	Status  int
	Message string
}

// Error says what the server answered.
func (e *APIError) Error() string {
	return fmt.Sprintf("studiosim: %d %s: %s", e.Status, http.StatusText(e.Status), e.Message)
}

// Inject puts f into effect and returns its id; it returns once the fault is real.
func (c *Client) Inject(ctx context.Context, f Fault) (string, error) {
	f.ID, f.CreatedAt, f.RetainedMB = "", time.Time{}, 0
	body, err := json.Marshal(f)
	if err != nil {
		return "", fmt.Errorf("encode fault: %w", err)
	}
	var out Fault
	if err := c.do(ctx, http.MethodPost, "/admin/faults", body, http.StatusCreated, &out); err != nil {
		return "", fmt.Errorf("inject %s: %w", f.Kind, err)
	}
	return out.ID, nil
}

// Clear undoes the fault with the given id.
func (c *Client) Clear(ctx context.Context, id string) error {
	if err := c.do(ctx, http.MethodDelete, "/admin/faults/"+url.PathEscape(id), nil, http.StatusNoContent, nil); err != nil {
		return fmt.Errorf("clear fault %s: %w", id, err)
	}
	return nil
}

// ClearAll undoes every active fault.
func (c *Client) ClearAll(ctx context.Context) error {
	if err := c.do(ctx, http.MethodDelete, "/admin/faults", nil, http.StatusNoContent, nil); err != nil {
		return fmt.Errorf("clear all faults: %w", err)
	}
	return nil
}

// List returns the active faults in injection order.
func (c *Client) List(ctx context.Context) ([]Fault, error) {
	var out faultList
	if err := c.do(ctx, http.MethodGet, "/admin/faults", nil, http.StatusOK, &out); err != nil {
		return nil, fmt.Errorf("list faults: %w", err)
	}
	return out.Faults, nil
}

func (c *Client) do(ctx context.Context, method, path string, body []byte, want int, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode != want {
		var e struct {
			Error string `json:"error"`
		}
		msg := strings.TrimSpace(string(b))
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		return &APIError{Status: resp.StatusCode, Message: msg}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("decode answer: %w", err)
		}
	}
	return nil
}
