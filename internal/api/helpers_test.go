package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/bundle/bundletest"
	"github.com/skillvault/skillvault/internal/dbtest"
	"github.com/skillvault/skillvault/internal/testserver"
)

// problem is the part of a problem+json body the tests look at.
type problem struct {
	Type     string           `json:"type"`
	Title    string           `json:"title"`
	Status   int              `json:"status"`
	Detail   string           `json:"detail"`
	Instance string           `json:"instance"`
	Problems []bundle.Problem `json:"problems"`
}

// wantProblem checks that r is a problem+json answer with the status and
// type given, and returns it.
func wantProblem(t testing.TB, r *testserver.Response, status int, typ string) problem {
	t.Helper()
	var p problem
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, want application/problem+json: %s", ct, r.Body)
	}
	r.JSON(t, &p)
	if p.Type != typ || p.Status != status || p.Title == "" {
		t.Fatalf("problem %+v, want type %s and status %d", p, typ, status)
	}
	if p.Instance == "" || p.Instance != r.Header.Get("X-Request-Id") {
		t.Fatalf("problem instance %q is not the request id %q", p.Instance, r.Header.Get("X-Request-Id"))
	}
	return p
}

// wantStatus fails unless r has the status.
func wantStatus(t testing.TB, r *testserver.Response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
}

// skillMD is a minimal valid SKILL.md.
func skillMD(name, desc string) []byte {
	return []byte("---\nname: " + name + "\ndescription: " + desc + "\n---\n# " + name + "\n\nDo the thing.\n")
}

// simpleBundle is a small valid bundle named name.
func simpleBundle(name string, extra ...string) []bundle.File {
	files := []bundle.File{{Path: "SKILL.md", Data: skillMD(name, "A skill called "+name+".")},
		{Path: "scripts/run.sh", Data: []byte("#!/bin/sh\necho " + name + "\n")}}
	for _, e := range extra {
		files = append(files, bundle.File{Path: "references/" + e + ".md", Data: []byte("# " + e + "\n")})
	}
	return files
}

func zipBytes(t testing.TB, files []bundle.File) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := bundle.WriteZip(&buf, files); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func tarGzBytes(t testing.TB, files []bundle.File) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := bundle.WriteTarGz(&buf, files); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// entry is a raw archive entry, which may be anything an attacker sends.
type entry = bundletest.Entry

// multipartBody writes files as form files named "file" whose filenames
// are their paths, plus form fields.
func multipartBody(t testing.TB, files []bundle.File, fields map[string]string) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, f.Path))
		h.Set("Content-Type", "application/octet-stream")
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(f.Data)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

// published is the answer to an upload.
type published struct {
	Skill     skillJSON `json:"skill"`
	Version   version   `json:"version"`
	Files     []file    `json:"files"`
	Created   bool      `json:"created"`
	Unchanged bool      `json:"unchanged"`
	Message   string    `json:"message"`
}

type skillJSON struct {
	ID               string   `json:"id"`
	Name             string   `json:"name"`
	Title            string   `json:"title"`
	Category         string   `json:"category"`
	Tags             []string `json:"tags"`
	Status           string   `json:"status"`
	Visibility       string   `json:"visibility"`
	Author           string   `json:"author"`
	LatestVersion    int      `json:"latest_version"`
	PublishedVersion *int     `json:"published_version"`
	ForkOf           *string  `json:"fork_of"`
	ForkOfDigest     *string  `json:"fork_of_digest"`
	RatingCount      int      `json:"rating_count"`
	RatingAverage    float64  `json:"rating_average"`
	Installs         int64    `json:"installs"`
	Downloads        int64    `json:"downloads"`
	Views            int64    `json:"views"`
	Invocations      int64    `json:"invocations"`
}

type version struct {
	Number      int             `json:"number"`
	Digest      string          `json:"digest"`
	FileCount   int             `json:"file_count"`
	Frontmatter json.RawMessage `json:"frontmatter"`
	Skill       string          `json:"skill"`
	Files       []file          `json:"files"`
	Changelog   string          `json:"changelog"`
}

type file struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// upload sends a bundle body with its content type to path.
func upload(s *testserver.Server, key, path, ct string, body []byte) *testserver.Response {
	s.T.Helper()
	return s.Do("POST", path, key, body, "Content-Type", ct)
}

// create makes a skill from files (as a zip) and returns the answer.
func create(t testing.TB, s *testserver.Server, key string, files []bundle.File, query string) published {
	t.Helper()
	r := upload(s, key, "/api/v1/skills"+query, "application/zip", zipBytes(t, files))
	wantStatus(t, r, http.StatusCreated)
	var p published
	r.JSON(t, &p)
	return p
}

// page is a list answer.
type page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// getJSON GETs path with key, wants 200 and decodes into v.
func getJSON(t testing.TB, s *testserver.Server, key, path string, v any) {
	t.Helper()
	r := s.Do("GET", path, key, nil)
	wantStatus(t, r, http.StatusOK)
	r.JSON(t, v)
}

// walk follows a list's cursors with the given page size and returns every
// item, failing on a duplicate (by the id function).
func walk[T any](t testing.TB, s *testserver.Server, key, path string, size int, id func(T) string) []T {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	var all []T
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatalf("%s: cursor never ends", path)
		}
		u := fmt.Sprintf("%s%slimit=%d", path, sep, size)
		if cursor != "" {
			u += "&cursor=" + cursor
		}
		var p page[T]
		getJSON(t, s, key, u, &p)
		if len(p.Items) > size {
			t.Fatalf("%s: page of %d items, limit %d", u, len(p.Items), size)
		}
		for _, it := range p.Items {
			k := id(it)
			if seen[k] {
				t.Fatalf("%s: %s listed twice", path, k)
			}
			seen[k] = true
			all = append(all, it)
		}
		if p.NextCursor == "" {
			return all
		}
		if len(p.Items) == 0 {
			t.Fatalf("%s: empty page with a next cursor", u)
		}
		cursor = p.NextCursor
	}
}

// counts are the stored rows of one tenant, read as the superuser (which
// bypasses row-level security).
type counts struct {
	Skills, Versions, Blobs, Files, Ratings, Usage int
}

func tenantCounts(t testing.TB, s *testserver.Server, tenant uuid.UUID) counts {
	t.Helper()
	conn := dbtest.Connect(t, s.Env.AdminURL)
	var c counts
	err := conn.QueryRow(context.Background(), `SELECT
		(SELECT count(*) FROM skills WHERE tenant_id = $1),
		(SELECT count(*) FROM skill_versions WHERE tenant_id = $1),
		(SELECT count(*) FROM blobs WHERE tenant_id = $1),
		(SELECT count(*) FROM skill_version_files WHERE tenant_id = $1),
		(SELECT count(*) FROM ratings WHERE tenant_id = $1),
		(SELECT count(*) FROM usage_events WHERE tenant_id = $1)`, tenant).
		Scan(&c.Skills, &c.Versions, &c.Blobs, &c.Files, &c.Ratings, &c.Usage)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// describedBundle is a one-file bundle with the given description.
func describedBundle(name, desc string) []bundle.File {
	return []bundle.File{{Path: "SKILL.md", Data: skillMD(name, desc)}}
}
