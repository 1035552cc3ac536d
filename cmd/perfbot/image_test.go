package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestImageRecipe reads the Dockerfile (no container engine is needed): the final stage is an
// empty base (no shell, no package manager) holding CA certificates, time zone data and the binary,
// run as a non-root user; the binary is built by the Dockerfile's own command, which must give a
// static executable whose `perfbot version` prints the stamped version and commit.
func TestImageRecipe(t *testing.T) {
	raw, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := strings.ReplaceAll(string(raw), "\\\n", " ")
	stages := regexp.MustCompile(`(?m)^FROM `).Split(df, -1)
	final := stages[len(stages)-1]
	if !strings.HasPrefix(final, "scratch") {
		t.Errorf("final stage is FROM %s; want scratch (no shell, no package manager)", strings.SplitN(final, "\n", 2)[0])
	}
	for _, want := range []string{"/etc/ssl/certs/ca-certificates.crt", "/usr/share/zoneinfo", "/usr/local/bin/perfbot", "/etc/passwd"} {
		if !strings.Contains(final, want) {
			t.Errorf("the final stage does not copy %s", want)
		}
	}
	user := regexp.MustCompile(`(?m)^USER (\d+)(?::(\d+))?`).FindStringSubmatch(final)
	if user == nil || user[1] == "0" {
		t.Errorf("the image must run as a numeric non-root user (runAsNonRoot can check only numbers); USER = %v", user)
	}
	if strings.Contains(final, "RUN ") {
		t.Error("the final stage runs commands: it has no shell to run them with")
	}
	m := regexp.MustCompile(`(?m)^RUN CGO_ENABLED=0 go build (.*) -o /out/perfbot ./cmd/perfbot$`).FindStringSubmatch(df)
	if m == nil {
		t.Fatal("no `RUN CGO_ENABLED=0 go build … -o /out/perfbot ./cmd/perfbot` line")
	}
	ldflags := regexp.MustCompile(`-ldflags "([^"]*)"`).FindStringSubmatch(m[1])
	if ldflags == nil || !strings.Contains(ldflags[1], "-X main.version=${VERSION}") || !strings.Contains(ldflags[1], "-X main.commit=${COMMIT}") {
		t.Fatalf("the build does not stamp main.version and main.commit: %s", m[1])
	}
	flags := strings.NewReplacer("${VERSION}", "v0.9.0", "${COMMIT}", "c0ffee").Replace(ldflags[1])
	bin := filepath.Join(t.TempDir(), "perfbot")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", flags, "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary needs a dynamic loader; the image has none")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary links %v; the image has no libraries", libs)
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "perfbot v0.9.0 (commit c0ffee)" {
		t.Errorf("perfbot version: %v %q", err, out)
	}
}
