// Package probetest holds what the tests of perfbot's probe packages share: looking into a
// probes.Result, waiting for a condition, a backend that never answers, and Kubernetes objects on
// the local control plane.
package probetest

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/perfbot/perfbot/probes"
)

// Eventually polls cond every 100ms until it is true, failing the test once timeout has passed.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Table returns the result's first table whose title starts with prefix.
func Table(r probes.Result, prefix string) (probes.Table, bool) {
	for _, t := range r.Tables {
		if strings.HasPrefix(t.Title, prefix) {
			return t, true
		}
	}
	return probes.Table{}, false
}

// Finding returns the result's first finding whose Check is check.
func Finding(r probes.Result, check string) (probes.Finding, bool) {
	for _, f := range r.Findings {
		if f.Check == check {
			return f, true
		}
	}
	return probes.Finding{}, false
}

// Findings returns the findings with the given check (and subject, when not empty).
func Findings(r probes.Result, check, subject string) []probes.Finding {
	var out []probes.Finding
	for _, f := range r.Findings {
		if f.Check == check && (subject == "" || f.Subject == subject) {
			out = append(out, f)
		}
	}
	return out
}

// Text is everything in a result a person would read, for leak checks.
func Text(r probes.Result) string {
	var b strings.Builder
	b.WriteString(r.Summary + "\n")
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "%s %s %s\n", f.Check, f.Subject, f.Message)
	}
	for _, t := range r.Tables {
		b.WriteString(t.Title + "\n")
		for _, row := range t.Rows {
			b.WriteString(strings.Join(row, " | ") + "\n")
		}
	}
	return b.String()
}

// HangingListener accepts TCP connections on loopback and never answers, like a backend that hangs;
// it returns the address and closes everything when the test ends.
func HangingListener(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		<-done // the accept loop has ended, so conns is ours
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return l.Addr().String()
}
