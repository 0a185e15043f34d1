package main

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readmeBlocks returns the fenced ```sh blocks of a Markdown file: the
// commands the README promises work as written. Other blocks (```text)
// are synopses and examples with placeholders.
func readmeBlocks(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks []string
	var cur *strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case cur == nil && strings.TrimSpace(line) == "```sh":
			cur = &strings.Builder{}
		case cur != nil && strings.TrimSpace(line) == "```":
			blocks = append(blocks, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(line + "\n")
		}
	}
	if cur != nil {
		t.Fatalf("%s: a ```sh block is not closed", path)
	}
	return blocks
}

// TestREADME runs every ```sh block of README.md, in order, as a newcomer
// would after `make run`: the real binary as ./bin/skillvault, serving
// with the embedded database in ./.skillvault of a fresh folder that has
// the repository's testdata, and $KEY set to the admin key the first start
// printed. Only the port differs (127.0.0.1:8080 may be taken).
func TestREADME(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts a PostgreSQL cluster")
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	blocks := readmeBlocks(t, filepath.Join(repo, "README.md"))
	if len(blocks) < 3 {
		t.Fatalf("README.md has %d runnable blocks; expected the Try-it, client and server blocks", len(blocks))
	}

	// The server's OS user (postgres, when we are root) must reach the
	// data folder: a world-readable temporary folder, not t.TempDir.
	dir, err := os.MkdirTemp("", "skillvault-readme-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "bin", "skillvault")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if err := os.Symlink(filepath.Join(repo, "testdata"), filepath.Join(dir, "testdata")); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(dir, "home")
	os.MkdirAll(home, 0o700)
	env := append(cleanEnv(), "HOME="+home, "SKILLVAULT_FAST_DB=1", "SKILLVAULT_LOG_LEVEL=warn")

	addr := freeAddr(t)
	srv := exec.Command("./bin/skillvault", "serve", "--addr", addr)
	srv.Dir, srv.Env = dir, env
	var out lockedBuffer
	srv.Stdout, srv.Stderr = &out, &out
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	t.Cleanup(func() {
		srv.Process.Signal(syscall.SIGINT)
		select {
		case <-exited:
		case <-time.After(time.Minute):
			srv.Process.Kill()
		}
	})
	keyRe := regexp.MustCompile(`(?m)^(sv_[A-Za-z0-9_-]+)$`)
	var key string
	for deadline := time.Now().Add(2 * time.Minute); key == "" || !strings.Contains(out.String(), "Skillvault is running at"); {
		if m := keyRe.FindStringSubmatch(out.String()); m != nil {
			key = m[1]
		}
		select {
		case err := <-exited:
			t.Fatalf("serve exited: %v\n%s", err, out.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve printed no key and no address in time:\n%s", out.String())
		}
	}

	for i, b := range blocks {
		script := strings.ReplaceAll(b, "127.0.0.1:8080", addr)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
		cmd.Dir, cmd.Env = dir, append(env, "KEY="+key)
		res, err := cmd.CombinedOutput()
		cancel()
		t.Logf("README block %d:\n%s", i+1, res)
		if err != nil {
			t.Errorf("README block %d failed: %v\n--- block ---\n%s--- output ---\n%s", i+1, err, b, res)
		}
	}
}

// cleanEnv is the test's environment without the variables that would
// point the README's commands at another server or database.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "SKILLVAULT_") || k == "DATABASE_URL" || k == "HOME" || k == "KEY" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}
