package bundle

import (
	"strings"
	"testing"
)

func TestLinkProblems(t *testing.T) {
	files := []File{
		{Path: "SKILL.md", Data: []byte(strings.Join([]string{
			"---", "name: demo", "description: d", "---",
			"See [the guide](references/guide.md) and [a section](references/guide.md#setup).", // 5: ok
			"Run [the script](./scripts/run.sh) or browse [scripts](scripts/).",                // 6: ok
			"A [typo](references/gide.md).",                                                    // 7: dead
			"Outside: [parent](../other-skill/SKILL.md), [root](/etc/passwd).",                 // 8: leaves, absolute
			"Elsewhere: [site](https://example.com/x.md), [mail](mailto:a@b.c), [top](#top).",  // 9: not ours
			"`[not a link](missing.md)` in code",                                               // 10: code span
			"```", "[in a fence](missing.md)", "```",                                           // 11-13: fenced
			"![logo](assets/logo%20dark.png)", // 14: escaped, ok
		}, "\n"))},
		{Path: "references/guide.md", Data: []byte("Back to [the skill](../SKILL.md); [nope](../../x.md)\n")},
		{Path: "scripts/run.sh", Data: []byte("#!/bin/sh\n")},
		{Path: "assets/logo dark.png", Data: []byte{0x89}},
	}
	var got []string
	for _, p := range LinkProblems(files) {
		got = append(got, p.String())
	}
	want := []string{
		"SKILL.md:7: link references/gide.md points at references/gide.md, which is not in the skill",
		"SKILL.md:8: link ../other-skill/SKILL.md leaves the skill's folder: an installed skill has only its own files",
		"SKILL.md:8: link /etc/passwd is an absolute path: it leaves the skill's folder once installed; link relative to this file",
		"references/guide.md:1: link ../../x.md leaves the skill's folder: an installed skill has only its own files",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
