package web

import "strings"

// diffLine is one line of a line diff: Op is " " (same), "-" or "+".
type diffLine struct {
	Op       string
	Text     string
	Old, New int // 1-based line numbers, 0 where the line is absent
}

// maxDiffLines and maxEdits bound the work of one diff.
const (
	maxDiffLines = 20000
	maxEdits     = 4000
)

// lineDiff returns the shortest line edit script from a to b (Myers'
// O(ND) algorithm), or a note when the files are too large to compare.
func lineDiff(a, b string) ([]diffLine, string) {
	x, y := splitLines(a), splitLines(b)
	if len(x)+len(y) > maxDiffLines {
		return nil, "too large to compare line by line"
	}
	ops := myers(x, y)
	if ops == nil {
		return nil, "too many changes to show line by line"
	}
	out := make([]diffLine, 0, len(ops))
	i, j := 0, 0
	for _, op := range ops {
		switch op {
		case ' ':
			out = append(out, diffLine{" ", x[i], i + 1, j + 1})
			i++
			j++
		case '-':
			out = append(out, diffLine{"-", x[i], i + 1, 0})
			i++
		case '+':
			out = append(out, diffLine{"+", y[j], 0, j + 1})
			j++
		}
	}
	return context3(out), ""
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// myers returns the edit operations turning x into y, or nil when more
// than maxEdits are needed.
func myers(x, y []string) []byte {
	n, m := len(x), len(y)
	maxD := min(n+m, maxEdits)
	off := maxD + 1
	v := make([]int, 2*maxD+3)
	var trace [][]int
	for d := 0; d <= maxD; d++ {
		for k := -d; k <= d; k += 2 {
			var i int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				i = v[off+k+1] // down: insertion
			} else {
				i = v[off+k-1] + 1 // right: deletion
			}
			j := i - k
			for i < n && j < m && x[i] == y[j] {
				i++
				j++
			}
			v[off+k] = i
			if i >= n && j >= m {
				trace = append(trace, append([]int(nil), v...))
				return backtrack(trace, n, m, off)
			}
		}
		trace = append(trace, append([]int(nil), v...))
	}
	return nil
}

func backtrack(trace [][]int, n, m, off int) []byte {
	var ops []byte
	i, j := n, m
	for d := len(trace) - 1; d > 0; d-- {
		v := trace[d-1]
		k := i - j
		var pk int
		if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
			pk = k + 1
		} else {
			pk = k - 1
		}
		pi := v[off+pk]
		pj := pi - pk
		for i > pi && j > pj {
			ops = append(ops, ' ')
			i--
			j--
		}
		if i == pi {
			ops = append(ops, '+')
		} else {
			ops = append(ops, '-')
		}
		i, j = pi, pj
	}
	for i > 0 && j > 0 {
		ops = append(ops, ' ')
		i--
		j--
	}
	for i, j := 0, len(ops)-1; i < j; i, j = i+1, j-1 {
		ops[i], ops[j] = ops[j], ops[i]
	}
	return ops
}

// context3 keeps changed lines with three lines of context around them; a
// skipped run becomes one line with Op "~".
func context3(lines []diffLine) []diffLine {
	keep := make([]bool, len(lines))
	for i, l := range lines {
		if l.Op != " " {
			for j := max(0, i-3); j <= min(len(lines)-1, i+3); j++ {
				keep[j] = true
			}
		}
	}
	var out []diffLine
	skipped := 0
	for i, l := range lines {
		if keep[i] {
			if skipped > 0 {
				out = append(out, diffLine{Op: "~", Text: plural(skipped, "unchanged line")})
				skipped = 0
			}
			out = append(out, l)
			continue
		}
		skipped++
	}
	if skipped > 0 && len(out) > 0 {
		out = append(out, diffLine{Op: "~", Text: plural(skipped, "unchanged line")})
	}
	return out
}
