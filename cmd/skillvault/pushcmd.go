package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/client"
	"github.com/skillvault/skillvault/internal/review"
)

func init() {
	register("push", "validate, upload and publish skill folders", push)
	register("lint", "check skill folders offline, as a push would", lint)
}

// pushResult is what push reports for one folder.
type pushResult struct {
	Dir      string           `json:"dir"`
	Name     string           `json:"name,omitempty"`
	Version  int              `json:"version,omitempty"`
	Digest   string           `json:"digest,omitempty"`
	Result   string           `json:"result"`           // created, updated, unchanged, failed
	Status   string           `json:"status,omitempty"` // the skill's status afterwards
	Message  string           `json:"message,omitempty"`
	Similar  []string         `json:"similar,omitempty"` // possible duplicates the server found
	Error    string           `json:"error,omitempty"`
	Problems []bundle.Problem `json:"problems,omitempty"`
}

func push(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "push", "DIR... [--draft] [--visibility private|tenant|public] [--json]",
		`  skillvault push ./pdf-tools
  skillvault push skills/*            # every skill folder, one line each
  skillvault push --draft ./new-skill  # upload without publishing

Each folder is checked locally first (as skillvault lint does), zipped and
uploaded: a new skill is created, an existing one gets a new version, and
a bundle equal to the latest version is reported as unchanged. The exit
status is 1 when any folder failed; the others are still pushed.`)
	draft := fs.Bool("draft", false, "upload without publishing")
	visibility := fs.String("visibility", "", "visibility of new skills: private, tenant (server default) or public")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	dirs, ok, code := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(dirs) == 0 {
		return usageError(e, fs, "give at least one skill folder")
	}
	switch *visibility {
	case "", "private", "tenant", "public":
	default:
		return usageError(e, fs, "--visibility must be private, tenant or public, not %q", *visibility)
	}
	c, err := connect(e)
	if err != nil {
		return fail(e, "push: %v", err)
	}
	results := []pushResult{}
	// A skill's name is its folder's name, so the folders give the
	// width of the name column before anything is uploaded.
	width := 0
	for _, dir := range dirs {
		width = max(width, len(filepath.Base(filepath.Clean(dir))))
	}
	counts := map[string]int{}
	// Each folder's line is printed as soon as it is pushed; a wait for
	// the server's rate limit says so, so a long push never looks stuck.
	current := ""
	c.OnRetry = func(r client.Retry) {
		fmt.Fprintf(e.stderr, "push %s: the server is busy (HTTP %d), retrying in %.1fs\n", current, r.Status, r.Wait.Seconds())
	}
	for i, dir := range dirs {
		if ctx.Err() != nil {
			return fail(e, "push: interrupted after %d of %d folders", i, len(dirs))
		}
		current = fmt.Sprintf("%d/%d %s", i+1, len(dirs), dir)
		r := pushOne(ctx, c, dir, !*draft, *visibility)
		results = append(results, r)
		counts[r.Result]++
		if !*asJSON {
			printPush(e, r, width)
		}
	}
	if *asJSON {
		printJSON(e.stdout, results)
	} else if len(dirs) > 1 {
		fmt.Fprintln(e.stdout, pushSummary(len(dirs), counts))
	}
	if counts["failed"] > 0 {
		return exitFail
	}
	return exitOK
}

// pushSummary is the closing line of a push of several folders, e.g.
// "7 folders: 5 created, 1 updated, 1 unchanged, 0 refused".
func pushSummary(n int, counts map[string]int) string {
	return fmt.Sprintf("%d folders: %d created, %d updated, %d unchanged, %d refused",
		n, counts["created"], counts["updated"], counts["unchanged"], counts["failed"])
}

// pushOne validates, zips and uploads one folder.
func pushOne(ctx context.Context, c *client.Client, dir string, publish bool, visibility string) pushResult {
	r := pushResult{Dir: dir, Result: "failed"}
	abs, err := filepath.Abs(dir)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	files, err := bundle.ReadDir(abs, bundle.Limits{})
	var b *bundle.Bundle
	if err == nil {
		b, err = bundle.New(files, bundle.Limits{}, filepath.Base(abs))
	}
	if err != nil {
		r.Error, r.Problems = "not a valid skill folder", bundle.Problems(err)
		var be *bundle.Error
		if !errors.As(err, &be) {
			r.Error, r.Problems = err.Error(), nil
		}
		return r
	}
	r.Name, r.Digest = b.Frontmatter.Name, b.Digest
	var buf bytes.Buffer
	if err := bundle.WriteZip(&buf, b.Files); err != nil {
		r.Error = err.Error()
		return r
	}
	p, err := c.CreateSkill(ctx, buf.Bytes(), publish, visibility)
	var ce *client.Error
	if errors.As(err, &ce) && ce.Type == "/problems/conflict" {
		// The skill exists: add a version. (A publication blocked by a
		// safety finding is a 409 of another type, reported as it is.)
		conflict := err
		p, err = c.AddVersion(ctx, r.Name, buf.Bytes(), publish)
		if client.IsNotFound(err) {
			// A skill the caller cannot see holds the name: the
			// conflict says so without naming it a skill.
			err = conflict
		}
	}
	if err != nil {
		if errors.As(err, &ce) {
			r.Problems = ce.Problems
		}
		r.Error = describeNoProblems(err)
		return r
	}
	r.Version, r.Status, r.Message = p.Version.Number, p.Skill.Status, p.Message
	for _, d := range p.PossibleDuplicates {
		r.Similar = append(r.Similar, fmt.Sprintf("%s (%.2f)", d.Name, d.Similarity))
	}
	switch {
	case p.Unchanged:
		r.Result = "unchanged"
	case p.Version.Number == 1:
		r.Result = "created"
	default:
		r.Result = "updated"
	}
	if p.Version.Digest != "" && p.Version.Digest != b.Digest {
		// The server computed another digest from the same bytes: say so
		// rather than report success on a bundle we cannot vouch for.
		r.Result, r.Error = "failed", fmt.Sprintf("the server stored digest %s, but the folder's is %s", p.Version.Digest, b.Digest)
	}
	return r
}

// describeNoProblems is describe without the per-file problems, which push
// prints under the folder's path.
func describeNoProblems(err error) string {
	var ce *client.Error
	if errors.As(err, &ce) && len(ce.Problems) > 0 {
		cp := *ce
		cp.Problems = nil
		return describe(&cp)
	}
	return describe(err)
}

func printPush(e *env, r pushResult, width int) {
	if r.Result == "failed" {
		fmt.Fprintf(e.stderr, "skillvault: push %s: %s\n", r.Dir, r.Error)
		for _, p := range r.Problems {
			fmt.Fprintln(e.stderr, "  "+problemAt(r.Dir, p))
		}
		return
	}
	fmt.Fprintf(e.stdout, "%-9s  %-*s  version %-3d  %s  %s\n", r.Result, width, r.Name, r.Version, r.Digest, r.Status)
	if len(r.Similar) > 0 {
		fmt.Fprintf(e.stderr, "note: %s looks like existing skills: %s\n", r.Name, strings.Join(r.Similar, ", "))
	}
}

// problemAt prints a problem with the file's path on disk: DIR/FILE:LINE: MSG.
func problemAt(dir string, p bundle.Problem) string {
	if p.File != "" {
		p.File = filepath.Join(dir, filepath.FromSlash(p.File))
	} else {
		p.File = dir
	}
	return p.String()
}

func lint(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "lint", "DIR... [--review] [--json]",
		`  skillvault lint ./pdf-tools
  skillvault lint skills/*
  skillvault lint --review ./pdf-tools   # also run the server's safety review

Checks each folder as a push would, without a server: SKILL.md frontmatter
(name equal to the folder's, description), paths, sizes and file types.
Prints one "file:line: message" per problem and exits 1 when there is any,
"DIR: ok" and 0 otherwise. With --review it also runs the builtin review
the server runs at upload (same rules, same vendor allow-list from
SKILLVAULT_REVIEW_VENDOR_HOSTS), prints its findings of low severity and
above as "file:line: severity category: message [rule]", and exits 1 when
one would block publishing.`)
	asJSON := fs.Bool("json", false, "print the problems as JSON")
	withReview := fs.Bool("review", false, "also run the safety and quality review offline")
	dirs, ok, code := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(dirs) == 0 {
		return usageError(e, fs, "give at least one skill folder")
	}
	type result struct {
		Dir      string           `json:"dir"`
		OK       bool             `json:"ok"`
		Problems []bundle.Problem `json:"problems"`
		Findings []review.Finding `json:"findings,omitempty"`
		Blocking bool             `json:"blocking,omitempty"`
	}
	var results []result
	bad := false
	for _, dir := range dirs {
		ps := bundle.Lint(dir)
		res := result{Dir: dir, OK: len(ps) == 0, Problems: append([]bundle.Problem{}, ps...)}
		if *withReview && len(ps) == 0 {
			found, blocking, err := reviewDir(e, dir)
			if err != nil {
				return fail(e, "lint %s: review: %v", dir, err)
			}
			res.Findings, res.Blocking, res.OK = found, blocking, !blocking
		}
		results = append(results, res)
		bad = bad || !res.OK
		if *asJSON {
			continue
		}
		for _, p := range ps {
			fmt.Fprintln(e.stdout, problemAt(dir, p))
		}
		for _, f := range res.Findings {
			fmt.Fprintln(e.stdout, findingAt(dir, f))
		}
		switch {
		case res.Blocking:
			fmt.Fprintf(e.stdout, "%s: a high-severity safety finding blocks publishing\n", dir)
		case res.OK:
			fmt.Fprintf(e.stdout, "%s: ok\n", dir)
		}
	}
	if *asJSON {
		printJSON(e.stdout, results)
	}
	if bad {
		return exitFail
	}
	return exitOK
}
