package service

import (
	"bytes"
)

// renameSkillMD returns SKILL.md with the top-level name key of its
// frontmatter set to name. Only that one line changes: lines of the body or
// nested keys that happen to start with "name:" stay as they are, and so do
// the line's ending and every other byte.
func renameSkillMD(data []byte, name string) ([]byte, bool) {
	out := bytes.Clone(data)
	start := 0
	if bytes.HasPrefix(out, []byte("\ufeff")) {
		start = len("\ufeff")
	}
	inside := false
	for pos := start; pos < len(out); {
		end := bytes.IndexByte(out[pos:], '\n')
		if end < 0 {
			end = len(out)
		} else {
			end += pos
		}
		line := out[pos:end]
		fence := string(bytes.TrimRight(line, " \t\r")) == "---"
		switch {
		case !inside && pos == start && fence:
			inside = true
		case !inside || fence:
			return data, false
		case bytes.HasPrefix(line, []byte("name:")):
			repl := []byte("name: " + name)
			if bytes.HasSuffix(line, []byte("\r")) {
				repl = append(repl, '\r')
			}
			return append(append(append([]byte{}, out[:pos]...), repl...), out[end:]...), true
		}
		pos = end + 1
	}
	return data, false
}
