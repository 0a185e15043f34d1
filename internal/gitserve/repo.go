package gitserve

import (
	"bufio"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/service"
)

// Every commit has this author and committer, so that a view's commits
// depend only on what the view shows: the same view always has the same
// commit ids, and a fetch of an unchanged registry transfers nothing.
const ident = "Skillvault <skillvault@localhost>"

// filesBatch is how many versions' files are read per statement while a
// repository is built.
const filesBatch = 100

// readFiles reads the files of versions of the view being built.
type readFiles func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID][]bundle.File, error)

// build writes the repository of view v into dir, a folder that must not
// exist yet: main holds every skill at its published version, and a tag
// <skill>/v<N> holds that skill at version N. The objects come from one
// `git fast-import` stream, which writes them as a single pack.
func build(ctx context.Context, git, dir string, v service.GitView, read readFiles) error {
	if err := run(ctx, git, "", nil, "init", "--quiet", "--bare", "--template=", "--initial-branch=main", dir); err != nil {
		return err
	}
	// Nothing may ever be pushed here, even if a request reached
	// http-backend's receive-pack.
	if err := run(ctx, git, dir, nil, "config", "http.receivepack", "false"); err != nil {
		return err
	}
	marks := filepath.Join(dir, "skillvault-marks")
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, git, dir, pr, "fast-import", "--quiet", "--done", "--export-marks="+marks)
		pr.CloseWithError(err) // unblocks the writer when fast-import fails
		done <- err
	}()
	tags, err := writeStream(ctx, pw, v, read)
	pw.CloseWithError(err)
	if ferr := <-done; err == nil {
		err = ferr
	}
	if err != nil {
		return err
	}
	return writeTags(dir, marks, tags)
}

// scratchRef is the ref fast-import commits the tags on, one after the
// other; writeTags removes it.
const scratchRef = "refs/skillvault/scratch"

// tag is a tag to write and the mark of its commit.
type tag struct {
	ref  string
	mark int
}

// writeTags writes the tags as one packed-refs file. fast-import would
// write each as a file of its own, and creating (then packing) thousands
// of small files is what made a large tenant's repository slow to build.
func writeTags(dir, marksFile string, tags []tag) error {
	data, err := os.ReadFile(marksFile)
	if err != nil {
		return fmt.Errorf("git marks: %w", err)
	}
	ids := map[string]string{} // ":mark" → object id
	for _, line := range strings.Split(string(data), "\n") {
		if m, id, ok := strings.Cut(line, " "); ok {
			ids[m] = id
		}
	}
	slices.SortFunc(tags, func(a, b tag) int { return strings.Compare(a.ref, b.ref) })
	var b strings.Builder
	b.WriteString("# pack-refs with: peeled fully-peeled sorted \n")
	for _, t := range tags {
		id, ok := ids[":"+strconv.Itoa(t.mark)]
		if !ok {
			return fmt.Errorf("git marks: no commit for %s", t.ref)
		}
		b.WriteString(id + " " + t.ref + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "packed-refs"), []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("git tags: %w", err)
	}
	os.Remove(marksFile)
	return os.RemoveAll(filepath.Join(dir, filepath.FromSlash(scratchRef), ".."))
}

// writeStream writes the fast-import stream of view v: every file once as
// a blob, then a commit per tag and the commit of main.
func writeStream(ctx context.Context, w io.Writer, v service.GitView, read readFiles) ([]tag, error) {
	s := &stream{w: bufio.NewWriterSize(w, 1<<16), blobs: map[[32]byte]int{}, trees: map[uuid.UUID][]entry{}}
	var ids []uuid.UUID
	for _, sk := range v.Skills {
		for _, ver := range sk.Versions {
			ids = append(ids, ver.ID)
		}
	}
	for start := 0; start < len(ids); start += filesBatch {
		batch := ids[start:min(start+filesBatch, len(ids))]
		files, err := read(ctx, batch)
		if err != nil {
			return nil, err
		}
		for _, id := range batch {
			s.skillFiles(id, files[id])
		}
	}
	var head []shown
	var parents []int
	var tags []tag
	for _, sk := range v.Skills {
		var last int
		for _, ver := range sk.Versions {
			one := []shown{{sk, ver}}
			s.printf("reset %s\n", scratchRef) // the next commit is a root commit
			last = s.commit(scratchRef, ver.CreatedAt, fmt.Sprintf("%s version %d\n", sk.Name, ver.Number), v, one, nil)
			tags = append(tags, tag{fmt.Sprintf("refs/tags/%s/v%d", sk.Name, ver.Number), last})
		}
		head = append(head, shown{sk, sk.Published()})
		parents = append(parents, last)
	}
	// main's parents are the tags of the published versions: a client that
	// fetched an earlier view has the unchanged ones, so git sends only
	// what is new (a tree shared with a commit the client has counts only
	// when that commit is an ancestor of what is fetched).
	s.commit("refs/heads/main", newest(v), fmt.Sprintf("Skills of %s: %d published\n", v.TenantName, len(head)), v, head, parents)
	s.printf("done\n")
	return tags, s.err()
}

// newest is the newest publish time of the view's skills: main's commit
// time. An empty view has the epoch.
func newest(v service.GitView) time.Time {
	var t time.Time
	for _, sk := range v.Skills {
		if sk.PublishedAt.After(t) {
			t = sk.PublishedAt
		}
	}
	if t.IsZero() {
		return time.Unix(0, 0)
	}
	return t
}

// entry is a file of a tree: its path below the skill's folder and the
// mark of its blob.
type entry struct {
	path string
	mark int
}

type stream struct {
	w     *bufio.Writer
	marks int
	blobs map[[32]byte]int      // content digest → mark: each file once
	trees map[uuid.UUID][]entry // version → its files
	werr  error
}

func (s *stream) printf(format string, args ...any) {
	if s.werr == nil {
		_, s.werr = fmt.Fprintf(s.w, format, args...)
	}
}

func (s *stream) err() error {
	if s.werr != nil {
		return s.werr
	}
	return s.w.Flush()
}

func (s *stream) blob(data []byte) int {
	sum := sha256.Sum256(data)
	if m, ok := s.blobs[sum]; ok {
		return m
	}
	s.marks++
	s.blobs[sum] = s.marks
	s.printf("blob\nmark :%d\ndata %d\n", s.marks, len(data))
	if s.werr == nil {
		_, s.werr = s.w.Write(data)
	}
	s.printf("\n")
	return s.marks
}

func (s *stream) skillFiles(version uuid.UUID, files []bundle.File) {
	for _, f := range files {
		if gitPath(f.Path) {
			// git refuses to check out a path with a .git segment; such a
			// file cannot be part of a repository.
			continue
		}
		s.trees[version] = append(s.trees[version], entry{f.Path, s.blob(f.Data)})
	}
}

// commit writes a root commit on ref holding the skills at their versions,
// the marketplace and the README.
func (s *stream) commit(ref string, when time.Time, msg string, v service.GitView, skills []shown, parents []int) int {
	// Blobs go before the commit command, which may not contain them.
	market, doc := s.blob(marketplaceJSON(v, skills)), s.blob(readme(v, skills))
	date := fmt.Sprintf("%d +0000", when.Unix())
	s.marks++
	mark := s.marks
	s.printf("commit %s\nmark :%d\nauthor %s %s\ncommitter %s %s\ndata %d\n%s", ref, mark, ident, date, ident, date, len(msg), msg)
	for i, p := range parents {
		if i == 0 {
			s.printf("from :%d\n", p)
		} else {
			s.printf("merge :%d\n", p)
		}
	}
	if len(parents) > 0 {
		s.printf("deleteall\n") // the tree is what follows, not the first parent's
	}
	s.printf("M 100644 :%d %s\n", market, quote(marketplaceFile))
	s.printf("M 100644 :%d %s\n", doc, quote(readmeFile))
	for _, sh := range skills {
		for _, e := range s.trees[sh.version.ID] {
			s.printf("M 100644 :%d %s\n", e.mark, quote(skillsDir+sh.skill.Name+"/"+e.path))
		}
	}
	s.printf("\n")
	return mark
}

// gitPath reports whether a bundle path has a segment git reserves.
func gitPath(p string) bool {
	for _, seg := range strings.Split(p, "/") {
		if strings.EqualFold(seg, ".git") {
			return true
		}
	}
	return false
}

// quote writes a path as fast-import's C-style quoted string. Bundle paths
// are printable ASCII without backslashes, so only quotes need escaping.
func quote(p string) string {
	return `"` + strings.ReplaceAll(p, `"`, `\"`) + `"`
}

// run runs git with a clean configuration: the operator's own git
// settings must not change what is generated or served.
func run(ctx context.Context, git, dir string, stdin io.Reader, args ...string) error {
	cmd := exec.CommandContext(ctx, git, args...)
	cmd.Env = gitEnv(dir)
	cmd.Stdin = stdin
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("git %s: %w: %s", args[0], err, strings.TrimSpace(string(out)))
	}
	return nil
}

// gitEnv is the whole environment of every git process: no system or
// global configuration, no terminal prompts, and GIT_DIR when dir is set.
func gitEnv(dir string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_TERMINAL_PROMPT=0", "HOME=/nonexistent"}
	if dir != "" {
		env = append(env, "GIT_DIR="+dir)
	}
	return env
}
