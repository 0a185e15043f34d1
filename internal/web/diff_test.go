package web

import (
	"context"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/service"
)

// lcsLen is the textbook dynamic programme, to check that the Myers diff
// is minimal.
func lcsLen(a, b []string) int {
	dp := make([][]int, len(a)+1)
	for i := range dp {
		dp[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	return dp[0][0]
}

func TestMyersIsAMinimalEditScript(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"a", "b", "c", "d"}
	gen := func() []string {
		out := make([]string, r.IntN(12))
		for i := range out {
			out[i] = words[r.IntN(len(words))]
		}
		return out
	}
	for range 2000 {
		x, y := gen(), gen()
		ops := myers(x, y)
		var got []string
		i, j, edits := 0, 0, 0
		for _, op := range ops {
			switch op {
			case ' ':
				if x[i] != y[j] {
					t.Fatalf("%v → %v: kept line %q differs from %q", x, y, x[i], y[j])
				}
				got = append(got, x[i])
				i++
				j++
			case '-':
				i++
				edits++
			case '+':
				got = append(got, y[j])
				j++
				edits++
			}
		}
		if i != len(x) || strings.Join(got, ",") != strings.Join(y, ",") {
			t.Fatalf("%v → %v: script %q gives %v", x, y, ops, got)
		}
		if want := len(x) + len(y) - 2*lcsLen(x, y); edits != want {
			t.Fatalf("%v → %v: %d edits, minimal is %d", x, y, edits, want)
		}
	}
}

func TestLineDiffContext(t *testing.T) {
	var a, b []string
	for i := range 30 {
		a = append(a, "line "+string(rune('A'+i%26)))
	}
	b = append(b, a...)
	b[15] = "changed"
	lines, note := lineDiff(strings.Join(a, "\n")+"\n", strings.Join(b, "\n")+"\n")
	if note != "" {
		t.Fatal(note)
	}
	var ops string
	for _, l := range lines {
		ops += l.Op
	}
	if ops != "~   -+   ~" {
		t.Fatalf("ops %q, want the change with three lines of context and skipped runs", ops)
	}
	if lines[4].Old != 16 || lines[5].New != 16 {
		t.Errorf("line numbers: %+v %+v", lines[4], lines[5])
	}
}

// TestVersionsDiffAndFork: a second version shows as a line diff against
// the first, and a fork becomes the user's own private skill.
func TestVersionsDiffAndFork(t *testing.T) {
	e := start(t)
	a := e.tenant("acme")
	md := "---\nname: notes\ndescription: Takes notes in meetings when asked.\n---\n# Notes\n\nStep one.\nStep two.\nStep three.\n"
	e.publishFiles(a, a.Member, "member", map[string]string{"SKILL.md": md, "old.txt": "old\n"}, service.PublishOptions{})
	v2 := strings.Replace(md, "Step two.", "Step 2, carefully.", 1)
	if _, err := e.TS.Svc.AddVersion(context.Background(), a.actor(a.Member, "member"), "notes",
		[]bundle.File{{Path: "SKILL.md", Data: []byte(v2)}, {Path: "new.txt", Data: []byte("new\n")}}, service.PublishOptions{Publish: true, Changelog: "clearer step two"}); err != nil {
		t.Fatal(err)
	}
	b := e.client()
	b.signIn(e.loginLink(a, a.Member))
	p := b.get("/skills/notes/diff?from=1&to=2")
	for _, want := range []string{"Changes from v1 to v2", `<tr class="del">`, "Step two.", `<tr class="ins">`, "Step 2, carefully.",
		"old.txt", "removed", "new.txt", "added"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("diff page lacks %q", want)
		}
	}
	if v := b.get("/skills/notes/versions"); !strings.Contains(v.Body, "clearer step two") {
		t.Error("versions page lacks the changelog")
	}
	if d := b.get("/skills/notes/download?version=1"); d.Status != 200 || d.Header.Get("Content-Type") != "application/zip" {
		t.Errorf("download: %d %s", d.Status, d.Header.Get("Content-Type"))
	} else if files, _, err := bundle.ReadArchive([]byte(d.Body), bundle.Limits{}); err != nil || len(files) != 2 {
		t.Errorf("downloaded zip: %d files, %v", len(files), err)
	}

	// The admin forks it.
	ab := e.client()
	ab.signIn(e.loginLink(a, a.Admin))
	f := ab.do("POST", "/skills/notes/fork", url.Values{"csrf": {ab.csrf()}, "new_name": {"my-notes"}})
	if f.Status != 303 || !strings.HasPrefix(f.Header.Get("Location"), "/skills/my-notes") {
		t.Fatalf("fork: %d %s", f.Status, f.Body)
	}
	s := ab.get("/skills/my-notes")
	if !strings.Contains(s.Body, `forked from <a href="/skills/notes">notes</a>`) || !strings.Contains(s.Body, "visible only to you") {
		t.Error("the fork page does not show its source or visibility")
	}
	if b.get("/skills/my-notes").Status != 404 {
		t.Error("the member sees the admin's private fork")
	}
}
