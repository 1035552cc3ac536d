package stacktest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// BuildGo builds the main package pkg (relative to the repository root, e.g. "./cmd/perfbot") into a
// temporary directory with the go tool and returns the binary's path.
func BuildGo(t testing.TB, pkg string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Dir = repoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// repoRoot is the directory holding go.mod, found upwards from the test's directory.
func repoRoot(t testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// Process is a program a test runs as a real OS process, its output going to a log file.
type Process struct {
	Cmd  *exec.Cmd
	Log  string // path of the combined stdout and stderr
	done chan struct{}
	err  error
}

// StartProcess runs bin with args until the test ends (or Kill/Stop), logging to a file in a
// temporary directory; the log is printed when the test fails.
func StartProcess(t testing.TB, bin string, args ...string) *Process {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), filepath.Base(bin)+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	p := &Process{Cmd: exec.Command(bin, args...), Log: logPath, done: make(chan struct{})}
	p.Cmd.Stdout, p.Cmd.Stderr = logf, logf
	if err := p.Cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		p.err = p.Cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			out, _ := os.ReadFile(logPath)
			t.Logf("%s (pid %d) log:\n%s", filepath.Base(bin), p.Cmd.Process.Pid, out)
		}
	})
	return p
}

// Pid is the process's ID.
func (p *Process) Pid() int { return p.Cmd.Process.Pid }

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Kill ends the process with SIGKILL, as a crash or an OOM kill would, and waits for it to be gone.
func (p *Process) Kill() {
	_ = p.Cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Stop asks the process to end with SIGTERM and kills it after 10 s; it returns once the process is gone.
func (p *Process) Stop() {
	if p.Exited() {
		return
	}
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.Kill()
	}
}

// Err is how the process ended: nil for exit status 0, an *exec.ExitError otherwise; nil while running.
func (p *Process) Err() error {
	if !p.Exited() {
		return nil
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee
	}
	return p.err
}
