// Package pglocal runs a private PostgreSQL cluster from the PostgreSQL
// binaries installed on the machine. It is Skillvault's embedded default
// when no DATABASE_URL is given (DESIGN.md §4).
//
// Layout of the folder given to Open:
//
//	.lock               flock(2) lock serialising Start and Stop across processes
//	superuser.password  superuser password (0600, owned by the Skillvault process)
//	port                TCP port chosen at first start, reused afterwards
//	data/               PGDATA, owned by the OS user the server runs as
//	data/startup.log    server output before its logging collector starts
//	data/log/           server logs (one file per weekday, rotated)
//
// The server listens on 127.0.0.1 only, has no Unix socket, and requires
// SCRAM-SHA-256 passwords. It is started through pg_ctl in its own session,
// so it outlives the Go process (and a Ctrl-C to it); the next Start reuses
// it. PostgreSQL refuses to run as root, so when the Go process is root the
// server runs as SKILLVAULT_PG_USER, else "postgres" if that user exists,
// else "nobody".
package pglocal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SuperuserName is the name of the cluster's superuser role.
const SuperuserName = "skillvault_admin"

// Names inside the cluster folder.
const (
	lockName     = ".lock"
	passwordName = "superuser.password"
	portName     = "port"
	dataName     = "data"
	initName     = "data.init" // initdb target, renamed to data when complete
	confName     = "skillvault.conf"
	startLogName = "startup.log"
)

// defaultStartTimeout bounds Start when the context has no deadline. Crash
// recovery of a small database takes seconds; a minute leaves headroom for
// slow disks without hanging forever.
const defaultStartTimeout = time.Minute

// Options tune a Cluster.
type Options struct {
	// Fast trades durability for speed (fsync, synchronous_commit and
	// full_page_writes off; initdb without sync). For tests and benchmarks
	// only: a crash of the server can lose the last commits, and a crash of
	// the machine can corrupt the cluster. It takes effect when the server
	// is started, not on a server that is already running.
	Fast bool

	// Logger receives progress messages. Nil discards them.
	Logger *slog.Logger

	// StartTimeout bounds Start when its context has no deadline.
	// Zero means one minute.
	StartTimeout time.Duration
}

// Status describes a cluster folder.
type Status struct {
	Initialized bool   // initdb has completed
	Running     bool   // a postmaster for this folder is alive
	Port        int    // port of the running server, else the persisted one (0 if none)
	PID         int    // postmaster PID when running
	DataDir     string // PGDATA
	Version     string // PostgreSQL version of the binaries (e.g. "15.8"), else of the data folder
}

// Cluster is a PostgreSQL cluster kept in one folder. Its methods are safe
// for concurrent use, also by several processes on the same folder.
type Cluster struct {
	dir  string
	data string
	opts Options
	log  *slog.Logger

	mu       sync.Mutex
	port     int    // known port, 0 until read or chosen
	password string // cached superuser password
}

// Open returns the cluster kept in dir (e.g. $SKILLVAULT_HOME/pg). It has
// no side effects: nothing is created until Start.
func Open(dir string) *Cluster {
	return OpenWithOptions(dir, Options{})
}

// OpenWithOptions is Open with options.
func OpenWithOptions(dir string, opts Options) *Cluster {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	dir = filepath.Clean(dir)
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Cluster{
		dir:  dir,
		data: filepath.Join(dir, dataName),
		opts: opts,
		log:  logger,
	}
}

// DataDir returns the PGDATA folder.
func (c *Cluster) DataDir() string { return c.data }

// Start initialises the cluster if needed, starts the server unless it is
// already running, and waits until it accepts connections. It is
// idempotent, and safe to call from several processes at once.
func (c *Cluster) Start(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		timeout := c.opts.StartTimeout
		if timeout <= 0 {
			timeout = defaultStartTimeout
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}

	rt, err := c.runtime(ctx)
	if err != nil {
		return err
	}
	if err := c.prepareDir(rt); err != nil {
		return err
	}
	unlock, err := c.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()

	if err := c.initialize(ctx, rt); err != nil {
		return err
	}

	// A few rounds: a server found stopping must be waited for, one found
	// running may be dying, and a port can be taken between our check and
	// the server binding it.
	const maxAttempts = 4
	for attempt := 1; ; attempt++ {
		st, err := c.probe()
		if err != nil {
			return err
		}
		if st.running && st.status == "stopping" {
			c.log.Info("waiting for PostgreSQL to finish shutting down", "pid", st.pid)
			if err := c.waitStopped(ctx); err != nil {
				return err
			}
			continue
		}
		if st.running {
			c.log.Info("reusing running PostgreSQL", "pid", st.pid, "port", st.port)
			port := st.port
			if port == 0 {
				port, _ = c.storedPort()
			}
			c.setPort(port)
			err := c.waitReady(ctx, port, logMark{startLogSize: -1})
			if errors.Is(err, errExited) && attempt < maxAttempts {
				// It was dying (e.g. just killed): start a new one.
				continue
			}
			return err
		}
		if err := c.clearStale(ctx, st); err != nil {
			return err
		}
		port, err := c.choosePort()
		if err != nil {
			return err
		}
		if err := c.writeConf(rt, port); err != nil {
			return err
		}
		mark := c.markLogs()
		err = c.pgctlStart(ctx, rt, mark)
		if err == nil {
			c.setPort(port)
			if err := c.waitReady(ctx, port, mark); err != nil {
				return err
			}
			c.log.Info("started PostgreSQL", "port", port, "data", c.data, "os_user", rt.userName())
			return nil
		}
		if errors.Is(err, errPortTaken) && attempt < maxAttempts {
			c.log.Warn("port taken while starting PostgreSQL; choosing another", "port", port)
			if err := c.storePort(0); err != nil {
				return err
			}
			continue
		}
		return err
	}
}

// Stop shuts the server down in fast mode (open transactions are rolled
// back, clients disconnected) and waits until it has exited. It returns nil
// if the server is not running or the cluster does not exist.
func (c *Cluster) Stop(ctx context.Context) error {
	if _, err := os.Stat(c.dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultStartTimeout)
		defer cancel()
	}
	unlock, err := c.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()

	st, err := c.probe()
	if err != nil || !st.running {
		return err
	}
	rt, err := c.runtime(ctx)
	if err != nil {
		return err
	}
	out, err := c.pgctl(ctx, rt, "stop", "-D", c.data, "-m", "fast", "-w", "-t", timeoutSeconds(ctx), "-s")
	if err != nil {
		// The server may have gone away between probe and pg_ctl.
		if st, perr := c.probe(); perr == nil && !st.running {
			return nil
		}
		return fmt.Errorf("pglocal: stop PostgreSQL in %s: %w: %s", c.data, err, strings.TrimSpace(out))
	}
	c.log.Info("stopped PostgreSQL", "pid", st.pid)
	return nil
}

// Status reports on the cluster without changing anything.
func (c *Cluster) Status(ctx context.Context) (Status, error) {
	s := Status{DataDir: c.data}
	dataVersion, err := c.dataVersion()
	if err != nil {
		return s, err
	}
	s.Initialized = dataVersion != ""
	s.Version = dataVersion
	if bin, err := findBinDir(dataVersion); err == nil {
		if v, err := binVersion(ctx, bin); err == nil {
			s.Version = v
		}
	}
	if !s.Initialized {
		s.Port, _ = c.storedPort()
		return s, nil
	}
	st, err := c.probe()
	if err != nil {
		return s, err
	}
	if st.running {
		s.Running, s.PID, s.Port = true, st.pid, st.port
	}
	if s.Port == 0 {
		s.Port, _ = c.storedPort()
	}
	return s, nil
}

// Port returns the server's port: the one Start used, else the persisted
// one, else 0.
func (c *Cluster) Port() int {
	c.mu.Lock()
	port := c.port
	c.mu.Unlock()
	if port != 0 {
		return port
	}
	port, _ = c.storedPort()
	return port
}

// SuperuserURL returns a connection URL for the superuser and database
// dbname: postgres://skillvault_admin:PASSWORD@127.0.0.1:PORT/dbname?sslmode=disable.
// The password is empty if the cluster has not been initialised.
func (c *Cluster) SuperuserURL(dbname string) string {
	pw, _ := c.superuserPassword()
	return c.RoleURL(SuperuserName, pw, dbname)
}

// RoleURL returns a connection URL for role user with password and
// database dbname on the cluster's loopback port.
func (c *Cluster) RoleURL(user, password, dbname string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(user, password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Port())),
		Path:     "/" + dbname,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

func (c *Cluster) setPort(port int) {
	c.mu.Lock()
	c.port = port
	c.mu.Unlock()
}

func (c *Cluster) superuserPassword() (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.password != "" {
		return c.password, nil
	}
	b, err := os.ReadFile(filepath.Join(c.dir, passwordName))
	if err != nil {
		return "", fmt.Errorf("pglocal: read superuser password: %w", err)
	}
	c.password = strings.TrimSpace(string(b))
	return c.password, nil
}

// dataVersion returns the major version recorded in PG_VERSION, or "" if
// the cluster is not initialised.
func (c *Cluster) dataVersion() (string, error) {
	b, err := os.ReadFile(filepath.Join(c.data, "PG_VERSION"))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("pglocal: read data folder version: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// storedPort returns the persisted port, or 0 if none.
func (c *Cluster) storedPort() (int, error) {
	b, err := os.ReadFile(filepath.Join(c.dir, portName))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("pglocal: read port: %w", err)
	}
	port, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || port <= 0 || port > 65535 {
		return 0, nil // damaged: a new port will be chosen
	}
	return port, nil
}

// storePort persists port; 0 removes the file so the next start picks one.
func (c *Cluster) storePort(port int) error {
	path := filepath.Join(c.dir, portName)
	if port == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("pglocal: forget port: %w", err)
		}
		return nil
	}
	if err := writeFileAtomic(path, []byte(strconv.Itoa(port)+"\n"), 0o644, -1, -1); err != nil {
		return fmt.Errorf("pglocal: save port: %w", err)
	}
	return nil
}

// choosePort returns the persisted port if it is free, else a new free
// port, which it persists.
func (c *Cluster) choosePort() (int, error) {
	old, err := c.storedPort()
	if err != nil {
		return 0, err
	}
	if old != 0 && portFree(old) {
		return old, nil
	}
	port, err := freePort()
	if err != nil {
		return 0, err
	}
	if old != 0 {
		c.log.Warn("PostgreSQL port is taken by another program; moving", "old", old, "new", port)
	}
	if err := c.storePort(port); err != nil {
		return 0, err
	}
	return port, nil
}

// portFree reports whether nothing listens on 127.0.0.1:port.
func portFree(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pglocal: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// NewPassword returns a random password for a cluster role.
func NewPassword() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("pglocal: generate password: %w", err)
	}
	// Hex needs no escaping in URLs, conninfo strings or .pgpass.
	return hex.EncodeToString(b), nil
}

// timeoutSeconds converts the context deadline for pg_ctl -t.
func timeoutSeconds(ctx context.Context) string {
	secs := 60
	if d, ok := ctx.Deadline(); ok {
		secs = max(1, int(time.Until(d).Seconds()+0.999))
	}
	return strconv.Itoa(secs)
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}
