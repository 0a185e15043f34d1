package main

// The lock file commands: sync, update, outdated and uninstall, and
// list --installed. Installs are recorded in skillvault-lock.json
// (internal/lockfile), in the project for install --project and in the
// configuration folder for installs in the home folder.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/client"
	"github.com/skillvault/skillvault/internal/lockfile"
)

func init() {
	register("sync", "install exactly what the lock file says, verified", syncLock)
	register("update", "move installed skills to their newest version", update)
	register("outdated", "list installed skills that have a newer version", outdated)
	register("uninstall", "remove an installed skill and its lock entry", uninstall)
}

// installScope is where installs go and where they are recorded.
type installScope struct {
	name string // "project" or "user"
	base string // absolute folder the agents' skill folders are in
	lock string // the lock file
}

func projectScope(dir string) (installScope, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return installScope{}, err
	}
	return installScope{name: "project", base: abs, lock: filepath.Join(abs, lockfile.FileName)}, nil
}

// userScope is the home folder; its lock lives with the client's
// configuration, not among the user's files.
func userScope(e *env) (installScope, error) {
	home, err := userHome(e)
	if err != nil {
		return installScope{}, err
	}
	if home, err = filepath.Abs(home); err != nil {
		return installScope{}, err
	}
	dir, err := configDir(e)
	if err != nil {
		return installScope{}, err
	}
	return installScope{name: "user", base: home, lock: filepath.Join(dir, lockfile.FileName)}, nil
}

// scopeFlags adds --project and --global to a lock command.
func scopeFlags(fs *flag.FlagSet) func(e *env) (installScope, error) {
	project := fs.String("project", "", "use the lock file of this project folder")
	global := fs.Bool("global", false, "use the user's lock file (installs in the home folder)")
	return func(e *env) (installScope, error) {
		switch {
		case *project != "" && *global:
			return installScope{}, errors.New("give --project or --global, not both")
		case *project != "":
			return projectScope(*project)
		case *global:
			return userScope(e)
		}
		// Like git, the current folder's lock wins when there is one.
		if _, err := os.Stat(lockfile.FileName); err == nil {
			return projectScope(".")
		}
		return userScope(e)
	}
}

// lockCommand parses a lock command's arguments and reads the lock its
// flags name; when ok is false the command stops with code.
func lockCommand(e *env, fs *flag.FlagSet, scope func(*env) (installScope, error), args []string) (sc installScope, lock *lockfile.Lock, pos []string, code int, ok bool) {
	if pos, ok, code = parseArgs(fs, args); !ok {
		return sc, nil, nil, code, false
	}
	sc, lock, code, ok = openLock(e, fs, scope)
	return sc, lock, pos, code, ok
}

// openLock reads the lock the parsed flags name.
func openLock(e *env, fs *flag.FlagSet, scope func(*env) (installScope, error)) (installScope, *lockfile.Lock, int, bool) {
	sc, err := scope(e)
	if err != nil {
		return sc, nil, usageError(e, fs, "%v", err), false
	}
	lock, err := lockfile.Read(sc.lock)
	if err != nil {
		return sc, nil, fail(e, "%s: %v", fs.Name(), err), false
	}
	return sc, lock, 0, true
}

// agentPaths returns where name is installed for agents, relative to the
// scope's folder, sorted and without repeats (several agents share
// .agents/skills).
func agentPaths(name string, agents []string) ([]string, error) {
	var ps []string
	for _, a := range agents {
		sub, ok := agentDirs[a]
		if !ok {
			return nil, fmt.Errorf("unknown agent %q", a)
		}
		ps = append(ps, sub+"/"+name)
	}
	slices.Sort(ps)
	return slices.Compact(ps), nil
}

// targets returns the folders an entry is installed in. They are derived
// from its name and agents, and an entry whose recorded paths say
// otherwise is refused: a lock comes from a repository, and no lock may
// make skillvault write or remove anything outside the agents' skill
// folders.
func (sc installScope) targets(name string, en lockfile.Entry) ([]string, error) {
	if err := bundle.ValidateName(name); err != nil {
		return nil, fmt.Errorf("the lock names %q, which is not a skill name: %v", name, err)
	}
	if en.SourceType != lockfile.SourceType {
		return nil, fmt.Errorf("the lock entry of %s has source type %q, not %q", name, en.SourceType, lockfile.SourceType)
	}
	if len(en.Agents) == 0 {
		return nil, fmt.Errorf("the lock entry of %s names no agent", name)
	}
	want, err := agentPaths(name, en.Agents)
	if err != nil {
		return nil, fmt.Errorf("the lock entry of %s: %v", name, err)
	}
	got := slices.Clone(en.Paths)
	slices.Sort(got)
	if !slices.Equal(slices.Compact(got), want) {
		return nil, fmt.Errorf("the lock entry of %s lists paths %v, but its agents install in %v", name, en.Paths, want)
	}
	out := make([]string, len(want))
	for i, p := range want {
		out[i] = filepath.Join(sc.base, filepath.FromSlash(p))
	}
	return out, nil
}

// folderState says how a target compares with the digest locked for it:
// "" when it holds it, otherwise what is there instead.
func folderState(target, digest string) string {
	if _, err := os.Lstat(target); errors.Is(err, os.ErrNotExist) {
		return "missing"
	}
	d, m, err := folderDigest(target)
	switch {
	case err != nil:
		return fmt.Sprintf("unreadable (%v)", err)
	case d == digest:
		return ""
	case m == nil:
		return "not installed by skillvault"
	case d != m.Digest:
		return fmt.Sprintf("modified since version %d was installed", m.Version)
	}
	return fmt.Sprintf("version %d installed", m.Version)
}

// place writes a verified version into each target that does not hold it
// yet. Every target is checked before any is written: one changed since
// its install (or not installed by skillvault) stops the skill unless
// force, so a skill is never left half updated. It returns the targets
// written.
func place(targets []string, name string, v client.Version, files []bundle.File, server string, force bool) ([]string, error) {
	for _, f := range files {
		if f.Path == markerFile {
			return nil, fmt.Errorf("the skill has its own %s, which install keeps its record in; use skillvault pull instead", markerFile)
		}
	}
	var todo []string
	for _, t := range targets {
		msg, ok := mayReplace(t, v.Digest, force)
		if !ok {
			return nil, errors.New(msg)
		}
		if msg != "up to date" {
			todo = append(todo, t)
		}
	}
	m := installMarker(name, v, server)
	for _, t := range todo {
		if err := writeSkill(t, append(slices.Clone(files), m)); err != nil {
			return nil, err
		}
	}
	return todo, nil
}

// session is a connection for the lock commands, made on first need: a
// sync with nothing to do never calls the server.
type session struct {
	e      *env
	c      *client.Client
	tenant string
}

func (s *session) client() (*client.Client, error) {
	if s.c == nil {
		c, err := connect(s.e)
		if err != nil {
			return nil, err
		}
		s.c = c
	}
	return s.c, nil
}

// tenantID is the key's tenant, asked once.
func (s *session) tenantID(ctx context.Context) (string, error) {
	if s.tenant == "" {
		c, err := s.client()
		if err != nil {
			return "", err
		}
		me, err := c.Me(ctx)
		if err != nil {
			return "", fmt.Errorf("check the key: %s", describe(err))
		}
		s.tenant = me.TenantID
	}
	return s.tenant, nil
}

// fetch downloads version ref of a locked skill, verified, from the
// server and tenant the lock names: a skill of another tenant is not
// found (the server never shows it), and an entry of another server or
// tenant is refused rather than filled with a namesake's bytes.
func (s *session) fetch(ctx context.Context, name string, en lockfile.Entry, ref string) (client.Version, []bundle.File, error) {
	c, err := s.client()
	if err != nil {
		return client.Version{}, nil, err
	}
	if !sameServer(en.Source, c.Server()) {
		return client.Version{}, nil, fmt.Errorf("locked from %s, but the client is connected to %s", en.Source, c.Server())
	}
	v, files, err := c.Download(ctx, name, ref)
	if err != nil {
		return client.Version{}, nil, errors.New(describe(err))
	}
	tenant, err := s.tenantID(ctx)
	if err != nil {
		return client.Version{}, nil, err
	}
	if en.Tenant != tenant {
		return client.Version{}, nil, fmt.Errorf("locked from tenant %s, but the key is of tenant %s", en.Tenant, tenant)
	}
	return v, files, nil
}

func syncLock(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "sync", "[--check] [--force] [--project DIR | --global]",
		`  skillvault sync                  # install what ./skillvault-lock.json says
  skillvault sync --check          # in CI: exit 1 and list what differs
  skillvault sync --project ~/src/app --force

Every locked version is downloaded only where a folder does not hold it,
and verified against the digest in the lock as well as the server's. A
folder changed since it was installed stops its skill unless --force.
Without --project or --global the lock of the current folder is used when
there is one, else the user's (installs in the home folder).`)
	check := fs.Bool("check", false, "only compare the folders with the lock: list the differences, exit 1 if any")
	force := fs.Bool("force", false, "overwrite folders changed since they were installed")
	sc, lock, pos, code, ok := lockCommand(e, fs, scopeFlags(fs), args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return usageError(e, fs, "unexpected argument %q", pos[0])
	}
	if _, err := os.Stat(sc.lock); err != nil {
		return fail(e, "sync: no lock file at %s: install skills with skillvault install first", sc.lock)
	}
	s := &session{e: e}
	failed := 0
	for _, name := range lock.Names() {
		if err := syncOne(ctx, e, s, sc, name, lock.Skills[name], *check, *force); err != nil {
			fmt.Fprintf(e.stderr, "skillvault: sync %s: %v\n", name, err)
			failed++
		}
	}
	if failed > 0 {
		if *check {
			fmt.Fprintf(e.stderr, "%d of %d skills differ from %s\n", failed, len(lock.Skills), sc.lock)
		}
		return exitFail
	}
	return exitOK
}

// syncOne brings one locked skill's folders to the locked version, or with
// check only reports how they differ.
func syncOne(ctx context.Context, e *env, s *session, sc installScope, name string, en lockfile.Entry, check, force bool) error {
	targets, err := sc.targets(name, en)
	if err != nil {
		return err
	}
	var differ []string
	for _, t := range targets {
		if st := folderState(t, en.ComputedHash); st != "" {
			differ = append(differ, fmt.Sprintf("%s: %s, the lock says version %d", t, st, en.Version))
		}
	}
	if len(differ) == 0 {
		fmt.Fprintf(e.stdout, "in sync  %s version %d\n", name, en.Version)
		return nil
	}
	if check {
		return errors.New(strings.Join(differ, "; "))
	}
	v, files, err := s.fetch(ctx, name, en, strconv.Itoa(en.Version))
	if err != nil {
		return err
	}
	if v.Digest != en.ComputedHash {
		return fmt.Errorf("the server's version %d has digest %s, but the lock says %s: nothing written", v.Number, v.Digest, en.ComputedHash)
	}
	written, err := place(targets, name, v, files, s.c.Server(), force)
	if err != nil {
		return err
	}
	for _, t := range written {
		fmt.Fprintf(e.stdout, "synced   %s version %d (%s) in %s\n", name, v.Number, v.Digest, t)
	}
	return nil
}

func update(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "update", "[NAME...] [--force] [--project DIR | --global]",
		`  skillvault update                 # every skill not pinned
  skillvault update pdf-tools       # this one, even when pinned

Moves installed skills to their newest version, verified, and records it
in the lock file. A skill installed as NAME@VERSION is pinned: it is left
alone unless named (and stays pinned, to the new version). A folder
changed since it was installed stops its skill unless --force.`)
	force := fs.Bool("force", false, "overwrite folders changed since they were installed")
	sc, lock, names, code, ok := lockCommand(e, fs, scopeFlags(fs), args)
	if !ok {
		return code
	}
	for _, n := range names {
		if _, ok := lock.Skills[n]; !ok {
			return fail(e, "update %s: not installed (not in %s)", n, sc.lock)
		}
	}
	named := len(names) > 0
	if !named {
		names = lock.Names()
	}
	s := &session{e: e}
	failed := 0
	for _, name := range names {
		en := lock.Skills[name]
		if en.Ref != "" && !named {
			fmt.Fprintf(e.stdout, "pinned      %s version %d\n", name, en.Version)
			continue
		}
		next, err := updateOne(ctx, e, s, sc, name, en, *force)
		if err != nil {
			fmt.Fprintf(e.stderr, "skillvault: update %s: %v\n", name, err)
			failed++
			continue
		}
		lock.Skills[name] = next
		// Saved after each skill, so an interrupted update keeps the lock
		// true to what is on disk.
		if err := lock.Write(sc.lock); err != nil {
			return fail(e, "update: %v", err)
		}
	}
	if failed > 0 {
		return exitFail
	}
	return exitOK
}

// updateOne moves one skill to its newest version and returns its new
// lock entry.
func updateOne(ctx context.Context, e *env, s *session, sc installScope, name string, en lockfile.Entry, force bool) (lockfile.Entry, error) {
	targets, err := sc.targets(name, en)
	if err != nil {
		return en, err
	}
	c, err := s.client()
	if err != nil {
		return en, err
	}
	latest, err := c.Version(ctx, name, "latest")
	if err != nil {
		return en, errors.New(describe(err))
	}
	// Never a move back: a newest readable version older than the locked
	// one (say, the server shows this key only the published one) leaves
	// the skill alone.
	if latest.Number <= en.Version {
		fmt.Fprintf(e.stdout, "up to date  %s version %d\n", name, en.Version)
		return en, nil
	}
	v, files, err := s.fetch(ctx, name, en, strconv.Itoa(latest.Number))
	if err != nil {
		return en, err
	}
	if _, err := place(targets, name, v, files, c.Server(), force); err != nil {
		return en, err
	}
	state := "-"
	if sk, err := c.Skill(ctx, name); err == nil {
		state = reviewState(sk, v.Number)
	}
	fmt.Fprintf(e.stdout, "updated     %s %d → %d (%s) %s\n", name, en.Version, v.Number, state, v.Digest)
	old := en.Version
	en.Version, en.ComputedHash = v.Number, v.Digest
	if en.Ref != "" && old != v.Number {
		en.Ref = strconv.Itoa(v.Number)
	}
	return en, nil
}

// reviewState is the review state of version n of a skill: published
// when it is the published version, else the skill's status (in_review,
// draft).
func reviewState(sk client.Skill, n int) string {
	if sk.PublishedVersion != nil && *sk.PublishedVersion == n {
		return "published"
	}
	return sk.Status
}

func outdated(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "outdated", "[--project DIR | --global] [--json]",
		`  skillvault outdated
  skillvault outdated --project ~/src/app --json

Lists the installed skills whose newest version is newer than the one in
the lock file: skill, installed, latest, agents. Pinned skills are marked.`)
	asJSON := fs.Bool("json", false, "print the outdated skills as JSON")
	sc, lock, pos, code, ok := lockCommand(e, fs, scopeFlags(fs), args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return usageError(e, fs, "unexpected argument %q", pos[0])
	}
	type row struct {
		Skill     string   `json:"skill"`
		Installed int      `json:"installed"`
		Latest    int      `json:"latest"`
		Pinned    bool     `json:"pinned"`
		Agents    []string `json:"agents"`
	}
	rows := []row{}
	failed := false
	s := &session{e: e}
	for _, name := range lock.Names() {
		en := lock.Skills[name]
		c, err := s.client()
		if err != nil {
			return fail(e, "outdated: %v", err)
		}
		if !sameServer(en.Source, c.Server()) {
			fmt.Fprintf(e.stderr, "skillvault: outdated %s: locked from %s, but the client is connected to %s\n", name, en.Source, c.Server())
			failed = true
			continue
		}
		v, err := c.Version(ctx, name, "latest")
		if err != nil {
			fmt.Fprintf(e.stderr, "skillvault: outdated %s: %s\n", name, describe(err))
			failed = true
			continue
		}
		if v.Number > en.Version {
			rows = append(rows, row{name, en.Version, v.Number, en.Ref != "", en.Agents})
		}
	}
	switch {
	case *asJSON:
		printJSON(e.stdout, rows)
	case len(rows) == 0:
		fmt.Fprintf(e.stderr, "every skill in %s is up to date\n", sc.lock)
	default:
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SKILL\tINSTALLED\tLATEST\tAGENTS")
		for _, r := range rows {
			inst := strconv.Itoa(r.Installed)
			if r.Pinned {
				inst += " (pinned)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", r.Skill, inst, r.Latest, strings.Join(r.Agents, ","))
		}
		tw.Flush()
	}
	if failed {
		return exitFail
	}
	return exitOK
}

func uninstall(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "uninstall", "NAME [--force] [--project DIR | --global]",
		`  skillvault uninstall pdf-tools
  skillvault uninstall pdf-tools --project ~/src/app

Removes the skill's folders that install wrote (for every agent in its
lock entry) and its lock entry, nothing else. A folder changed since it
was installed is kept unless --force.`)
	force := fs.Bool("force", false, "remove folders changed since they were installed too")
	sc, lock, pos, code, ok := lockCommand(e, fs, scopeFlags(fs), args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return usageError(e, fs, "give one skill name")
	}
	name := pos[0]
	en, ok := lock.Skills[name]
	if !ok {
		return fail(e, "uninstall %s: not installed (not in %s)", name, sc.lock)
	}
	targets, err := sc.targets(name, en)
	if err != nil {
		return fail(e, "uninstall %s: %v", name, err)
	}
	var remove []string
	for _, t := range targets {
		st := folderState(t, en.ComputedHash)
		switch {
		case st == "missing":
		case st != "" && !*force:
			return fail(e, "uninstall %s: %s is %s: remove it by hand, or use --force", name, t, st)
		default:
			remove = append(remove, t)
		}
	}
	for _, t := range remove {
		if err := os.RemoveAll(t); err != nil {
			return fail(e, "uninstall %s: %v", name, err)
		}
		fmt.Fprintf(e.stdout, "removed %s\n", t)
	}
	delete(lock.Skills, name)
	if err := lock.Write(sc.lock); err != nil {
		return fail(e, "uninstall %s: %v", name, err)
	}
	fmt.Fprintf(e.stdout, "uninstalled %s version %d\n", name, en.Version)
	return exitOK
}

// listInstalled prints the skills of a lock and the state of their
// folders, without a server.
func listInstalled(e *env, sc installScope, lock *lockfile.Lock, asJSON bool) int {
	type row struct {
		Name    string   `json:"name"`
		Version int      `json:"version"`
		Pinned  bool     `json:"pinned"`
		Agents  []string `json:"agents"`
		State   string   `json:"state"` // ok, or how the folders differ
	}
	rows := []row{}
	for _, name := range lock.Names() {
		en := lock.Skills[name]
		var states []string
		targets, err := sc.targets(name, en)
		if err != nil {
			states = append(states, err.Error())
		}
		for _, t := range targets {
			if st := folderState(t, en.ComputedHash); st != "" {
				states = append(states, t+": "+st)
			}
		}
		state := "ok"
		if len(states) > 0 {
			state = strings.Join(states, "; ")
		}
		rows = append(rows, row{name, en.Version, en.Ref != "", en.Agents, state})
	}
	if asJSON {
		printJSON(e.stdout, rows)
		return exitOK
	}
	if len(rows) == 0 {
		fmt.Fprintf(e.stderr, "no skills installed (%s)\n", sc.lock)
		return exitOK
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tAGENTS\tSTATE")
	for _, r := range rows {
		v := strconv.Itoa(r.Version)
		if r.Pinned {
			v += " (pinned)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Name, v, strings.Join(r.Agents, ","), r.State)
	}
	tw.Flush()
	return exitOK
}
