package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/skillvault/skillvault/internal/pglocal"
)

// coldStart times `skillvault serve` from an empty SKILLVAULT_HOME to a
// ready /readyz (initdb, roles, migrations, verification, first tenant),
// then a restart with the database still running, then one after the
// database was stopped too. It runs the real binary as a subprocess, with
// the durable (non-fast) defaults a user gets.
func (r *run) coldStart(ctx context.Context) error {
	bin, cleanup, err := Binary(ctx, r.cfg.Binary)
	if err != nil {
		return err
	}
	defer cleanup()
	home, err := os.MkdirTemp("", "skillvault-cold-")
	if err != nil {
		return err
	}
	os.Chmod(home, 0o755) // the database server may run as another OS user
	pg := pglocal.Open(filepath.Join(home, "pg"))
	defer func() {
		pg.Stop(context.Background())
		os.RemoveAll(home)
	}()
	steps := []struct {
		name, key string
		before    func() error
	}{
		{"empty data folder to ready", "coldstart.cold_seconds", nil},
		{"restart, database running", "coldstart.warm_seconds", nil},
		{"restart, database stopped", "coldstart.restart_db_stopped_seconds", func() error { return pg.Stop(ctx) }},
	}
	for _, s := range steps {
		if s.before != nil {
			if err := s.before(); err != nil {
				return err
			}
		}
		r.cfg.progress("cold start: %s", s.name)
		d, err := ServeUntilReady(ctx, bin, home, 2*time.Minute)
		if err != nil {
			return fmt.Errorf("bench: cold start (%s): %w", s.name, err)
		}
		r.rep.value(s.key, d.Seconds())
		r.rep.add(Stat{Scenario: ScenarioColdStart, Name: s.name, Clients: 1, Ops: 1, Seconds: d.Seconds(), PerSec: 1 / d.Seconds(),
			P50ms: float64(d.Milliseconds()), P95ms: float64(d.Milliseconds()), P99ms: float64(d.Milliseconds()), Unit: "starts"})
		if s.key == "coldstart.cold_seconds" {
			r.rep.check("cold start, empty data folder to /readyz", d.Seconds(), "<=", 10, "s")
		}
	}
	return nil
}

// ServeUntilReady runs `bin serve` with SKILLVAULT_HOME=home on a free
// loopback port, waits until /readyz answers 200, stops the server with
// SIGTERM and returns the time from start to ready. The embedded database
// it started keeps running (as it does for users).
func ServeUntilReady(ctx context.Context, bin, home string, timeout time.Duration) (time.Duration, error) {
	port, err := FreePort()
	if err != nil {
		return 0, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(bin, "serve", "--addr", addr)
	cmd.Env = append(CleanEnv(), "SKILLVAULT_HOME="+home, "SKILLVAULT_LOG_LEVEL=warn")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}()
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := start.Add(timeout)
	for {
		resp, err := hc.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start), nil
			}
		}
		select {
		case err := <-exited:
			exited <- err
			return 0, fmt.Errorf("serve exited before it was ready (%v): %s", err, lastLines(out.String(), 10))
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("not ready after %s: %s", timeout, lastLines(out.String(), 10))
		}
	}
}

// CleanEnv is the environment without Skillvault's settings, so a child
// process uses only what it is given.
func CleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "SKILLVAULT_") || strings.HasPrefix(kv, "DATABASE_URL=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// FreePort returns a TCP port free on loopback right now.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Binary returns the skillvault binary to run: bin when given, else one
// built with `go build` from the module the working directory is in. The
// cleanup removes a built binary.
func Binary(ctx context.Context, bin string) (string, func(), error) {
	if bin != "" {
		return bin, func() {}, nil
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		goCmd = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	mod, err := exec.CommandContext(ctx, goCmd, "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(mod)) == "" || strings.TrimSpace(string(mod)) == os.DevNull {
		return "", nil, errors.New("bench: no skillvault binary to run: run `skillvault bench` itself, or from the repository with Go installed")
	}
	dir, err := os.MkdirTemp("", "skillvault-bin-")
	if err != nil {
		return "", nil, err
	}
	out := filepath.Join(dir, "skillvault")
	build := exec.CommandContext(ctx, goCmd, "build", "-o", out, "./cmd/skillvault")
	build.Dir = filepath.Dir(strings.TrimSpace(string(mod)))
	if msg, err := build.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("bench: go build: %v: %s", err, msg)
	}
	return out, func() { os.RemoveAll(dir) }, nil
}
