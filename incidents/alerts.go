package incidents

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"
)

// Webhook is Alertmanager's webhook payload, version 4.
type Webhook struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []Alert           `json:"alerts"`
}

// Alert is one alert of a webhook, with its group's receiver, key and Alertmanager URL copied in.
type Alert struct {
	Status       string            `json:"status"` // "firing" or "resolved"
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`

	Receiver    string `json:"-"`
	GroupKey    string `json:"-"`
	ExternalURL string `json:"-"`
}

// Alert statuses.
const (
	AlertFiring   = "firing"
	AlertResolved = "resolved"
)

// Name is the alert's alertname label.
func (a Alert) Name() string { return a.Labels["alertname"] }

// Firing reports whether the alert is firing (not resolved).
func (a Alert) Firing() bool { return a.Status == AlertFiring }

// ParseWebhook decodes and checks an Alertmanager webhook body. It rejects anything but version
// "4", a body without alerts, unknown statuses, and missing or malformed times, so that a bad
// body stores nothing. Alerts without a fingerprint get one computed from their labels.
func ParseWebhook(body []byte) (Webhook, error) {
	var w Webhook
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&w); err != nil {
		return Webhook{}, fmt.Errorf("decode webhook: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Webhook{}, errors.New("decode webhook: data after the JSON object")
	}
	if w.Version != "4" {
		return Webhook{}, fmt.Errorf("webhook version %q is not supported (want \"4\")", w.Version)
	}
	if w.Status != AlertFiring && w.Status != AlertResolved {
		return Webhook{}, fmt.Errorf("webhook status %q is neither firing nor resolved", w.Status)
	}
	if len(w.Alerts) == 0 {
		return Webhook{}, errors.New("webhook has no alerts")
	}
	for i := range w.Alerts {
		a := &w.Alerts[i]
		if err := checkAlert(a); err != nil {
			return Webhook{}, fmt.Errorf("alert %d: %w", i, err)
		}
		a.Receiver, a.GroupKey, a.ExternalURL = w.Receiver, w.GroupKey, w.ExternalURL
	}
	return w, nil
}

func checkAlert(a *Alert) error {
	if a.Status != AlertFiring && a.Status != AlertResolved {
		return fmt.Errorf("status %q is neither firing nor resolved", a.Status)
	}
	if len(a.Labels) == 0 {
		return errors.New("no labels")
	}
	if a.StartsAt.IsZero() {
		return errors.New("no startsAt")
	}
	if a.Status == AlertResolved && a.EndsAt.Before(a.StartsAt) {
		return fmt.Errorf("resolved alert ends (%s) before it starts (%s)", a.EndsAt.Format(time.RFC3339), a.StartsAt.Format(time.RFC3339))
	}
	a.StartsAt, a.EndsAt = a.StartsAt.UTC(), a.EndsAt.UTC()
	if a.Fingerprint == "" {
		a.Fingerprint = labelsFingerprint(a.Labels)
	}
	return nil
}

// labelsFingerprint is a stable hash of a label set, for alerts that arrive without a fingerprint.
func labelsFingerprint(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s\xff%s\xff", k, labels[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
