package incidents

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
)

// AlertOptions configures AlertHandler.
type AlertOptions struct {
	// Token is the bearer token Alertmanager sends (http_config.authorization.credentials).
	// An empty token refuses every request: the endpoint is never open by accident.
	Token string
	// MaxBody bounds the request body in bytes (default 1 MiB).
	MaxBody int64
	// OnAlert is called once per new alert notification. The bot calls Store.HandleAlert and, when
	// it opened an incident, creates the channel and starts the assessment (in the background, so
	// Alertmanager is answered quickly). Success completes the alert's receipt: later deliveries
	// are duplicates. An error makes the handler answer 500 and release the receipt, so
	// Alertmanager's retry handles it again; if the process dies during OnAlert, the receipt is
	// claimable again once Options.AlertLease has passed. Nil means HandleAlert alone.
	OnAlert func(ctx context.Context, a Alert) error
	Log     *slog.Logger
}

// alertReply is the handler's JSON answer.
type alertReply struct {
	Received   int    `json:"received"`
	New        int    `json:"new"`
	Duplicates int    `json:"duplicates"`
	Error      string `json:"error,omitempty"`
}

// AlertHandler serves Alertmanager's webhook (POST, version 4): 401 without the bearer token,
// 413 for an oversized body, 400 for a bad body (nothing stored), 500 when handling failed,
// otherwise 200 with counts. Each alert is handled once per (fingerprint, startsAt, status), or
// again when a process died while handling it (see Store.ClaimAlert).
func AlertHandler(st *Store, opts AlertOptions) http.Handler {
	if opts.MaxBody <= 0 {
		opts.MaxBody = 1 << 20
	}
	if opts.Log == nil {
		opts.Log = st.log
	}
	if opts.OnAlert == nil {
		opts.OnAlert = func(ctx context.Context, a Alert) error { _, err := st.HandleAlert(ctx, a); return err }
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			reply(w, http.StatusMethodNotAllowed, alertReply{Error: "POST only"})
			return
		}
		if opts.Token == "" || !bearerOK(r, opts.Token) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="perfbot"`)
			reply(w, http.StatusUnauthorized, alertReply{Error: "unauthorized"})
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, opts.MaxBody))
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			reply(w, http.StatusRequestEntityTooLarge, alertReply{Error: "body too large"})
			return
		}
		if err != nil {
			reply(w, http.StatusBadRequest, alertReply{Error: "read body: " + err.Error()})
			return
		}
		hook, err := ParseWebhook(body)
		if err != nil {
			opts.Log.Warn("bad alertmanager webhook", "err", err)
			reply(w, http.StatusBadRequest, alertReply{Error: err.Error()})
			return
		}
		status, rep := handleAlerts(r.Context(), st, opts, hook)
		reply(w, status, rep)
	})
}

// handleAlerts claims and handles each alert; successes are completed, failures released for
// Alertmanager's retry.
func handleAlerts(ctx context.Context, st *Store, opts AlertOptions, hook Webhook) (int, alertReply) {
	rep := alertReply{Received: len(hook.Alerts)}
	var failed []string
	for _, a := range hook.Alerts {
		claim, fresh, err := st.ClaimAlert(ctx, a)
		if err != nil {
			opts.Log.Error("claim alert", "alert", a.Name(), "err", err)
			failed = append(failed, a.Name())
			continue
		}
		if !fresh {
			rep.Duplicates++
			continue
		}
		if err := opts.OnAlert(ctx, a); err != nil {
			opts.Log.Error("handle alert", "alert", a.Name(), "fingerprint", a.Fingerprint, "err", err)
			failed = append(failed, a.Name())
			if rerr := st.ReleaseAlert(context.WithoutCancel(ctx), claim); rerr != nil {
				opts.Log.Error("release alert", "err", rerr)
			}
			continue
		}
		if err := st.CompleteAlert(context.WithoutCancel(ctx), claim); err != nil {
			// Handled, but a redelivery after the lease is handled again; HandleAlert does not
			// record one notification twice on an open incident, so the repeat is mostly harmless.
			opts.Log.Error("complete alert", "alert", a.Name(), "fingerprint", a.Fingerprint, "err", err)
		}
		rep.New++
	}
	if len(failed) > 0 {
		rep.Error = "failed to handle: " + strings.Join(failed, ", ")
		return http.StatusInternalServerError, rep
	}
	return http.StatusOK, rep
}

// bearerOK checks "Authorization: Bearer <token>" in constant time.
func bearerOK(r *http.Request, token string) bool {
	got := []byte(r.Header.Get("Authorization"))
	return subtle.ConstantTimeCompare(got, []byte("Bearer "+token)) == 1
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
