package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/client"
	"github.com/skillvault/skillvault/internal/lockfile"
)

func init() {
	register("pull", "download a skill into a folder, verified", pull)
	register("install", "install a skill where an agent finds it", install)
}

// markerFile is written into installed skills: the digest installed, to
// tell an untouched copy from a locally modified one.
const markerFile = ".skillvault.json"

type marker struct {
	Name        string    `json:"name"`
	Version     int       `json:"version"`
	Digest      string    `json:"digest"`
	Server      string    `json:"server"`
	InstalledAt time.Time `json:"installed_at"`
}

// agentDirs maps each agent to where it looks for skills, under the home
// folder or a project (DESIGN.md §3).
var agentDirs = map[string]string{
	"claude":   ".claude/skills",
	"codex":    ".agents/skills",
	"gemini":   ".agents/skills",
	"copilot":  ".agents/skills",
	"opencode": ".agents/skills",
	"cursor":   ".cursor/skills",
}

const agentList = "claude, codex, cursor, gemini, copilot or opencode"

// parseRef splits NAME[@VERSION]; VERSION is a number or "latest".
func parseRef(s string) (name, ref string, err error) {
	name, ref, _ = strings.Cut(s, "@")
	if err := bundle.ValidateName(name); err != nil {
		return "", "", fmt.Errorf("%q is not a skill name: %v", name, err)
	}
	if ref == "" {
		return name, "latest", nil
	}
	if n, err := strconv.Atoi(ref); ref != "latest" && (err != nil || n < 1) {
		return "", "", fmt.Errorf("version %q must be a positive number or \"latest\"", ref)
	}
	return name, ref, nil
}

// userHome is $HOME when set (so tests and unusual setups can point it
// elsewhere), else the system's idea of the home folder.
func userHome(e *env) (string, error) {
	if h := e.getenv("HOME"); h != "" {
		return h, nil
	}
	h, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the home folder: %w", err)
	}
	return h, nil
}

// folderDigest reads a skill folder on disk and returns its digest without
// the install marker, and the marker if there is one.
func folderDigest(dir string) (string, *marker, error) {
	files, err := bundle.ReadDir(dir, bundle.Limits{MaxFileSize: 1 << 30, MaxTotalSize: 1 << 32, MaxFiles: 1 << 20})
	if err != nil {
		return "", nil, err
	}
	var m *marker
	kept := files[:0]
	for _, f := range files {
		if f.Path == markerFile {
			m = &marker{}
			if json.Unmarshal(f.Data, m) != nil {
				m = nil
			}
			continue
		}
		kept = append(kept, f)
	}
	return bundle.Digest(kept), m, nil
}

// writeSkill writes files as the folder target, replacing what is there.
// The files go to a temporary sibling first and are swapped in with
// renames, so an interrupted write leaves the old folder or the new one,
// never a mix.
func writeSkill(target string, files []bundle.File) error {
	parent := filepath.Dir(target)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", parent, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(target)+".tmp-")
	if err != nil {
		return fmt.Errorf("write %s: %w", target, err)
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("write %s: %w", target, err)
	}
	if err := writeFiles(tmp, files); err != nil {
		return fmt.Errorf("write %s: %w", target, err)
	}
	var old string
	if _, err := os.Lstat(target); err == nil {
		old = filepath.Join(parent, "."+filepath.Base(target)+".old-"+randomSuffix())
		if err := os.Rename(target, old); err != nil {
			return fmt.Errorf("replace %s: %w", target, err)
		}
	}
	if err := os.Rename(tmp, target); err != nil {
		if old != "" {
			os.Rename(old, target)
		}
		return fmt.Errorf("write %s: %w", target, err)
	}
	if old != "" {
		if err := os.RemoveAll(old); err != nil {
			return fmt.Errorf("remove the replaced copy %s: %w", old, err)
		}
	}
	return nil
}

// writeFiles writes files under dir through an os.Root, so that no path
// can land outside it whatever it holds (the paths were validated, this is
// a second wall).
func writeFiles(dir string, files []bundle.File) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	for _, f := range files {
		p := filepath.FromSlash(f.Path)
		if d := filepath.Dir(p); d != "." {
			if err := root.MkdirAll(d, 0o755); err != nil {
				return err
			}
		}
		// Scripts are written executable, as the server's archives mark them.
		mode := os.FileMode(0o644)
		if bytes.HasPrefix(f.Data, []byte("#!")) {
			mode = 0o755
		}
		if err := root.WriteFile(p, f.Data, mode); err != nil {
			return err
		}
	}
	return nil
}

func randomSuffix() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func pull(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "pull", "NAME[@VERSION] [-o DIR] [--force] [--json]",
		`  skillvault pull pdf-tools               # latest version into ./pdf-tools
  skillvault pull pdf-tools@3 -o ~/src    # version 3 into ~/src/pdf-tools

Every file is checked against its sha256 and the skill digest before
anything is written. An existing folder with other contents is replaced
only with --force (which removes everything in it).`)
	out := fs.String("o", ".", "write the skill into DIR/NAME")
	force := fs.Bool("force", false, "replace an existing folder with other contents")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	arg, name, ref, ok, code := skillArg(e, fs, args)
	if !ok {
		return code
	}
	c, err := connect(e)
	if err != nil {
		return fail(e, "pull: %v", err)
	}
	v, files, err := c.Download(ctx, name, ref)
	if err != nil {
		return clientFail(e, "pull "+arg, err)
	}
	target := filepath.Join(*out, name)
	result := "pulled"
	if _, err := os.Lstat(target); err == nil {
		d, _, err := folderDigest(target)
		switch {
		case err == nil && d == v.Digest:
			result = "up to date"
		case !*force:
			return fail(e, "pull %s: %s exists and differs from %s version %d: use --force to replace it", arg, target, name, v.Number)
		}
	}
	if result != "up to date" {
		if err := writeSkill(target, files); err != nil {
			return fail(e, "pull %s: %v", arg, err)
		}
	}
	return report(e, *asJSON, map[string]any{"result": result, "name": name, "version": v.Number, "digest": v.Digest, "path": target},
		"%s %s version %d (%s) in %s\n", result, name, v.Number, v.Digest, target)
}

// report prints a result as JSON or as a line.
func report(e *env, asJSON bool, v any, format string, args ...any) int {
	if asJSON {
		printJSON(e.stdout, v)
	} else {
		fmt.Fprintf(e.stdout, format, args...)
	}
	return exitOK
}

func install(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "install", "NAME[@VERSION] --agent AGENT [--project DIR] [--force] [--json]",
		`  skillvault install pdf-tools --agent claude                # ~/.claude/skills/pdf-tools
  skillvault install pdf-tools@2 --agent codex --project .   # ./.agents/skills/pdf-tools
  skillvault install pdf-tools --agent cursor --force        # overwrite local changes

Agents and their folders (in the home folder, or in the project with --project):
  claude                             .claude/skills/NAME
  codex, gemini, copilot, opencode   .agents/skills/NAME
  cursor                             .cursor/skills/NAME

Every file is verified before anything is written. A copy changed since it
was installed (or not installed by skillvault) is only overwritten with
--force. The install is recorded in the skill's usage statistics and in a
lock file: skillvault-lock.json in the project with --project (commit it;
skillvault sync installs the same), the user's in the configuration
folder otherwise. NAME@VERSION pins the version: update leaves it alone.`)
	agent := fs.String("agent", "", "the agent to install for: "+agentList+" (required)")
	project := fs.String("project", "", "install into this project folder instead of the home folder")
	force := fs.Bool("force", false, "overwrite a locally modified or foreign copy")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	arg, name, ref, ok, code := skillArg(e, fs, args)
	if !ok {
		return code
	}
	sub, known := agentDirs[*agent]
	if !known {
		if *agent == "" {
			return usageError(e, fs, "--agent is required: %s", agentList)
		}
		return usageError(e, fs, "unknown agent %q: use %s", *agent, agentList)
	}
	var sc installScope
	var err error
	if *project != "" {
		sc, err = projectScope(*project)
	} else {
		sc, err = userScope(e)
	}
	if err != nil {
		return fail(e, "install: %v", err)
	}
	// The lock is read first: a broken one stops the install before any
	// download.
	lock, err := lockfile.Read(sc.lock)
	if err != nil {
		return fail(e, "install %s: %v", arg, err)
	}
	target := filepath.Join(sc.base, filepath.FromSlash(sub), name)

	s := &session{e: e}
	c, err := s.client()
	if err != nil {
		return fail(e, "install: %v", err)
	}
	v, files, err := c.Download(ctx, name, ref)
	if err != nil {
		return clientFail(e, "install "+arg, err)
	}
	tenant, err := s.tenantID(ctx)
	if err != nil {
		return fail(e, "install %s: %v", arg, err)
	}
	en, targets, err := lockEntry(sc, lock.Skills[name], name, *agent, ref, tenant, c.Server(), v)
	if err != nil {
		return fail(e, "install %s: %v", arg, err)
	}
	written, err := place([]string{target}, name, v, files, c.Server(), *force)
	if err != nil {
		return fail(e, "install %s: %v", arg, err)
	}
	lock.Skills[name] = en
	if err := lock.Write(sc.lock); err != nil {
		return fail(e, "install %s: %v", arg, err)
	}
	// The lock holds one version per skill; the skill's other agents'
	// copies are not touched here (they may hold local changes), but
	// sync brings them to it.
	for _, t := range targets {
		if st := folderState(t, v.Digest); t != target && st != "" {
			fmt.Fprintf(e.stderr, "note: %s is %s; skillvault sync brings it to version %d\n", t, st, v.Number)
		}
	}
	if !slices.Contains(written, target) {
		return report(e, *asJSON, map[string]any{"result": "up to date", "name": name, "version": v.Number, "digest": v.Digest, "agent": *agent, "path": target},
			"up to date %s version %d (%s) in %s\n", name, v.Number, v.Digest, target)
	}
	meta, _ := json.Marshal(map[string]string{"agent": *agent, "scope": sc.name})
	res, err := c.RecordUsage(ctx, []client.UsageEvent{{Skill: name, Version: v.Number, Event: "install", Source: "cli", Metadata: meta}})
	switch {
	case err != nil:
		fmt.Fprintf(e.stderr, "warning: installed, but the install was not recorded: %s\n", describe(err))
	case len(res.Rejected) > 0:
		fmt.Fprintf(e.stderr, "warning: installed, but the install was not recorded: %s\n", res.Rejected[0].Reason)
	}
	return report(e, *asJSON, map[string]any{"result": "installed", "name": name, "version": v.Number, "digest": v.Digest, "agent": *agent, "path": target},
		"installed %s version %d (%s) for %s in %s\n", name, v.Number, v.Digest, *agent, target)
}

// lockEntry is the lock entry of a skill after installing version v for
// agent: the agent joins the entry's others, the version is pinned when
// one was asked for (NAME@3) and unpinned for the latest. It returns the
// folders of every agent of the entry.
func lockEntry(sc installScope, en lockfile.Entry, name, agent, ref, tenant, server string, v client.Version) (lockfile.Entry, []string, error) {
	agents := append(slices.Clone(en.Agents), agent)
	slices.Sort(agents)
	agents = slices.Compact(agents)
	paths, err := agentPaths(name, agents)
	if err != nil {
		return en, nil, err
	}
	en = lockfile.Entry{Source: server, SourceType: lockfile.SourceType, Tenant: tenant, Version: v.Number,
		ComputedHash: v.Digest, Agents: agents, Paths: paths}
	if ref != "latest" {
		en.Ref = strconv.Itoa(v.Number)
	}
	targets, err := sc.targets(name, en)
	return en, targets, err
}

// installMarker is the marker file written into an installed copy.
func installMarker(name string, v client.Version, server string) bundle.File {
	m, _ := json.MarshalIndent(marker{Name: name, Version: v.Number, Digest: v.Digest, Server: server, InstalledAt: time.Now().UTC()}, "", "  ")
	return bundle.File{Path: markerFile, Data: append(m, '\n')}
}

// mayReplace decides whether install may write target: yes when it does
// not exist, is an untouched earlier install or already holds the same
// files; "up to date" when it holds digest with its marker; no when it was
// changed or not installed by skillvault, unless force.
func mayReplace(target, digest string, force bool) (string, bool) {
	if _, err := os.Lstat(target); errors.Is(err, os.ErrNotExist) || force {
		return "", true
	}
	d, m, err := folderDigest(target)
	switch {
	case err != nil:
		return fmt.Sprintf("%s exists and cannot be checked (%v): use --force to replace it", target, err), false
	case d == digest && m != nil && m.Digest == digest:
		return "up to date", true
	case d == digest:
		return "", true // the same files: only the marker is missing or stale
	case m == nil:
		return fmt.Sprintf("%s exists and was not installed by skillvault: use --force to replace it", target), false
	case d != m.Digest:
		return fmt.Sprintf("%s was modified since version %d was installed: use --force to overwrite the changes", target, m.Version), false
	}
	return "", true
}

// skillArg parses the flags and the one NAME[@VERSION] argument of pull
// and install, returning the argument as given too (for messages).
func skillArg(e *env, fs *flag.FlagSet, args []string) (arg, name, ref string, ok bool, code int) {
	pos, ok, code := parseArgs(fs, args)
	if !ok {
		return "", "", "", false, code
	}
	if len(pos) != 1 {
		return "", "", "", false, usageError(e, fs, "give one skill: NAME or NAME@VERSION")
	}
	name, ref, err := parseRef(pos[0])
	if err != nil {
		return "", "", "", false, usageError(e, fs, "%v", err)
	}
	return pos[0], name, ref, true, 0
}
