// Package review judges one version of a skill: spec compliance,
// structure, clarity, completeness and safety. Builtin is deterministic
// and offline; LLM asks an OpenAI-compatible chat model for the same
// judgement.
package review

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/skillvault/skillvault/internal/bundle"
)

// Input is what a reviewer sees: the parsed frontmatter, the SKILL.md
// body (without frontmatter) and every file of the bundle, SKILL.md
// included.
type Input struct {
	Frontmatter bundle.Frontmatter
	Body        string
	Files       []bundle.File
}

// Severities, from least to most serious.
const (
	Info   = "info"
	Low    = "low"
	Medium = "medium"
	High   = "high"
)

// Categories of findings.
const (
	Spec         = "spec"
	Structure    = "structure"
	Clarity      = "clarity"
	Completeness = "completeness"
	Safety       = "safety"
)

// Finding is one observation. File is a bundle path ("" for the bundle
// as a whole); Line is 1-based within File, 0 when the finding concerns
// the file as a whole.
type Finding struct {
	Severity string `json:"severity"`
	Category string `json:"category"`
	File     string `json:"file"`
	Line     int    `json:"line"`
	Message  string `json:"message"`
	Rule     string `json:"rule,omitempty"` // the builtin rule that found it (see Rules)
}

// Result is a review. Scores run from 1 (worst) to 10 (best).
type Result struct {
	Quality      int       `json:"quality"`
	Clarity      int       `json:"clarity"`
	Completeness int       `json:"completeness"`
	Safety       int       `json:"safety"`
	Findings     []Finding `json:"findings"`
	Suggestions  []string  `json:"suggestions"`
	Summary      string    `json:"summary"`
	Reviewer     string    `json:"reviewer"` // "builtin-v2" or "llm:<model>"
}

// BuiltinReviewer names the builtin reviewer in results. Change it when
// the rules or the scoring change, so stored reviews can be redone.
const BuiltinReviewer = "builtin-v2"

// Blocking reports whether the result has a high-severity safety finding:
// such a version should not be published until a person has looked.
func (r Result) Blocking() bool {
	for _, f := range r.Findings {
		if f.Severity == High && f.Category == Safety {
			return true
		}
	}
	return false
}

// Builtin reviews in without network or randomness: the same input
// always gives the same result.
//
// Scores are derived from the findings. Each score starts at 10 and loses
// 4 points per high, 2 per medium and 1 per low finding of its
// categories (info costs nothing); a rule that fires many times counts at
// most twice, so one repeated slip does not sink a skill:
//
//	Clarity      ← clarity findings
//	Completeness ← completeness findings
//	Safety       ← safety findings, and at most 3 if any is high
//	Quality      ← (2×S + Clarity + Completeness + Safety) / 5, rounded,
//	               where S is 10 less the spec and structure findings;
//	               never above Safety, as an unsafe skill is not a good one
//
// Every score is clamped to 1..10.
func Builtin(in Input) Result { return DefaultPolicy.Builtin(in) }

// Builtin is the builtin review under policy p.
func (p Policy) Builtin(in Input) Result {
	c := newChecker(in)
	c.policy = p
	c.checkSpec()
	c.checkDescription()
	c.checkBody()
	c.checkLinks()
	c.checkSafety()
	return c.result()
}

// finding is a Finding with the rule that produced it, which scoring and
// suggestions need.
type finding struct {
	Finding
	rule *rule
}

// rule describes one kind of finding. Rules that share an id count as
// one for scoring.
type rule struct {
	id         string
	severity   string
	category   string
	suggestion string // optional advice shown once per review

	// Safety rules only: how the severity reacts to the place of a match
	// (see weigh), the kind of threat as public scanners name it, and
	// what the rule finds, for the catalogue.
	class  int
	threat string
	doc    string
}

var severityRank = map[string]int{Info: 0, Low: 1, Medium: 2, High: 3}
var severityCost = map[string]int{Info: 0, Low: 1, Medium: 2, High: 4}

// maxCountPerRule bounds how many findings of one rule count against a
// score.
const maxCountPerRule = 2

func (c *checker) result() Result {
	fs := c.findings
	slices.SortStableFunc(fs, func(a, b finding) int { return compareFindings(a.Finding, b.Finding) })
	fs = slices.CompactFunc(fs, func(a, b finding) bool { return a.Finding == b.Finding })

	cost := map[string]int{}
	counted := map[string]int{} // by rule id
	highSafety := false
	suggestions := []string{}
	for _, f := range fs {
		if counted[f.rule.id] < maxCountPerRule {
			counted[f.rule.id]++
			cost[f.Category] += severityCost[f.Severity]
		}
		if f.Category == Safety && f.Severity == High {
			highSafety = true
		}
		if s := f.rule.suggestion; s != "" && !slices.Contains(suggestions, s) {
			suggestions = append(suggestions, s)
		}
	}
	r := Result{
		Clarity:      clampScore(10 - cost[Clarity]),
		Completeness: clampScore(10 - cost[Completeness]),
		Safety:       clampScore(10 - cost[Safety]),
		Suggestions:  suggestions,
		Reviewer:     BuiltinReviewer,
	}
	if highSafety {
		r.Safety = min(r.Safety, 3)
	}
	s := clampScore(10 - cost[Spec] - cost[Structure])
	r.Quality = clampScore(min(roundDiv(2*s+r.Clarity+r.Completeness+r.Safety, 5), r.Safety))
	r.Findings = make([]Finding, len(fs))
	for i, f := range fs {
		r.Findings[i] = f.Finding
	}
	r.Summary = summarize(c.in.Frontmatter.Name, r)
	return r
}

// compareFindings orders findings most serious first, then by place.
func compareFindings(a, b Finding) int {
	if d := cmp.Compare(severityRank[b.Severity], severityRank[a.Severity]); d != 0 {
		return d
	}
	return cmp.Or(
		cmp.Compare(a.File, b.File),
		cmp.Compare(a.Line, b.Line),
		cmp.Compare(a.Category, b.Category),
		cmp.Compare(a.Message, b.Message),
	)
}

func clampScore(n int) int { return max(1, min(10, n)) }

// roundDiv divides non-negative a by b, rounding halves up.
func roundDiv(a, b int) int { return (2*a + b) / (2 * b) }

// summarize writes the one-paragraph verdict shown next to the scores.
func summarize(name string, r Result) string {
	var count [4]int
	for _, f := range r.Findings {
		count[severityRank[f.Severity]]++
	}
	if name == "" {
		name = "This skill"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: quality %d/10 (clarity %d, completeness %d, safety %d). ", name, r.Quality, r.Clarity, r.Completeness, r.Safety)
	if len(r.Findings) == 0 {
		b.WriteString("No problems found.")
		return b.String()
	}
	fmt.Fprintf(&b, "%d %s: %d high, %d medium, %d low, %d info.", len(r.Findings), plural(len(r.Findings), "finding", "findings"),
		count[3], count[2], count[1], count[0])
	if r.Blocking() {
		for _, f := range r.Findings {
			if f.Category == Safety && f.Severity == High {
				fmt.Fprintf(&b, " Blocking: %s (%s).", f.Message, location(f))
				break
			}
		}
	} else if count[3] > 0 {
		for _, f := range r.Findings {
			if f.Severity == High {
				fmt.Fprintf(&b, " Most serious: %s (%s).", f.Message, location(f))
				break
			}
		}
	}
	return b.String()
}

func location(f Finding) string {
	switch {
	case f.File == "":
		return "bundle"
	case f.Line > 0:
		return fmt.Sprintf("%s:%d", f.File, f.Line)
	default:
		return f.File
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
