package soak_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/testserver"
)

// hostileDeadline bounds how long the server may take to refuse hostile
// input: a refusal must not first do the expensive thing.
const hostileDeadline = 5 * time.Second

// TestHostileInput sends what a careless or malicious client might, through
// the real server: bodies over the limits, nesting deep enough to exhaust
// a recursive parser, archive bombs, huge frontmatter, invalid UTF-8 in
// every place text enters. Every answer must be a 4xx problem (or a 2xx
// that stores only valid data), quickly, and the tenant's data unchanged
// by the refusals.
func TestHostileInput(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	tn := s.Tenant("hostile")
	key := tn.Admin.Key
	files := skillFiles("target", "A skill to aim at.", 1)
	if r := s.Do("POST", "/api/v1/skills?publish=true", key, zipOf(t, files), "Content-Type", "application/zip"); r.Status != 201 {
		t.Fatalf("create the target skill: %d %s", r.Status, r.Body)
	}

	json4xx := []int{400}
	tooLarge := []int{413}
	big := bytes.Repeat([]byte("a"), 2<<20)
	cases := []hostile{
		// Body limits: JSON routes read at most 1 MiB.
		{"rating over 1 MiB", "PUT", "/api/v1/skills/target/rating", "application/json", jsonWith(`{"stars":5,"comment":"`, big, `"}`), tooLarge},
		{"usage over 1 MiB", "POST", "/api/v1/usage", "application/json", jsonWith(`{"events":[{"skill":"target","event":"view","metadata":{"x":"`, big, `"}}]}`), tooLarge},
		{"settings over 1 MiB", "PATCH", "/api/v1/settings", "application/json", jsonWith(`{"embedding_url":"`, big, `"}`), tooLarge},
		{"key over 1 MiB", "POST", "/api/v1/keys", "application/json", jsonWith(`{"name":"`, big, `"}`), tooLarge},
		// Nesting beyond what encoding/json accepts (10,000 levels).
		{"deep array", "POST", "/api/v1/usage", "application/json", jsonWith(`{"events":`, nest("[", 20000), strings.Repeat("]", 20000)+"}"), json4xx},
		{"deep object in metadata", "POST", "/api/v1/usage", "application/json",
			jsonWith(`{"events":[{"skill":"target","event":"view","metadata":`, nest(`{"a":`, 20000), strings.Repeat("}", 20000)+"}]}"), json4xx},
		{"deep but legal metadata", "POST", "/api/v1/usage", "application/json",
			jsonWith(`{"events":[{"skill":"target","event":"view","metadata":`, nest(`{"a":`, 5000), "1"+strings.Repeat("}", 5000)+"}]}"), []int{200}},
		{"deep settings", "PATCH", "/api/v1/settings", "application/json", jsonWith(`{"embedding_url":`, nest("[", 20000), strings.Repeat("]", 20000)+"}"), json4xx},
		// Invalid UTF-8 where text enters.
		{"invalid UTF-8 in JSON", "PUT", "/api/v1/skills/target/rating", "application/json", []byte("{\"stars\":4,\"comment\":\"bad \xff\xfe bytes\"}"), []int{200, 400}},
		// encoding/json turns invalid bytes into U+FFFD, so what is stored
		// is valid text either way.
		{"invalid UTF-8 in a user email", "POST", "/api/v1/users", "application/json", []byte("{\"email\":\"\xff@hostile.example\"}"), []int{201, 400}},
		{"invalid UTF-8 in SKILL.md", "POST", "/api/v1/skills", "application/zip",
			zipOf(t, skillFilesRaw("bad-utf8", []byte("---\nname: bad-utf8\ndescription: broken \xff\xfe text\n---\n# x\n"))), []int{400}},
		{"invalid UTF-8 in a bundle path", "POST", "/api/v1/skills", "application/zip",
			rawZip(t, map[string][]byte{"SKILL.md": skillFiles("bad-path", "x.", 1)[0].Data, "scripts/\xff.sh": []byte("x")}), []int{400}},
		{"invalid UTF-8 in a multipart file name", "POST", "/api/v1/skills", "", nil, []int{400}},
		// Archives: a bomb, deep folders, many files.
		{"zip bomb", "POST", "/api/v1/skills", "application/zip", zipBombOf(t, "bomb", 256<<20), []int{400}},
		{"deep folders", "POST", "/api/v1/skills", "application/zip",
			rawZip(t, map[string][]byte{"SKILL.md": skillFiles("deep", "x.", 1)[0].Data, strings.Repeat("d/", 40) + "f.txt": []byte("x")}), []int{400}},
		{"huge frontmatter", "POST", "/api/v1/skills", "application/zip",
			zipOf(t, skillFilesRaw("huge-fm", hugeFrontmatter("huge-fm", 4<<20))), []int{400}},
		{"alias bomb in frontmatter", "POST", "/api/v1/skills", "application/zip",
			zipOf(t, skillFilesRaw("alias-bomb", aliasBomb("alias-bomb"))), []int{400}},
	}
	runHostile(t, s, key, cases)

	// The refusals changed nothing, and what was stored is valid text.
	r := s.Do("GET", "/api/v1/skills", key, nil)
	var page struct {
		Items []struct {
			Name string `json:"name"`
		} `json:"items"`
	}
	r.JSON(t, &page)
	if len(page.Items) != 1 || page.Items[0].Name != "target" {
		t.Errorf("skills after the hostile requests: %s, want only target", r.Body)
	}
	r = s.Do("GET", "/api/v1/skills/target/ratings", key, nil)
	if r.Status != 200 || !utf8.Valid(r.Body) {
		t.Errorf("ratings: %d %q", r.Status, r.Body)
	}
}

// hostile is one hostile request and the statuses acceptable for it.
type hostile struct {
	name, method, path, ct string
	body                   []byte
	want                   []int
}

// runHostile sends each request as a subtest and checks the answer: an
// acceptable status, a problem+json for errors, valid UTF-8 JSON, quickly.
func runHostile(t *testing.T, s *testserver.Server, key string, cases []hostile) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body, ct := c.body, c.ct
			if c.name == "invalid UTF-8 in a multipart file name" {
				body, ct = multipartRaw(map[string][]byte{"SKILL.md": skillFiles("bad-name", "x.", 1)[0].Data, "scripts/\xff\xfe.sh": []byte("x")})
			}
			var b any
			if body != nil {
				b = body
			}
			start := time.Now()
			r := s.Do(c.method, c.path, key, b, "Content-Type", ct)
			took := time.Since(start)
			if !containsInt(c.want, r.Status) {
				t.Errorf("%s %s: status %d, want one of %v: %.300s", c.method, c.path, r.Status, c.want, r.Body)
			}
			if r.Status >= 400 && r.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s %s: %d answered as %q, want problem+json", c.method, c.path, r.Status, r.Header.Get("Content-Type"))
			}
			if !utf8.Valid(r.Body) || (len(r.Body) > 0 && r.Header.Get("Content-Type") != "application/zip" && !json.Valid(r.Body)) {
				t.Errorf("%s %s: the answer is not valid UTF-8 JSON: %q", c.method, c.path, r.Body)
			}
			if took > hostileDeadline {
				t.Errorf("%s %s took %s", c.method, c.path, took)
			}
		})
	}

}

// TestInvalidUTF8InURLs sends invalid UTF-8 in the path and the query
// string, which reach SQL as text parameters: the answer must be a 4xx
// (or an empty result), never a 500 from PostgreSQL refusing the bytes.
func TestInvalidUTF8InURLs(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	tn := s.Tenant("utf8")
	key := tn.Admin.Key
	if r := s.Do("POST", "/api/v1/skills?publish=true", key, zipOf(t, skillFiles("target", "A skill to aim at.", 1)), "Content-Type", "application/zip"); r.Status != 201 {
		t.Fatalf("create the target skill: %d %s", r.Status, r.Body)
	}
	runHostile(t, s, key, []hostile{
		{"invalid UTF-8 in a skill name", "GET", "/api/v1/skills/%FF%FE", "", nil, []int{400, 404}},
		{"invalid UTF-8 in a search", "GET", "/api/v1/search?q=%FF%FEpdf", "", nil, []int{200, 400}},
		{"invalid UTF-8 in a filter", "GET", "/api/v1/skills?category=%FF", "", nil, []int{200, 400}},
		{"invalid UTF-8 in a file path", "GET", "/api/v1/skills/target/versions/1/files/%FF.md", "", nil, []int{400, 404}},
		{"invalid UTF-8 in a version", "GET", "/api/v1/skills/target/versions/%FF", "", nil, []int{400, 404}},
		{"invalid UTF-8 in a rating", "PUT", "/api/v1/skills/%FF/rating", "application/json", []byte(`{"stars":3}`), []int{400, 404}},
		{"invalid UTF-8 in an audit filter", "GET", "/api/v1/audit?action=%FF", "", nil, []int{200, 400}},
	})
}

func containsInt(list []int, x int) bool {
	for _, v := range list {
		if v == x {
			return true
		}
	}
	return false
}

func jsonWith(prefix string, middle []byte, suffix string) []byte {
	return append(append([]byte(prefix), middle...), suffix...)
}

func nest(open string, n int) []byte { return []byte(strings.Repeat(open, n)) }

// skillFilesRaw is a bundle with the SKILL.md given.
func skillFilesRaw(name string, md []byte) []bundle.File {
	return []bundle.File{{Path: "SKILL.md", Data: md}, {Path: "scripts/run.sh", Data: []byte("#!/bin/sh\necho " + name + "\n")}}
}

// hugeFrontmatter is a SKILL.md whose YAML header is n bytes of keys.
func hugeFrontmatter(name string, n int) []byte {
	var b bytes.Buffer
	b.WriteString("---\nname: " + name + "\ndescription: Huge.\n")
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "key%d: %s\n", i, strings.Repeat("v", 64))
	}
	b.WriteString("---\n# x\n")
	return b.Bytes()
}

// aliasBomb is a SKILL.md with a "billion laughs" YAML header.
func aliasBomb(name string) []byte {
	var b strings.Builder
	b.WriteString("---\nname: " + name + "\ndescription: Laughs.\na0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [", i, i)
		for j := range 9 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	b.WriteString("---\n# x\n")
	return []byte(b.String())
}

// rawZip writes entries as given, without the bundle writer's checks.
func rawZip(t *testing.T, entries map[string][]byte) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range entries {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// zipBombOf is a valid skill plus one entry of size zero bytes (far over
// the 25 MiB bundle limit), deflated to about a thousandth of that.
func zipBombOf(t *testing.T, name string, size int) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("SKILL.md")
	w.Write(skillFiles(name, "x.", 1)[0].Data)
	w, _ = zw.CreateHeader(&zip.FileHeader{Name: "assets/zeros.bin", Method: zip.Deflate})
	chunk := make([]byte, 1<<20)
	for written := 0; written < size; written += len(chunk) {
		w.Write(chunk)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// multipartRaw sends file names as given (mime/multipart would not escape
// invalid UTF-8 either; the server must refuse it).
func multipartRaw(files map[string][]byte) ([]byte, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for p, data := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="file"; filename="`+p+`"`)
		h.Set("Content-Type", "application/octet-stream")
		w, _ := mw.CreatePart(h)
		w.Write(data)
	}
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}
