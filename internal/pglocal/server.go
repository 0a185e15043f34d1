package pglocal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

var (
	// errPortTaken marks a start that failed because the port was taken.
	errPortTaken = errors.New("port taken")
	// errExited marks a server that went away while we waited for it.
	errExited = errors.New("server exited")
)

// lock takes the folder's exclusive lock, waiting for it as long as ctx
// allows. flock(2) locks belong to the open file, so the lock also works
// between Clusters of one process, and the kernel drops it if the process
// dies.
func (c *Cluster) lock(ctx context.Context) (unlock func(), err error) {
	path := filepath.Join(c.dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("pglocal: open lock: %w", err)
	}
	waiting := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("pglocal: lock %s: %w", path, err)
		}
		if !waiting {
			c.log.Info("waiting for another process using the PostgreSQL folder", "lock", path)
			waiting = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("pglocal: wait for lock %s: %w", path, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// initialize runs initdb unless the cluster exists. initdb writes into a
// side folder that is renamed into place only when complete, so an
// interrupted initdb never leaves a half-made cluster that looks real.
func (c *Cluster) initialize(ctx context.Context, rt *runtime) error {
	version, err := c.dataVersion()
	if err != nil {
		return err
	}
	if version != "" {
		return c.fixOwner(rt)
	}
	if err := os.Remove(c.data); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("pglocal: %s exists but is not a PostgreSQL data folder; move it away: %w", c.data, err)
	}

	c.log.Info("initializing PostgreSQL cluster", "data", c.data, "version", rt.version, "os_user", rt.userName())
	tmp := filepath.Join(c.dir, initName)
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("pglocal: remove leftover %s: %w", tmp, err)
	}
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return fmt.Errorf("pglocal: create %s: %w", tmp, err)
	}
	if err := rt.chown(tmp); err != nil {
		return err
	}

	password, err := NewPassword()
	if err != nil {
		return err
	}
	// initdb reads the password from a file, which its OS user must be able
	// to read; it lives only as long as initdb runs.
	pwFile := filepath.Join(c.dir, ".initdb-password")
	uid, gid := -1, -1
	if rt.cred != nil {
		uid, gid = rt.uid, rt.gid
	}
	if err := writeFileAtomic(pwFile, []byte(password+"\n"), 0o600, uid, gid); err != nil {
		return fmt.Errorf("pglocal: write initdb password file: %w", err)
	}
	defer os.Remove(pwFile)

	args := []string{
		"-D", tmp,
		"-U", SuperuserName,
		"--pwfile=" + pwFile,
		"--auth=scram-sha-256",
		"--encoding=UTF8",
		"--locale=C",
	}
	// initdb fsyncs each of its ~1,500 files one by one, which takes
	// seconds on many disks. It writes them without that, and one
	// sync(2) below makes them durable at once (unless Fast, where
	// durability is not wanted).
	args = append(args, "--no-sync")
	if out, err := run(rt.command(ctx, c.dir, "initdb", args...)); err != nil {
		return fmt.Errorf("pglocal: initdb as OS user %s: %w\n%s", rt.userName(), err, lastLines(out, 30))
	}
	if !c.opts.Fast {
		syscall.Sync()
	}

	// Our settings live in a file of their own, rewritten at every start,
	// so the port and the Fast switch can change without editing
	// postgresql.conf. ALTER SYSTEM still overrides it.
	f, err := os.OpenFile(filepath.Join(tmp, "postgresql.conf"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("pglocal: open postgresql.conf: %w", err)
	}
	_, err = fmt.Fprintf(f, "\n# Settings managed by Skillvault, rewritten at every start.\ninclude_if_exists = '%s'\n", confName)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("pglocal: write postgresql.conf: %w", err)
	}

	// The password file belongs to the Skillvault process, not to the
	// server's OS user: only Skillvault (and root) need it.
	if err := writeFileAtomic(filepath.Join(c.dir, passwordName), []byte(password+"\n"), 0o600, -1, -1); err != nil {
		return fmt.Errorf("pglocal: save superuser password: %w", err)
	}
	c.mu.Lock()
	c.password = password
	c.mu.Unlock()
	if _, err := c.choosePort(); err != nil {
		return err
	}
	if err := os.Rename(tmp, c.data); err != nil {
		return fmt.Errorf("pglocal: move %s into place: %w", tmp, err)
	}
	return nil
}

// fixOwner hands an existing data folder to the server's OS user if
// another user owns it (SKILLVAULT_PG_USER changed, or the folder was
// copied): postgres refuses to start otherwise.
func (c *Cluster) fixOwner(rt *runtime) error {
	if rt.cred == nil {
		return nil
	}
	fi, err := os.Stat(c.data)
	if err != nil {
		return fmt.Errorf("pglocal: %w", err)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) == rt.uid {
		return nil
	}
	c.log.Info("handing the data folder to the server's OS user", "data", c.data, "os_user", rt.name)
	return rt.chownTree(c.data)
}

// writeConf writes the settings file included by postgresql.conf.
func (c *Cluster) writeConf(rt *runtime, port int) error {
	conf := "# Written by Skillvault (internal/pglocal) at every start: edits are lost.\n" +
		"# ALTER SYSTEM overrides these, but leave listen_addresses, port and\n" +
		"# unix_socket_directories alone: Skillvault relies on them.\n" +
		"listen_addresses = '127.0.0.1'\n" +
		"port = " + strconv.Itoa(port) + "\n" +
		"unix_socket_directories = ''\n" +
		"max_connections = 200\n" +
		"shared_buffers = 128MB\n" +
		"logging_collector = on\n" +
		"log_directory = 'log'\n" +
		"log_filename = 'postgresql-%a.log'\n" +
		"log_truncate_on_rotation = on\n" +
		"log_rotation_age = 1d\n" +
		"log_rotation_size = 0\n" +
		"log_line_prefix = '%m [%p] %q%u@%d '\n"
	if c.opts.Fast {
		conf += "# Fast mode: tests and benchmarks only; a crash of the machine can lose data.\n" +
			"fsync = off\n" +
			"synchronous_commit = off\n" +
			"full_page_writes = off\n"
	}
	uid, gid := -1, -1
	if rt.cred != nil {
		uid, gid = rt.uid, rt.gid
	}
	if err := writeFileAtomic(filepath.Join(c.data, confName), []byte(conf), 0o600, uid, gid); err != nil {
		return fmt.Errorf("pglocal: write %s: %w", confName, err)
	}
	return nil
}

// pgctlStart starts the postmaster with pg_ctl and waits for it to report
// ready. pg_ctl runs in a new session, so the server is not in the
// terminal's process group: a Ctrl-C to Skillvault does not reach it, and
// it keeps running after Skillvault exits.
func (c *Cluster) pgctlStart(ctx context.Context, rt *runtime, mark logMark) error {
	cmd := rt.command(ctx, c.data, "pg_ctl", "start",
		"-D", c.data,
		"-l", filepath.Join(c.data, startLogName),
		"-w", "-t", timeoutSeconds(ctx), "-s")
	cmd.SysProcAttr.Setsid = true
	out, err := run(cmd)
	if err == nil {
		return nil
	}
	logTail := c.logTail(mark)
	if strings.Contains(logTail, "could not bind") || strings.Contains(logTail, "Address already in use") {
		return fmt.Errorf("pglocal: %w: %s", errPortTaken, logTail)
	}
	return fmt.Errorf("pglocal: start PostgreSQL in %s as OS user %s: %w: %s\nserver log:\n%s",
		c.data, rt.userName(), err, strings.TrimSpace(out), logTail)
}

// waitReady waits until the server accepts a superuser connection. pg_ctl
// -w only watches postmaster.pid; a real connection also proves the port
// and password are right.
func (c *Cluster) waitReady(ctx context.Context, port int, mark logMark) error {
	password, err := c.superuserPassword()
	if err != nil {
		return err
	}
	cfg, err := pgx.ParseConfig(fmt.Sprintf("host=127.0.0.1 port=%d user=%s password=%s dbname=postgres sslmode=disable connect_timeout=2",
		port, SuperuserName, password))
	if err != nil {
		return fmt.Errorf("pglocal: connection settings: %w", err)
	}
	for {
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err == nil {
			err = conn.Ping(ctx)
			conn.Close(context.Background())
			if err == nil {
				return nil
			}
		}
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "28") {
			// Authentication failed: waiting will not fix it.
			return fmt.Errorf("pglocal: connect to PostgreSQL on port %d as %s (password in %s): %w",
				port, SuperuserName, filepath.Join(c.dir, passwordName), err)
		}
		if st, perr := c.probe(); perr == nil && !st.running {
			return fmt.Errorf("pglocal: PostgreSQL in %s: %w while starting: %v\nserver log:\n%s", c.data, errExited, err, c.logTail(mark))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pglocal: PostgreSQL on port %d did not accept connections in time: %w (last error: %v)\nserver log:\n%s",
				port, ctx.Err(), err, c.logTail(mark))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitStopped waits until no postmaster runs for the folder.
func (c *Cluster) waitStopped(ctx context.Context) error {
	for {
		st, err := c.probe()
		if err != nil || !st.running {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pglocal: wait for PostgreSQL (PID %d) to stop: %w", st.pid, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// serverState is what postmaster.pid and the process table say.
type serverState struct {
	pidFile  bool   // postmaster.pid exists
	pid      int    // PID recorded in it
	port     int    // port recorded in it, 0 if not yet written
	status   string // "starting", "ready", "stopping", "standby"
	running  bool   // the recorded PID is this folder's live postmaster
	pidTaken bool   // the recorded PID is in use by another process (or a zombie)
}

// probe reads postmaster.pid and checks its PID. Its lines are: PID, data
// folder, start time, port, socket folder, listen address, shared memory
// key, status.
func (c *Cluster) probe() (serverState, error) {
	var st serverState
	b, err := os.ReadFile(filepath.Join(c.data, "postmaster.pid"))
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("pglocal: read postmaster.pid: %w", err)
	}
	st.pidFile = true
	lines := strings.Split(string(b), "\n")
	st.pid, _ = strconv.Atoi(strings.TrimSpace(lines[0]))
	if st.pid < 0 { // a single-user backend records -PID
		st.pid = -st.pid
	}
	if len(lines) > 3 {
		st.port, _ = strconv.Atoi(strings.TrimSpace(lines[3]))
	}
	if len(lines) > 7 {
		st.status = strings.TrimSpace(lines[7])
	}
	switch postmasterState(st.pid, c.realData()) {
	case procServer:
		st.running = true
	case procOther:
		st.pidTaken = true
	}
	return st, nil
}

// realData is the data folder with symlinks resolved, as /proc shows it.
func (c *Cluster) realData() string {
	if p, err := filepath.EvalSymlinks(c.data); err == nil {
		return p
	}
	return c.data
}

// clearStale prepares a start after a crash: postmaster.pid exists but no
// postmaster runs. PostgreSQL recovers by itself, but it refuses to start
// while children of the dead postmaster still hold its shared memory, or
// while another process has the recorded PID.
func (c *Cluster) clearStale(ctx context.Context, st serverState) error {
	if !st.pidFile {
		return nil
	}
	c.log.Warn("PostgreSQL did not shut down cleanly; it will run crash recovery", "old_pid", st.pid)
	// Children notice the postmaster's death and exit on their own, usually
	// within moments.
	deadline := time.Now().Add(15 * time.Second)
	for {
		pids := serverProcesses(c.realData())
		if len(pids) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pglocal: processes %v of a previous PostgreSQL server still run in %s; stop them (kill -QUIT) and retry",
				pids, c.data)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pglocal: wait for old PostgreSQL processes %v to exit: %w", pids, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	if st.pidTaken {
		// postgres would take the live PID for a running postmaster and
		// refuse to start (a zombie the reaper has not collected, or PID
		// reuse after a reboot).
		if err := os.Remove(filepath.Join(c.data, "postmaster.pid")); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("pglocal: remove stale postmaster.pid: %w", err)
		}
	}
	return nil
}

// logMark records where the server's logs stand before a start, so that
// an error shows only what that start wrote.
type logMark struct {
	startLogSize int64     // -1: unknown, show the last lines
	time         time.Time // collector logs older than this are not shown
}

func (c *Cluster) markLogs() logMark {
	return logMark{startLogSize: fileSize(filepath.Join(c.data, startLogName)), time: time.Now()}
}

// logTail returns the end of the server's output since m: the startup log
// (which has what the server printed before its logging collector ran,
// such as configuration errors) and the newest collector log.
func (c *Cluster) logTail(m logMark) string {
	var parts []string
	if s := tailFile(filepath.Join(c.data, startLogName), m.startLogSize, 20); s != "" {
		parts = append(parts, s)
	}
	if newest := newestFile(filepath.Join(c.data, "log"), m.time); newest != "" {
		if s := tailFile(newest, -1, 20); s != "" {
			parts = append(parts, "["+newest+"]\n"+s)
		}
	}
	if len(parts) == 0 {
		return "(empty)"
	}
	return strings.Join(parts, "\n")
}

// tailFile returns the last n lines of path from offset since on.
func tailFile(path string, since int64, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return ""
	}
	const maxRead = 16 << 10
	start := max(since, fi.Size()-maxRead, 0)
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return ""
	}
	b, _ := io.ReadAll(io.LimitReader(f, maxRead))
	return lastLines(string(b), n)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// newestFile returns the most recently modified file in dir, if modified
// after notBefore.
func newestFile(dir string, notBefore time.Time) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	var newest string
	newestTime := notBefore
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if fi.ModTime().After(newestTime) {
			newest, newestTime = filepath.Join(dir, e.Name()), fi.ModTime()
		}
	}
	return newest
}

// writeFileAtomic replaces path with data, so readers never see a partial
// file. uid/gid -1 keep our own ownership.
func writeFileAtomic(path string, data []byte, perm os.FileMode, uid, gid int) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after the rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if uid >= 0 {
		if err := f.Chown(uid, gid); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
