package pglocal

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// newTestCluster returns a cluster in a fresh folder under /tmp, stopped
// and removed at the end of the test. The folder is 0755 so that the
// unprivileged server user can reach it when the tests run as root
// (t.TempDir's parent is 0700).
func newTestCluster(t *testing.T) *Cluster {
	t.Helper()
	if _, err := findBinDir(""); errors.Is(err, ErrNoBinaries) {
		t.Skip("no PostgreSQL server binaries (initdb, pg_ctl, postgres) on this machine: " +
			"install postgresql or set SKILLVAULT_PG_BIN to run these tests")
	}
	base, err := os.MkdirTemp("/tmp", "pglocal-test-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(testWriter{t}, nil))
	c := OpenWithOptions(filepath.Join(base, "pg"), Options{Fast: true, Logger: logger, StartTimeout: 30 * time.Second})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.Stop(ctx); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		os.RemoveAll(base)
	})
	return c
}

// testWriter sends log output to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func connect(t *testing.T, c *Cluster) *pgx.Conn {
	t.Helper()
	ctx := testCtx(t)
	conn, err := pgx.Connect(ctx, c.SuperuserURL("postgres"))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func mustStart(t *testing.T, c *Cluster) Status {
	t.Helper()
	ctx := testCtx(t)
	if err := c.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	if !st.Initialized || !st.Running || st.PID == 0 || st.Port != c.Port() {
		t.Fatalf("Status after Start = %+v, Port() = %d", st, c.Port())
	}
	return st
}

func queryString(t *testing.T, conn *pgx.Conn, sql string) string {
	t.Helper()
	var s string
	if err := conn.QueryRow(testCtx(t), sql).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

// procUID returns the real uid of pid from /proc.
func procUID(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
			uid, _ := strconv.Atoi(strings.Fields(rest)[0])
			return uid
		}
	}
	t.Fatalf("no Uid line in /proc/%d/status", pid)
	return 0
}

// procSession returns the session id of pid (field 6 of /proc/PID/stat).
func procSession(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	sid, _ := strconv.Atoi(fields[3])
	return sid
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	c := newTestCluster(t)
	ctx := testCtx(t)

	// Before initialisation: nothing there, and nothing created.
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatalf("Status before init: %v", err)
	}
	if st.Initialized || st.Running || st.PID != 0 || st.Port != 0 || st.Version == "" {
		t.Fatalf("Status before init = %+v", st)
	}
	if st.DataDir != filepath.Join(c.dir, "data") {
		t.Fatalf("DataDir = %q", st.DataDir)
	}
	if _, err := os.Stat(c.dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Open or Status created %s", c.dir)
	}

	first := mustStart(t, c)
	conn := connect(t, c)
	if got := queryString(t, conn, "SELECT 1::text"); got != "1" {
		t.Fatalf("SELECT 1 = %q", got)
	}
	if got := queryString(t, conn, "SHOW listen_addresses"); got != "127.0.0.1" {
		t.Fatalf("listen_addresses = %q", got)
	}
	if got := queryString(t, conn, "SHOW fsync"); got != "off" {
		t.Fatalf("fsync = %q in Fast mode", got)
	}
	if got := queryString(t, conn, "SHOW max_connections"); got != "200" {
		t.Fatalf("max_connections = %q", got)
	}
	if got := queryString(t, conn, "SELECT current_user::text"); got != SuperuserName {
		t.Fatalf("current_user = %q", got)
	}
	if got := queryString(t, conn, "SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = 'postgres'"); got != "UTF8" {
		t.Fatalf("encoding = %q", got)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('before restart')"); err != nil {
		t.Fatal(err)
	}

	// The server never runs as root, and not as us either when we are root.
	uid := procUID(t, first.PID)
	if uid == 0 {
		t.Fatalf("postmaster %d runs as root", first.PID)
	}
	if os.Geteuid() != 0 && uid != os.Geteuid() {
		t.Fatalf("postmaster runs as uid %d, want ours (%d)", uid, os.Geteuid())
	}
	// It has a session of its own, so a Ctrl-C to our process group
	// does not reach it.
	if procSession(t, first.PID) == procSession(t, os.Getpid()) {
		t.Fatal("postmaster shares our session")
	}
	// The password file is private to us.
	fi, err := os.Stat(filepath.Join(c.dir, passwordName))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || int(fi.Sys().(*syscall.Stat_t).Uid) != os.Geteuid() {
		t.Fatalf("password file mode %v uid %d", fi.Mode().Perm(), fi.Sys().(*syscall.Stat_t).Uid)
	}

	// A second Start, also from a fresh Cluster value, reuses the server.
	again := mustStart(t, OpenWithOptions(c.dir, Options{Fast: true}))
	if again.PID != first.PID || again.Port != first.Port {
		t.Fatalf("second Start: PID %d port %d, want %d %d", again.PID, again.Port, first.PID, first.Port)
	}
	conn.Close(ctx)

	// Stop, then Start: same port, same data.
	if err := c.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	st, err = c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Initialized || st.Running || st.PID != 0 || st.Port != first.Port {
		t.Fatalf("Status after Stop = %+v", st)
	}
	if err := c.Stop(ctx); err != nil {
		t.Fatalf("Stop when stopped: %v", err)
	}
	restarted := mustStart(t, c)
	if restarted.Port != first.Port || restarted.PID == first.PID {
		t.Fatalf("restart: port %d PID %d, first port %d PID %d", restarted.Port, restarted.PID, first.Port, first.PID)
	}
	conn = connect(t, c)
	if got := queryString(t, conn, "SELECT v FROM kept"); got != "before restart" {
		t.Fatalf("after restart: %q", got)
	}
	// Fast mode commits asynchronously, so a crash may lose the last
	// commits; this one must survive.
	if _, err := conn.Exec(ctx, "SET synchronous_commit = on; INSERT INTO kept VALUES ('before crash')"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	// Crash: kill -9 the postmaster. Start recovers, on the same port.
	if err := syscall.Kill(restarted.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// SIGKILL is asynchronous; let it land so that Start sees a crash
	// rather than a live server.
	for deadline := time.Now().Add(5 * time.Second); postmasterState(restarted.PID, c.realData()) == procServer; {
		if time.Now().After(deadline) {
			t.Fatal("killed postmaster still alive")
		}
		time.Sleep(10 * time.Millisecond)
	}
	recovered := mustStart(t, c)
	if recovered.Port != first.Port || recovered.PID == restarted.PID {
		t.Fatalf("after crash: port %d PID %d", recovered.Port, recovered.PID)
	}
	conn = connect(t, c)
	if got := queryString(t, conn, "SELECT string_agg(v, ',' ORDER BY v) FROM kept"); got != "before crash,before restart" {
		t.Fatalf("after crash: %q", got)
	}
	conn.Close(ctx)

	// The port was taken while the server was down: Start moves to a new
	// one and remembers it.
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(first.Port)))
	if err != nil {
		t.Fatalf("occupy port: %v", err)
	}
	defer l.Close()
	moved := mustStart(t, c)
	if moved.Port == first.Port {
		t.Fatal("Start used a taken port")
	}
	if got, _ := c.storedPort(); got != moved.Port {
		t.Fatalf("persisted port %d, server on %d", got, moved.Port)
	}
	conn = connect(t, c)
	if got := queryString(t, conn, "SELECT count(*)::text FROM kept"); got != "2" {
		t.Fatalf("after port change: %s rows", got)
	}
	conn.Close(ctx)
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := c.Status(ctx); st.Running || st.Port != moved.Port {
		t.Fatalf("Status after final Stop = %+v", st)
	}
}

// A postmaster.pid whose PID belongs to another live process (PID reuse,
// or a killed postmaster left as a zombie) must not block Start.
func TestStalePIDFileWithReusedPID(t *testing.T) {
	t.Parallel()
	c := newTestCluster(t)
	ctx := testCtx(t)
	st := mustStart(t, c)
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	// Our own test process stands in for the unrelated process.
	fake := strconv.Itoa(os.Getpid()) + "\n" + c.data + "\n0\n" + strconv.Itoa(st.Port) + "\n\n127.0.0.1\n0 0\nready\n"
	if err := os.WriteFile(filepath.Join(c.data, "postmaster.pid"), []byte(fake), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, _ := c.Status(ctx); s.Running {
		t.Fatalf("Status with a foreign PID in postmaster.pid = %+v", s)
	}
	mustStart(t, c)
	var one int
	if err := connect(t, c).QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		t.Fatal(err)
	}
}

// Two Starts at once on a fresh folder (separate Cluster values, as two
// processes would have) run initdb once and share one server.
func TestConcurrentStart(t *testing.T) {
	t.Parallel()
	c := newTestCluster(t)
	ctx := testCtx(t)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() {
			errs[i] = OpenWithOptions(c.dir, Options{Fast: true}).Start(ctx)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Start %d: %v", i, err)
		}
	}
	st := mustStart(t, c)
	var one int
	if err := connect(t, c).QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		t.Fatal(err)
	}
	if pids := serverProcesses(c.realData()); len(pids) == 0 || !containsInt(pids, st.PID) {
		t.Fatalf("server processes %v, postmaster %d", pids, st.PID)
	}
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestSuperuserURL(t *testing.T) {
	dir := t.TempDir()
	c := Open(dir)
	if err := os.WriteFile(filepath.Join(dir, passwordName), []byte("abc123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := c.storePort(54321); err != nil {
		t.Fatal(err)
	}
	want := "postgres://skillvault_admin:abc123@127.0.0.1:54321/skillvault?sslmode=disable"
	if got := c.SuperuserURL("skillvault"); got != want {
		t.Fatalf("SuperuserURL = %q, want %q", got, want)
	}
}

func TestNoBinaries(t *testing.T) {
	t.Setenv("SKILLVAULT_PG_BIN", t.TempDir())
	err := Open(t.TempDir()).Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "SKILLVAULT_PG_BIN") {
		t.Fatalf("Start with an empty SKILLVAULT_PG_BIN: %v", err)
	}
	if !strings.Contains(ErrNoBinaries.Error(), "apt-get install postgresql") {
		t.Fatalf("ErrNoBinaries does not say how to install: %v", ErrNoBinaries)
	}
}

func TestUntraversableParent(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root hands the cluster to another OS user")
	}
	if _, err := findBinDir(""); err != nil {
		t.Skip(err)
	}
	base, err := os.MkdirTemp("/tmp", "pglocal-closed-") // 0700, owned by root
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(base)
	err = Open(filepath.Join(base, "home", "pg")).Start(testCtx(t))
	if err == nil || !strings.Contains(err.Error(), "cannot enter "+base) {
		t.Fatalf("Start under a 0700 root folder: %v", err)
	}
}

func TestMajorOf(t *testing.T) {
	for v, want := range map[string]string{"15.8": "15", "9.6.24": "9.6", "16beta1": "16", "17": "17"} {
		if got := majorOf(v); got != want {
			t.Errorf("majorOf(%q) = %q, want %q", v, got, want)
		}
	}
}
