package soak_test

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	osuser "os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/skillvault/skillvault/internal/bench"
	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/dbtest"
)

// TestIsolationSoakPgBouncer is TestIsolationSoak with Debian's pgbouncer
// in transaction pooling mode between the server and PostgreSQL: fewer
// server connections than the app pool holds, so consecutive transactions
// of one app connection land on different server connections, and a
// tenant setting that outlived its transaction would show up as another
// tenant's rows.
func TestIsolationSoakPgBouncer(t *testing.T) {
	t.Parallel()
	db := dbtest.NewEmpty(t)
	pb := startPgBouncer(t, db.AppURL, 4)
	// pgbouncer 1.18 (Debian 12) cannot carry named prepared statements
	// between server connections (max_prepared_statements came in 1.21):
	// pgx's cache_describe mode sends unnamed statements and caches only
	// their parameter types, so it works in transaction mode.
	e := startEnv(t, pb.url+"&default_query_exec_mode=cache_describe", db.OwnerURL, db.AdminURL, database.Options{MaxConns: 16})
	soak(t, e)
	// Transaction pooling drops LISTEN: the key and host caches must never
	// have been trusted, since they could not hear changes.
	if hits := e.svc.AuthCacheHits(); hits != 0 {
		t.Errorf("%d authentications answered from the key cache behind PgBouncer, where notifications do not arrive", hits)
	}
	if hits := e.svc.HostCacheHits(); hits != 0 {
		t.Errorf("%d tenant-by-host look-ups answered from the cache behind PgBouncer, where notifications do not arrive", hits)
	}
	if log := pb.output.String(); !strings.Contains(log, "user=skillvault_app") {
		t.Errorf("the server's connections did not go through pgbouncer; its log:\n%s", log)
	}
}

// pgbouncer is a running pgbouncer on loopback.
type pgbouncer struct {
	url    string // the app role's URL through pgbouncer
	output outputBuffer
}

// startPgBouncer puts pgbouncer in transaction pooling mode in front of the
// database of appURL, with at most serverConns server connections, and
// stops it when the test ends.
func startPgBouncer(t *testing.T, appURL string, serverConns int) *pgbouncer {
	t.Helper()
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		for _, p := range []string{"/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"} {
			if _, serr := os.Stat(p); serr == nil {
				bin, err = p, nil
			}
		}
	}
	if err != nil {
		t.Fatal("pgbouncer is not installed: apt-get install pgbouncer (the PgBouncer soak needs it)")
	}
	u, err := url.Parse(appURL)
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	dbname := strings.TrimPrefix(u.Path, "/")
	dir, err := os.MkdirTemp("", "skillvault-pgbouncer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// pgbouncer refuses to run as root: it then runs as postgres, which
	// must read its files.
	os.Chmod(dir, 0o755)
	port, err := bench.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	userlist := filepath.Join(dir, "userlist.txt")
	if err := os.WriteFile(userlist, fmt.Appendf(nil, "%q %q\n", u.User.Username(), pw), 0o644); err != nil {
		t.Fatal(err)
	}
	ini := fmt.Sprintf(`[databases]
%s = host=%s port=%s dbname=%s

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = scram-sha-256
auth_file = %s
pool_mode = transaction
default_pool_size = %d
max_client_conn = 200
; pgx sends these at connect; set statement_timeout on the role instead
; (see README, Deploying behind PgBouncer)
ignore_startup_parameters = extra_float_digits,statement_timeout
server_check_delay = 1
`, dbname, u.Hostname(), u.Port(), dbname, port, userlist, serverConns)
	conf := filepath.Join(dir, "pgbouncer.ini")
	if err := os.WriteFile(conf, []byte(ini), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{conf}
	if os.Geteuid() == 0 {
		runAs := "postgres"
		if _, err := osuser.Lookup(runAs); err != nil {
			runAs = "nobody"
		}
		args = []string{"-u", runAs, conf}
	}
	pb := &pgbouncer{}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &pb.output, &pb.output
	if err := cmd.Start(); err != nil {
		t.Fatalf("start pgbouncer: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-exited:
			t.Fatalf("pgbouncer exited: %s", pb.output.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("pgbouncer does not listen on %s: %s", addr, pb.output.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	bu := *u
	bu.Host = addr
	pb.url = bu.String()
	return pb
}
