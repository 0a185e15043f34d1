package bundle

import (
	"errors"
	"fmt"
	"strings"
)

// Problem is one thing wrong with a bundle, located as precisely as we can:
// File is a path inside the bundle ("" when the problem is not about one
// file) and Line is 1-based (0 when unknown).
type Problem struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	Msg  string `json:"message"`
}

func (p Problem) String() string {
	switch {
	case p.File != "" && p.Line > 0:
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	case p.File != "":
		return p.File + ": " + p.Msg
	default:
		return p.Msg
	}
}

// Error reports that user input (a SKILL.md, a file set, an archive) is not
// a valid bundle. Every such failure is an *Error, so a server can answer
// 4xx and show each problem, while I/O failures stay ordinary errors.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	if len(e.Problems) == 0 {
		return "invalid skill bundle"
	}
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.String()
	}
	return strings.Join(msgs, "; ")
}

// maxProblems bounds how many problems one input can produce: an archive
// with a million bad entries should not produce a million-line answer.
const maxProblems = 50

// addf records a problem. Once maxProblems is reached it records a final
// note and ignores the rest.
func (e *Error) addf(file string, line int, format string, args ...any) {
	switch {
	case len(e.Problems) < maxProblems:
		e.Problems = append(e.Problems, Problem{File: file, Line: line, Msg: fmt.Sprintf(format, args...)})
	case len(e.Problems) == maxProblems:
		e.Problems = append(e.Problems, Problem{Msg: "too many problems; stopped here"})
	}
}

// full reports whether more problems would be dropped, so loops can stop.
func (e *Error) full() bool { return len(e.Problems) > maxProblems }

// merge appends the problems of err if it is an *Error and reports whether
// it was one.
func (e *Error) merge(err error) bool {
	var be *Error
	if !errors.As(err, &be) {
		return false
	}
	for _, p := range be.Problems {
		if len(e.Problems) > maxProblems {
			break
		}
		e.Problems = append(e.Problems, p)
	}
	return true
}

// err returns e as an error, or nil (untyped) when there are no problems.
func (e *Error) err() error {
	if len(e.Problems) == 0 {
		return nil
	}
	return e
}

// problemf returns an *Error holding a single problem.
func problemf(file string, line int, format string, args ...any) *Error {
	e := &Error{}
	e.addf(file, line, format, args...)
	return e
}

// Problems returns the problems of err: those of an *Error, or err itself as
// a single problem. It returns nil for a nil error.
func Problems(err error) []Problem {
	if err == nil {
		return nil
	}
	var be *Error
	if errors.As(err, &be) {
		return be.Problems
	}
	return []Problem{{Msg: err.Error()}}
}

// humanSize formats a byte count for messages.
func humanSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}

// tooBig phrases "is X; the limit is Y" so that the two sizes never read the
// same after rounding.
func tooBig(size, limit int64) string {
	a, b := humanSize(size), humanSize(limit)
	if a == b {
		a = fmt.Sprintf("%d bytes", size)
		b = fmt.Sprintf("%d bytes", limit)
	}
	return fmt.Sprintf("is %s; the limit is %s", a, b)
}
