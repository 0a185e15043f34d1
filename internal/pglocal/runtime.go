package pglocal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrNoBinaries is returned when no PostgreSQL server binaries are found.
var ErrNoBinaries = errors.New("pglocal: PostgreSQL server binaries (initdb, pg_ctl, postgres) not found: " +
	"install them (apt-get install postgresql) or set SKILLVAULT_PG_BIN to the folder that holds them")

// runtime is what running the PostgreSQL programs needs: where they are and
// which OS user runs them.
type runtime struct {
	bin     string // folder with initdb, pg_ctl, postgres
	version string // e.g. "15.8"

	// OS user the server runs as, when it differs from ours (we are root).
	// cred is nil when the server runs as the current user.
	cred     *syscall.Credential
	name     string
	uid, gid int
	groups   []uint32
}

func (rt *runtime) userName() string {
	if rt.cred == nil {
		if u, err := user.Current(); err == nil {
			return u.Username
		}
		return strconv.Itoa(os.Geteuid())
	}
	return rt.name
}

// runtime finds the binaries and the OS user.
func (c *Cluster) runtime(ctx context.Context) (*runtime, error) {
	dataVersion, err := c.dataVersion()
	if err != nil {
		return nil, err
	}
	bin, err := findBinDir(dataVersion)
	if err != nil {
		return nil, err
	}
	version, err := binVersion(ctx, bin)
	if err != nil {
		return nil, err
	}
	if dataVersion != "" && majorOf(version) != dataVersion {
		return nil, fmt.Errorf("pglocal: %s was created by PostgreSQL %s but the binaries in %s are %s: "+
			"install PostgreSQL %s and set SKILLVAULT_PG_BIN to its bin folder, or upgrade the folder with pg_upgrade",
			c.data, dataVersion, bin, version, dataVersion)
	}
	rt := &runtime{bin: bin, version: version}
	if os.Geteuid() == 0 {
		if err := rt.lookupUser(); err != nil {
			return nil, err
		}
	}
	return rt, nil
}

// lookupUser picks the unprivileged OS user the server runs as when we are
// root: initdb and postgres refuse to run as root.
func (rt *runtime) lookupUser() error {
	name := os.Getenv("SKILLVAULT_PG_USER")
	source := "SKILLVAULT_PG_USER"
	if name == "" {
		source = "default user"
		name = "nobody"
		if _, err := user.Lookup("postgres"); err == nil {
			name = "postgres"
		}
	}
	u, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("pglocal: %s %q for running PostgreSQL: %w", source, name, err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("pglocal: OS user %q has a non-numeric uid or gid", name)
	}
	if uid == 0 {
		return fmt.Errorf("pglocal: PostgreSQL cannot run as root (OS user %q): set SKILLVAULT_PG_USER to an unprivileged user", name)
	}
	groups := []uint32{uint32(gid)}
	if ids, err := u.GroupIds(); err == nil {
		for _, id := range ids {
			if g, err := strconv.Atoi(id); err == nil && !slices.Contains(groups, uint32(g)) {
				groups = append(groups, uint32(g))
			}
		}
	}
	rt.name, rt.uid, rt.gid, rt.groups = name, uid, gid, groups
	// Groups replaces root's supplementary groups, which the server must
	// not inherit.
	rt.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: groups}
	return nil
}

// findBinDir locates the server binaries: SKILLVAULT_PG_BIN, then PATH,
// then the newest /usr/lib/postgresql/*/bin (Debian's layout, where the
// server programs are not on PATH). If the data folder was created by
// another major version and no folder was named explicitly, the matching
// Debian folder is preferred.
func findBinDir(dataVersion string) (string, error) {
	if dir := os.Getenv("SKILLVAULT_PG_BIN"); dir != "" {
		if !hasServerBinaries(dir) {
			return "", fmt.Errorf("pglocal: SKILLVAULT_PG_BIN=%s does not hold initdb, pg_ctl and postgres", dir)
		}
		return dir, nil
	}
	if dataVersion != "" {
		if dir := filepath.Join("/usr/lib/postgresql", dataVersion, "bin"); hasServerBinaries(dir) {
			return dir, nil
		}
	}
	// pg_ctl finds postgres next to its real location, so resolve symlinks
	// (e.g. /usr/local/bin/pg_ctl -> /usr/lib/postgresql/15/bin/pg_ctl).
	for _, prog := range []string{"pg_ctl", "initdb"} {
		p, err := exec.LookPath(prog)
		if err != nil {
			continue
		}
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		if dir := filepath.Dir(p); hasServerBinaries(dir) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		return compareVersions(filepath.Base(filepath.Dir(b)), filepath.Base(filepath.Dir(a)))
	})
	for _, dir := range dirs {
		if hasServerBinaries(dir) {
			return dir, nil
		}
	}
	return "", ErrNoBinaries
}

func hasServerBinaries(dir string) bool {
	for _, prog := range []string{"initdb", "pg_ctl", "postgres"} {
		fi, err := os.Stat(filepath.Join(dir, prog))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

// compareVersions orders dotted numeric versions ("9.6" < "15").
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(as), len(bs)) {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x - y
		}
	}
	return 0
}

// binVersion returns the version of the binaries in bin, e.g. "15.8".
func binVersion(ctx context.Context, bin string) (string, error) {
	out, err := exec.CommandContext(ctx, filepath.Join(bin, "pg_ctl"), "--version").Output()
	if err != nil {
		return "", fmt.Errorf("pglocal: %s --version: %w", filepath.Join(bin, "pg_ctl"), err)
	}
	// "pg_ctl (PostgreSQL) 15.8 (Debian 15.8-1)"
	f := strings.Fields(string(out))
	if len(f) < 3 {
		return "", fmt.Errorf("pglocal: unexpected pg_ctl --version output %q", out)
	}
	return f[2], nil
}

// majorOf returns the major version as PG_VERSION records it: "15" for
// "15.8", "9.6" for "9.6.24", "16" for "16beta1".
func majorOf(version string) string {
	parts := strings.SplitN(version, ".", 3)
	if n, err := strconv.Atoi(parts[0]); err == nil && n < 10 && len(parts) > 1 {
		return parts[0] + "." + parts[1]
	}
	if i := strings.IndexFunc(parts[0], func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		return parts[0][:i]
	}
	return parts[0]
}

// command prepares one of the PostgreSQL programs to run as the server's
// OS user, with a clean environment: PG* variables (PGDATA, PGPORT…) would
// override our choices, and English messages let us recognise errors in
// the log.
func (rt *runtime) command(ctx context.Context, dir, prog string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(rt.bin, prog), args...)
	cmd.Dir = dir
	env := []string{"LC_ALL=C"}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "PG") || strings.HasPrefix(k, "LC_") || k == "LANG" || k == "LANGUAGE" {
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: rt.cred}
	// If the context ends, kill the program but don't wait forever for
	// pipes a grandchild might hold.
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

func run(cmd *exec.Cmd) (string, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// pgctl runs pg_ctl with args as the server's OS user.
func (c *Cluster) pgctl(ctx context.Context, rt *runtime, args ...string) (string, error) {
	return run(rt.command(ctx, c.data, "pg_ctl", args...))
}

// chown gives path to the server's OS user when that is not us.
func (rt *runtime) chown(path string) error {
	if rt.cred == nil {
		return nil
	}
	if err := os.Lchown(path, rt.uid, rt.gid); err != nil {
		return fmt.Errorf("pglocal: give %s to OS user %s: %w", path, rt.name, err)
	}
	return nil
}

// chownTree gives a whole tree to the server's OS user, e.g. after
// SKILLVAULT_PG_USER changed: postgres refuses a data folder it does not own.
func (rt *runtime) chownTree(root string) error {
	if rt.cred == nil {
		return nil
	}
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return rt.chown(path)
	})
}

// canEnter reports whether the server's OS user may traverse dir.
func (rt *runtime) canEnter(fi fs.FileInfo) bool {
	if rt.cred == nil {
		return true
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return true // cannot tell; let the server report it
	}
	perm := fi.Mode().Perm()
	switch {
	case int(st.Uid) == rt.uid:
		return perm&0o100 != 0
	case slices.Contains(rt.groups, st.Gid):
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}

// prepareDir creates the cluster folder and, when the server runs as
// another OS user, makes sure that user can reach the data folder inside.
func (c *Cluster) prepareDir(rt *runtime) error {
	mode := os.FileMode(0o700)
	if rt.cred != nil {
		// The server's user must enter this folder but need not list it;
		// the password file inside stays 0600.
		mode = 0o711
	}
	if err := os.MkdirAll(c.dir, mode); err != nil {
		return fmt.Errorf("pglocal: create %s: %w", c.dir, err)
	}
	if rt.cred == nil {
		return nil
	}
	fi, err := os.Stat(c.dir)
	if err != nil {
		return fmt.Errorf("pglocal: %w", err)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) == os.Geteuid() && !rt.canEnter(fi) {
		// The folder is ours: open it for traversal only.
		if err := os.Chmod(c.dir, fi.Mode().Perm()|0o011); err != nil {
			return fmt.Errorf("pglocal: make %s traversable: %w", c.dir, err)
		}
	}
	for dir := c.dir; ; dir = filepath.Dir(dir) {
		fi, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("pglocal: %w", err)
		}
		if !rt.canEnter(fi) {
			return fmt.Errorf("pglocal: PostgreSQL runs as OS user %q (uid %d), which cannot enter %s (mode %s), "+
				"so it cannot reach its data folder %s: keep the data under a folder that user can traverse "+
				"(e.g. set SKILLVAULT_HOME=/var/lib/skillvault), run chmod o+x %s, or set SKILLVAULT_PG_USER",
				rt.name, rt.uid, dir, fi.Mode(), c.data, dir)
		}
		if dir == filepath.Dir(dir) {
			return nil
		}
	}
}
