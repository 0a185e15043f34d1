// Package embedtest holds what tests of semantic and hybrid search share:
// the location and loading of the real skill corpus and of the project's
// fixture bundles, a set of plain-language queries with the skill each one
// is meant to find, and recall@k.
//
// It reads bundles on its own (a folder, SKILL.md split at its YAML
// frontmatter) rather than through package bundle, so that tests of search
// quality do not depend on the bundle reader under test.
package embedtest

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/skillvault/skillvault/internal/bundle"
)

// Query is a need phrased as a user would, and the name of the corpus
// skill that answers it.
type Query struct {
	Query string `json:"query"`
	Want  string `json:"want"`
}

//go:embed queries.json
var queriesJSON []byte

//go:embed nomatch.json
var noMatchJSON []byte

// Queries paraphrase needs that the real corpus (and, for a few, the
// project's fixtures) answers. They were written from the skills'
// purpose, not copied from their descriptions, so that they measure
// matching of meaning rather than of strings. Callers drop the queries
// whose skill is not loaded.
var Queries = func() []Query {
	var q []Query
	if err := json.Unmarshal(queriesJSON, &q); err != nil {
		panic("embedtest: queries.json: " + err.Error())
	}
	return q
}()

// NoMatch are needs that no skill of the relevance set covers (baking,
// gardening, sport): search must say that nothing matches them rather
// than return whatever scores highest.
var NoMatch = func() []string {
	var q []string
	if err := json.Unmarshal(noMatchJSON, &q); err != nil {
		panic("embedtest: nomatch.json: " + err.Error())
	}
	return q
}()

// Skill is one bundle read from disk.
type Skill struct {
	Dir         string
	Frontmatter bundle.Frontmatter
	Body        string        // SKILL.md after the frontmatter
	Files       []bundle.File // every file, SKILL.md included, sorted by path
}

// Text is what semantic search indexes for a skill: name, description
// and body.
func (s Skill) Text() string {
	return s.Frontmatter.Name + "\n" + s.Frontmatter.Description + "\n" + s.Body
}

// SearchFixtures loads testdata/search-skills: plain skills on common
// software, security, science and office tasks, written for the relevance
// set so that it spans more than 80 skills. They live apart from
// testdata/skills, whose bundles other tests publish one by one.
func SearchFixtures(t testing.TB) []Skill {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	skills, err := LoadSkills(filepath.Join(root, "testdata", "search-skills"))
	if err != nil {
		t.Fatalf("load search fixtures: %v", err)
	}
	return skills
}

// RelevanceSet is every skill the relevance set's queries aim at: the
// real corpus (the test is skipped without it), the project's fixtures
// and the search fixtures.
func RelevanceSet(t testing.TB) []Skill {
	t.Helper()
	skills := Corpus(t)
	skills = append(skills, Fixtures(t)...)
	return append(skills, SearchFixtures(t)...)
}

// RepoRoot walks up from the working directory to the folder holding
// go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("embedtest: no go.mod above the working directory")
		}
		dir = parent
	}
}

// CorpusDir is the folder of real skills: $SKILLVAULT_CORPUS, or
// ../shared/testdata/skills next to the repository root.
func CorpusDir() (string, error) {
	if d := os.Getenv("SKILLVAULT_CORPUS"); d != "" {
		return checkDir(d, "SKILLVAULT_CORPUS")
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return checkDir(filepath.Join(root, "..", "shared", "testdata", "skills"), "corpus")
}

// FixturesDir is the project's own fixture bundles, testdata/skills at
// the repository root.
func FixturesDir() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return checkDir(filepath.Join(root, "testdata", "skills"), "fixtures")
}

func checkDir(d, what string) (string, error) {
	fi, err := os.Stat(d)
	if err != nil {
		return "", fmt.Errorf("embedtest: %s folder: %w", what, err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("embedtest: %s folder %s is not a folder", what, d)
	}
	return d, nil
}

// Corpus loads the real corpus, or skips the test with the reason when it
// is absent: a quality test that silently passes without data would
// measure nothing.
func Corpus(t testing.TB) []Skill {
	t.Helper()
	dir, err := CorpusDir()
	if err != nil {
		t.Skipf("real skill corpus not available (set SKILLVAULT_CORPUS or provide ../shared/testdata/skills): %v", err)
	}
	skills, err := LoadSkills(dir)
	if err != nil {
		t.Fatalf("load corpus %s: %v", dir, err)
	}
	if len(skills) == 0 {
		t.Skipf("real skill corpus %s holds no skills", dir)
	}
	return skills
}

// Fixtures loads the project's fixture bundles when present. Fixtures
// that do not parse (some are deliberately broken) are left out and
// logged; none present is not an error.
func Fixtures(t testing.TB) []Skill {
	t.Helper()
	dir, err := FixturesDir()
	if err != nil {
		t.Logf("no project fixtures: %v", err)
		return nil
	}
	skills, err := LoadSkills(dir)
	if err != nil {
		t.Logf("some fixtures in %s were left out: %v", dir, err)
	}
	return skills
}

// LoadSkills reads every immediate subfolder of dir that holds a SKILL.md.
// It returns the skills it could read and, joined, the errors of those it
// could not.
func LoadSkills(dir string) ([]Skill, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("embedtest: %w", err)
	}
	var (
		skills []Skill
		errs   []error
	)
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		sub := filepath.Join(dir, e.Name())
		if _, err := os.Stat(filepath.Join(sub, "SKILL.md")); err != nil {
			continue
		}
		s, err := LoadSkill(sub)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		skills = append(skills, s)
	}
	return skills, errors.Join(errs...)
}

// LoadSkill reads one bundle folder.
func LoadSkill(dir string) (Skill, error) {
	s := Skill{Dir: dir}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s.Files = append(s.Files, bundle.File{Path: filepath.ToSlash(rel), Data: data})
		return nil
	})
	if err != nil {
		return Skill{}, fmt.Errorf("embedtest: read %s: %w", dir, err)
	}
	slices.SortFunc(s.Files, func(a, b bundle.File) int { return strings.Compare(a.Path, b.Path) })
	i := slices.IndexFunc(s.Files, func(f bundle.File) bool { return f.Path == "SKILL.md" })
	if i < 0 {
		return Skill{}, fmt.Errorf("embedtest: %s: no SKILL.md", dir)
	}
	fm, body, err := SplitSkillMD(s.Files[i].Data)
	if err != nil {
		return Skill{}, fmt.Errorf("embedtest: %s/SKILL.md: %w", dir, err)
	}
	s.Frontmatter, s.Body = fm, body
	return s, nil
}

// SplitSkillMD parses the YAML frontmatter of a SKILL.md and returns it
// with the Markdown body that follows.
func SplitSkillMD(data []byte) (bundle.Frontmatter, string, error) {
	text := strings.TrimPrefix(string(data), "\ufeff")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	if !strings.HasPrefix(text, "---\n") {
		return bundle.Frontmatter{}, "", errors.New("no frontmatter")
	}
	rest := text[len("---\n"):]
	end := strings.Index(rest, "\n---")
	if end < 0 {
		return bundle.Frontmatter{}, "", errors.New("frontmatter is not closed")
	}
	header := rest[:end]
	body := rest[end+len("\n---"):]
	if i := strings.IndexByte(body, '\n'); i >= 0 {
		body = body[i+1:]
	} else {
		body = ""
	}
	var raw map[string]any
	if err := yaml.Unmarshal([]byte(header), &raw); err != nil {
		return bundle.Frontmatter{}, "", fmt.Errorf("frontmatter: %w", err)
	}
	var fm bundle.Frontmatter
	for k, v := range raw {
		switch k {
		case "name":
			fm.Name = fmt.Sprint(v)
		case "description":
			fm.Description = fmt.Sprint(v)
		case "license":
			fm.License = fmt.Sprint(v)
		case "compatibility":
			fm.Compatibility = fmt.Sprint(v)
		case "metadata":
			if m, ok := v.(map[string]any); ok {
				fm.Metadata = make(map[string]string, len(m))
				for mk, mv := range m {
					fm.Metadata[mk] = fmt.Sprint(mv)
				}
			}
		case "allowed-tools":
			switch tv := v.(type) {
			case string:
				fm.AllowedTools = strings.Fields(tv)
			case []any:
				for _, x := range tv {
					fm.AllowedTools = append(fm.AllowedTools, fmt.Sprint(x))
				}
			}
		default:
			if fm.Extra == nil {
				fm.Extra = make(map[string]any)
			}
			fm.Extra[k] = v
		}
	}
	return fm, body, nil
}

// MRR is the mean reciprocal rank of the wanted skill (0 for a query
// whose skill is not ranked at all).
func MRR(queries []Query, rankings [][]string) float64 {
	if len(queries) == 0 {
		return 0
	}
	var sum float64
	for i, q := range queries {
		if j := slices.Index(rankings[i], q.Want); j >= 0 {
			sum += 1 / float64(j+1)
		}
	}
	return sum / float64(len(queries))
}

// Recall returns the share of queries whose wanted skill is among the
// first k names of its ranking. rankings[i] belongs to queries[i].
func Recall(queries []Query, rankings [][]string, k int) float64 {
	if len(queries) == 0 {
		return 0
	}
	hits := 0
	for i, q := range queries {
		r := rankings[i]
		if len(r) > k {
			r = r[:k]
		}
		if slices.Contains(r, q.Want) {
			hits++
		}
	}
	return float64(hits) / float64(len(queries))
}
