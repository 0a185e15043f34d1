package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestNoDatabaseAsSideEffect: a server-side command run in a folder with
// no Skillvault data says where it looked and what to do, exits 1, and
// neither creates a folder nor leaves a PostgreSQL server behind.
func TestNoDatabaseAsSideEffect(t *testing.T) {
	dir := t.TempDir()
	h := filepath.Join(dir, "nothing-here")
	envv := map[string]string{"SKILLVAULT_HOME": h, "SKILLVAULT_FAST_DB": "1"}
	for _, args := range [][]string{
		{"user", "login-link", "--tenant", "default", "--email", "admin@skillvault.local"},
		{"user", "create", "--tenant", "default", "--email", "a@b.c"},
		{"key", "create", "--tenant", "default", "--user", "a@b.c"},
		{"tenant", "list"},
		{"tenant", "create", "--slug", "acme"},
		{"db", "verify"},
		{"db", "url"},
		{"reindex"},
	} {
		code, out, errs := runCLI(t, envv, args...)
		if code != exitFail {
			t.Errorf("%v: exit %d, want %d\n%s%s", args, code, exitFail, out, errs)
		}
		want := "no Skillvault data in " + h + "; run it where you ran `make run`, or set SKILLVAULT_HOME"
		if !strings.Contains(errs, want) {
			t.Errorf("%v: stderr %q does not say %q", args, errs, want)
		}
		if _, err := os.Stat(h); !os.IsNotExist(err) {
			t.Fatalf("%v created %s (stat: %v)", args, h, err)
		}
	}
	if out, _ := exec.Command("pgrep", "-f", h).Output(); len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("a process for %s is running: pids %s", h, out)
	}
}

// TestServeStopsTheClusterItStarted: Ctrl-C on serve stops the embedded
// PostgreSQL when serve started it, and leaves one that `db start` started
// running.
func TestServeStopsTheClusterItStarted(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster")
	}
	envv := embeddedHome(t)
	status := func() string {
		_, out, _ := runCLI(t, envv, "db", "status")
		return out
	}
	out := serveUntilRunning(t, envv)
	if !strings.Contains(out, "Data folder (the embedded database; run later commands here or set SKILLVAULT_HOME): "+envv["SKILLVAULT_HOME"]) {
		t.Errorf("first-start banner does not print the data folder's absolute path:\n%s", out)
	}
	if !strings.Contains(out, "expires ") {
		t.Errorf("first-start banner does not say when the bootstrap key expires:\n%s", out)
	}
	if st := status(); !strings.Contains(st, "stopped") {
		t.Fatalf("serve started the cluster but left it running after shutdown:\n%s", st)
	}

	if code, out, errs := runCLI(t, envv, "db", "start"); code != exitOK {
		t.Fatalf("db start: %d %s %s", code, out, errs)
	}
	serveUntilRunning(t, envv)
	if st := status(); !strings.Contains(st, "running") {
		t.Fatalf("serve stopped a cluster that db start had started:\n%s", st)
	}
}

// embeddedHome is the environment of a fresh embedded deployment in a
// world-readable temporary folder (the server's OS user, postgres when we
// are root, must reach it), stopped and removed when the test ends.
func embeddedHome(t *testing.T, extra ...string) map[string]string {
	t.Helper()
	home, err := os.MkdirTemp("", "skillvault-home-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(home, 0o755)
	envv := map[string]string{"SKILLVAULT_HOME": filepath.Join(home, "h"), "SKILLVAULT_FAST_DB": "1"}
	for i := 0; i+1 < len(extra); i += 2 {
		envv[extra[i]] = extra[i+1]
	}
	t.Cleanup(func() { runCLI(t, envv, "db", "stop"); os.RemoveAll(home) })
	return envv
}

// runningServe is `skillvault serve` running in-process until stop.
type runningServe struct {
	out, errb *lockedBuffer
	stop      func() int // Ctrl-C; returns serve's exit code
}

// startServe runs serve until it says it is running.
func startServe(t *testing.T, envv map[string]string) *runningServe {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &runningServe{out: &lockedBuffer{}, errb: &lockedBuffer{}}
	e := &env{stdin: strings.NewReader(""), stdout: s.out, stderr: s.errb, getenv: func(k string) string { return envv[k] }, log: discardLogger()}
	done := make(chan int, 1)
	go func() { done <- run(ctx, e, []string{"serve", "--addr", "127.0.0.1:0"}) }()
	var code *int
	s.stop = func() int {
		if code == nil {
			cancel()
			select {
			case c := <-done:
				code = &c
			case <-time.After(time.Minute):
				t.Fatal("serve did not stop after Ctrl-C")
			}
		}
		return *code
	}
	t.Cleanup(func() { s.stop() })
	deadline := time.After(2 * time.Minute)
	for !strings.Contains(s.out.String(), "Skillvault is running at") {
		select {
		case c := <-done:
			code = &c
			t.Fatalf("serve exited early with %d\n%s%s", c, s.out.String(), s.errb.String())
		case <-deadline:
			t.Fatalf("serve did not start\n%s%s", s.out.String(), s.errb.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return s
}

// serveUntilRunning runs serve until it says it is running, then stops it
// as Ctrl-C does and returns what it printed.
func serveUntilRunning(t *testing.T, envv map[string]string) string {
	t.Helper()
	s := startServe(t, envv)
	if code := s.stop(); code != exitOK {
		t.Fatalf("serve exited with %d after Ctrl-C\n%s", code, s.errb.String())
	}
	return s.out.String()
}

// lockedBuffer is a bytes.Buffer that a running command and the test can
// use at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
