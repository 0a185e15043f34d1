// Package lockfile reads and writes skillvault-lock.json, the record of
// the skills installed in a project (or, for installs in the home folder,
// for the user): which server and tenant each came from, the version and
// its digest, and the agents it was installed for.
//
// The shape follows the skills CLI's skills-lock.json ({"version": 1,
// "skills": {NAME: {...}}}, camelCase fields, skills sorted by name) so
// people recognise it, but it is its own file: the two tools can work in
// one project without either rewriting the other's lock. Everything in it
// is sorted and it carries no timestamps, so it diffs cleanly.
package lockfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// FileName is the lock's name at the project root.
const FileName = "skillvault-lock.json"

// CurrentVersion is the version of the format written.
const CurrentVersion = 1

// SourceType tells the entries apart from the skills CLI's (github, git,
// local...): the source is a Skillvault server.
const SourceType = "skillvault"

// Lock is the whole file.
type Lock struct {
	Version int              `json:"version"`
	Skills  map[string]Entry `json:"skills"`
}

// Entry is one installed skill.
type Entry struct {
	Source     string `json:"source"`     // the server's URL
	SourceType string `json:"sourceType"` // always SourceType
	Tenant     string `json:"tenant"`     // the tenant's id the skill belongs to
	// Ref is the version the skill is pinned to ("3"), empty when it
	// follows the newest published version.
	Ref     string `json:"ref,omitempty"`
	Version int    `json:"version"`
	// ComputedHash is the installed version's digest (sha256:…), as the
	// server publishes it in the manifest.
	ComputedHash string   `json:"computedHash"`
	Agents       []string `json:"agents"`
	// Paths are the installed folders, relative to the project (or home)
	// folder, with slashes.
	Paths []string `json:"paths"`
}

// New returns an empty lock.
func New() *Lock { return &Lock{Version: CurrentVersion, Skills: map[string]Entry{}} }

// Read reads the lock at path. A missing file is an empty lock, so the
// first install creates it; a file of another format version is an error
// rather than something to overwrite.
func Read(path string) (*Lock, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return New(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the lock file: %w", err)
	}
	l := New()
	if err := json.Unmarshal(data, l); err != nil {
		return nil, fmt.Errorf("read the lock file %s: %w", path, err)
	}
	if l.Version != CurrentVersion {
		return nil, fmt.Errorf("the lock file %s has format version %d; this skillvault reads version %d", path, l.Version, CurrentVersion)
	}
	if l.Skills == nil {
		l.Skills = map[string]Entry{}
	}
	return l, nil
}

// Names returns the locked skills' names in order.
func (l *Lock) Names() []string {
	names := make([]string, 0, len(l.Skills))
	for n := range l.Skills {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Write writes the lock at path, sorted, through a temporary file so that
// an interrupted write leaves the old lock whole.
func (l *Lock) Write(path string) error {
	for n, e := range l.Skills {
		e.Agents = sortedSet(e.Agents)
		e.Paths = sortedSet(e.Paths)
		l.Skills[n] = e
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	// encoding/json writes map keys sorted, so skills come by name.
	if err := enc.Encode(l); err != nil {
		return fmt.Errorf("encode the lock file: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write the lock file: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+FileName+".tmp-*")
	if err != nil {
		return fmt.Errorf("write the lock file: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return fmt.Errorf("write the lock file: %w", err)
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return fmt.Errorf("write the lock file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write the lock file: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write the lock file: %w", err)
	}
	return nil
}

func sortedSet(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}
