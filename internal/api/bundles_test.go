package api_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/skillvault/skillvault/internal/api"
	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/bundle/bundletest"
	"github.com/skillvault/skillvault/internal/dbtest"
	"github.com/skillvault/skillvault/internal/fileserve"
	"github.com/skillvault/skillvault/internal/testcorpus"
	"github.com/skillvault/skillvault/internal/testserver"
)

// TestCorpusRoundTrip uploads every real bundle as a zip, a tar.gz and
// multipart files (one tenant per format), and downloads each back
// byte-identical with the same digest.
func TestCorpusRoundTrip(t *testing.T) {
	dirs := testcorpus.Skills(t)
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	formats := []struct {
		name string
		body func(t *testing.T, name string, files []bundle.File) ([]byte, string)
	}{
		// What "zip -r name.zip name" makes: every path under the folder.
		{"zip", func(t *testing.T, name string, files []bundle.File) ([]byte, string) {
			var es []entry
			for _, f := range files {
				es = append(es, entry{Name: name + "/" + f.Path, Data: f.Data})
			}
			return bundletest.Zip(t, es...), "application/zip"
		}},
		{"tar.gz", func(t *testing.T, name string, files []bundle.File) ([]byte, string) {
			return tarGzBytes(t, files), "application/gzip"
		}},
		{"multipart", func(t *testing.T, name string, files []bundle.File) ([]byte, string) {
			return multipartBody(t, files, map[string]string{"changelog": "first"})
		}},
	}
	var tenants []*testserver.Tenant
	for _, format := range formats {
		tenants = append(tenants, s.Tenant(strings.ReplaceAll(format.name, ".", "")))
	}
	t.Run("upload", func(t *testing.T) {
		for i, format := range formats {
			tn := tenants[i]
			for _, dir := range dirs {
				name := filepath.Base(dir)
				t.Run(format.name+"/"+name, func(t *testing.T) {
					t.Parallel()
					files, err := bundle.ReadDir(dir, bundle.Limits{})
					if err != nil {
						t.Fatal(err)
					}
					want := bundle.Digest(files)
					body, ct := format.body(t, name, files)
					r := upload(s, tn.Member.Key, "/api/v1/skills", ct, body)
					wantStatus(t, r, http.StatusCreated)
					if got := r.Header.Get("Content-Type"); got != "application/json" {
						t.Errorf("content type %q", got)
					}
					if loc := r.Header.Get("Location"); loc != "/api/v1/skills/"+name {
						t.Errorf("Location %q", loc)
					}
					var p published
					r.JSON(t, &p)
					if p.Skill.Name != name || p.Version.Number != 1 || !p.Created || p.Unchanged || p.Skill.Status != "draft" {
						t.Fatalf("created %+v", p)
					}
					if p.Version.Digest != want {
						t.Fatalf("digest %s, want %s", p.Version.Digest, want)
					}
					checkManifest(t, p.Files, files)
					roundTrip(t, s, tn.Member.Key, name, "1", files, want)
					roundTrip(t, s, tn.Member.Key, name, "latest", files, want)
				})
			}
		}
	})

	// Files are stored once per tenant: the corpus shares a LICENSE.txt.
	conn := dbtest.Connect(t, s.Env.AdminURL)
	for _, tn := range tenants {
		var blobs, distinct, files int
		err := conn.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM blobs WHERE tenant_id = $1),
			(SELECT count(DISTINCT sha256) FROM skill_version_files WHERE tenant_id = $1),
			(SELECT count(*) FROM skill_version_files WHERE tenant_id = $1)`, tn.ID).Scan(&blobs, &distinct, &files)
		if err != nil {
			t.Fatal(err)
		}
		if blobs != distinct || blobs >= files {
			t.Errorf("tenant %s: %d blobs for %d distinct files in %d paths", tn.Slug, blobs, distinct, files)
		}
	}

	// The same bundle again, in any format, is no new version and stores
	// nothing (checked one at a time, so the counts are exact).
	for i, format := range formats {
		tn := tenants[i]
		for _, dir := range dirs {
			name := filepath.Base(dir)
			files, err := bundle.ReadDir(dir, bundle.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			before := tenantCounts(t, s, tn.ID)
			for _, again := range formats {
				body, ct := again.body(t, name, files)
				r := upload(s, tn.Member.Key, "/api/v1/skills/"+name+"/versions", ct, body)
				wantStatus(t, r, http.StatusOK)
				var u published
				r.JSON(t, &u)
				if !u.Unchanged || u.Created || u.Version.Number != 1 || u.Version.Digest != bundle.Digest(files) || !strings.Contains(u.Message, "unchanged") {
					t.Fatalf("%s then %s re-upload of %s: %+v", format.name, again.name, name, u)
				}
			}
			if after := tenantCounts(t, s, tn.ID); after != before {
				t.Fatalf("an unchanged upload of %s stored rows: %+v -> %+v", name, before, after)
			}
		}
	}
}

// checkManifest compares a version's manifest with the files.
func checkManifest(t *testing.T, got []file, files []bundle.File) {
	t.Helper()
	if len(got) != len(files) {
		t.Fatalf("manifest has %d files, want %d", len(got), len(files))
	}
	sorted := slices.Clone(files)
	slices.SortFunc(sorted, func(a, b bundle.File) int { return strings.Compare(a.Path, b.Path) })
	for i, f := range sorted {
		sum := sha256.Sum256(f.Data)
		if got[i].Path != f.Path || got[i].SHA256 != hex.EncodeToString(sum[:]) || got[i].Size != int64(len(f.Data)) {
			t.Errorf("manifest entry %+v, want %s %x %d", got[i], f.Path, sum, len(f.Data))
		}
	}
}

// roundTrip downloads a version as a zip and file by file and compares
// both with files.
func roundTrip(t *testing.T, s *testserver.Server, key, name, ref string, files []bundle.File, digest string) {
	t.Helper()
	base := "/api/v1/skills/" + name + "/versions/" + ref

	var v version
	getJSON(t, s, key, base, &v)
	if v.Digest != digest || v.Skill != name || v.FileCount != len(files) {
		t.Fatalf("version %+v", v)
	}
	checkManifest(t, v.Files, files)

	r := s.Do("GET", base+"/bundle.zip", key, nil)
	wantStatus(t, r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); ct != "application/zip" {
		t.Errorf("bundle.zip content type %q", ct)
	}
	if et := r.Header.Get("ETag"); et != `"`+digest+`"` {
		t.Errorf("bundle.zip ETag %s, want the digest %s", et, digest)
	}
	if cd := r.Header.Get("Content-Disposition"); !strings.Contains(cd, name+"-1.zip") {
		t.Errorf("Content-Disposition %q", cd)
	}
	// The archive is the canonical zip of exactly the uploaded files.
	if want := zipBytes(t, files); !bytes.Equal(r.Body, want) {
		t.Errorf("bundle.zip differs from the canonical zip of the uploaded files")
	}
	got, root, err := bundle.ReadZip(r.Body, bundle.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if root != "" {
		t.Errorf("bundle.zip has a root folder %q", root)
	}
	sameFiles(t, got, files)
	if d := bundle.Digest(got); d != digest {
		t.Errorf("digest of the downloaded files %s, want %s", d, digest)
	}
	r = s.Do("GET", base+"/bundle.zip", key, nil, "If-None-Match", `"`+digest+`"`)
	if r.Status != http.StatusNotModified || len(r.Body) != 0 {
		t.Errorf("If-None-Match on bundle.zip: %d %q", r.Status, r.Body)
	}

	for _, f := range files {
		r := s.Do("GET", base+"/files/"+escapePath(f.Path), key, nil)
		wantStatus(t, r, http.StatusOK)
		if !bytes.Equal(r.Body, f.Data) {
			t.Errorf("%s: downloaded bytes differ", f.Path)
		}
		etag := `"` + bundle.FileDigest(f.Data) + `"`
		if r.Header.Get("ETag") != etag {
			t.Errorf("%s: ETag %s, want %s", f.Path, r.Header.Get("ETag"), etag)
		}
		ct := r.Header.Get("Content-Type")
		if ct != fileserve.ContentType(f.Path, f.Data) || strings.Contains(ct, "html") {
			t.Errorf("%s: content type %q", f.Path, ct)
		}
		switch filepath.Ext(f.Path) {
		case ".md":
			want := "text/plain; charset=utf-8" // only SKILL.md is named Markdown
			if f.Path == "SKILL.md" {
				want = "text/markdown; charset=utf-8"
			}
			if ct != want {
				t.Errorf("%s: content type %q", f.Path, ct)
			}
		case ".py", ".sh", ".js", ".txt", ".html":
			if ct != "text/plain; charset=utf-8" {
				t.Errorf("%s: content type %q", f.Path, ct)
			}
		}
		if r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", f.Path)
		}
		r = s.Do("GET", base+"/files/"+escapePath(f.Path), key, nil, "If-None-Match", etag)
		if r.Status != http.StatusNotModified {
			t.Errorf("%s: If-None-Match gave %d", f.Path, r.Status)
		}
	}
	wantProblem(t, s.Do("GET", base+"/files/no/such/file", key, nil), http.StatusNotFound, "/problems/not-found")
}

func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

func sameFiles(t *testing.T, got, want []bundle.File) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d files, want %d", len(got), len(want))
	}
	byPath := map[string][]byte{}
	for _, f := range got {
		byPath[f.Path] = f.Data
	}
	for _, f := range want {
		data, ok := byPath[f.Path]
		if !ok {
			t.Errorf("%s missing", f.Path)
		} else if !bytes.Equal(data, f.Data) {
			t.Errorf("%s differs", f.Path)
		}
	}
}

// rfcDigest is the skill digest of the Agent Skills Discovery RFC v0.2.0,
// written again here from the RFC's text, independently of package bundle.
func rfcDigest(files map[string]string) string {
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths) // bytewise
	h := sha256.New()
	for _, p := range paths {
		sum := sha256.Sum256([]byte(files[p]))
		fmt.Fprintf(h, "%s\x00%s\n", p, hex.EncodeToString(sum[:]))
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// TestRFCDigest reproduces the RFC's worked example with an independent
// implementation, then checks that the API's digests (of a skill holding
// the example's script, in all three upload formats) agree with it.
func TestRFCDigest(t *testing.T) {
	t.Parallel()
	const example = "sha256:34f7a8c484e9991f3e71a309f31332d6335efc01f544105c4185a7c4ab12eb1e"
	if got := rfcDigest(map[string]string{"SKILL.md": "# Hello\n", "scripts/run.sh": "#!/bin/sh\n"}); got != example {
		t.Fatalf("the independent digest gives %s for the RFC example", got)
	}
	if got := bundle.Digest([]bundle.File{{Path: "scripts/run.sh", Data: []byte("#!/bin/sh\n")}, {Path: "SKILL.md", Data: []byte("# Hello\n")}}); got != example {
		t.Fatalf("bundle.Digest gives %s for the RFC example", got)
	}
	s := testserver.Start(t, testserver.Options{})
	tn := s.Tenant("rfc")
	skill := "---\nname: hello\ndescription: Says hello.\n---\n# Hello\n"
	contents := map[string]string{"SKILL.md": skill, "scripts/run.sh": "#!/bin/sh\n", "Z.txt": "upper case sorts first", "a b/c.md": "space"}
	var files []bundle.File
	for p, d := range contents {
		files = append(files, bundle.File{Path: p, Data: []byte(d)})
	}
	want := rfcDigest(contents)
	p := create(t, s, tn.Admin.Key, files, "")
	if p.Version.Digest != want {
		t.Fatalf("API digest %s, want %s", p.Version.Digest, want)
	}
	for _, f := range p.Files {
		if f.Path == "scripts/run.sh" && f.SHA256 != sha256hex("#!/bin/sh\n") {
			t.Errorf("scripts/run.sh sha256 %s", f.SHA256)
		}
	}
	body, ct := multipartBody(t, files, nil)
	for _, up := range []struct {
		ct   string
		body []byte
	}{{"application/gzip", tarGzBytes(t, files)}, {ct, body}} {
		r := upload(s, tn.Admin.Key, "/api/v1/skills/hello/versions", up.ct, up.body)
		wantStatus(t, r, http.StatusOK)
		var u published
		r.JSON(t, &u)
		if !u.Unchanged || u.Version.Digest != want {
			t.Fatalf("%s: %+v", up.ct, u)
		}
	}
	roundTrip(t, s, tn.Admin.Key, "hello", "1", files, want)
}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// zeros is an endless stream of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func zipBomb(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("SKILL.md")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(w, zeros{}, 100<<20); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return buf.Bytes()
}

func tarGzBomb(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	gw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gw)
	tw.WriteHeader(&tar.Header{Name: "SKILL.md", Typeflag: tar.TypeReg, Size: 100 << 20, Mode: 0o644})
	if _, err := io.CopyN(tw, zeros{}, 100<<20); err != nil {
		t.Fatal(err)
	}
	tw.Close()
	gw.Close()
	return buf.Bytes()
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// TestBadBundles sends bundles that must be refused, in every format
// that can carry the fault, and checks that each gets a 4xx problem and
// that nothing is stored.
func TestBadBundles(t *testing.T) {
	t.Parallel()
	const limit = 8 << 20
	s := testserver.Start(t, testserver.Options{Mount: func(s *testserver.Server) { api.SetMaxUploadBytes(s.Srv.API, limit) }})
	tn := s.Tenant("bad")
	skill := entry{Name: "SKILL.md", Data: skillMD("demo", "A demo skill.")}
	ok := []bundle.File{{Path: "SKILL.md", Data: skillMD("demo", "A demo skill.")}}
	// An existing skill, so that versions can be refused too.
	create(t, s, tn.Admin.Key, ok, "")
	before := tenantCounts(t, s, tn.ID)

	const bundleType = "/problems/invalid-bundle"
	type body struct {
		ct   string
		data []byte
	}
	zipOf := func(es ...entry) body { return body{"application/zip", bundletest.Zip(t, es...)} }
	tarOf := func(es ...entry) body { return body{"application/gzip", bundletest.TarGz(t, es...)} }
	multi := func(fs ...bundle.File) body {
		data, ct := multipartBody(t, fs, nil)
		return body{ct, data}
	}
	// both sends the entries as zip, tar.gz and multipart.
	both := func(es ...entry) []body {
		var fs []bundle.File
		for _, e := range es {
			fs = append(fs, bundle.File{Path: e.Name, Data: e.Data})
		}
		return []body{zipOf(es...), tarOf(es...), multi(fs...)}
	}
	md := func(s string) entry { return entry{Name: "SKILL.md", Data: []byte(s)} }
	big := randomBytes(5<<20 + 1)
	tests := []struct {
		name   string
		bodies []body
		status int
		typ    string
		want   string // in the detail or a problem
	}{
		{"malformed frontmatter", both(md("---\nname: [demo\ndescription: x\n---\nbody\n")), 400, bundleType, "SKILL.md"},
		{"no frontmatter", both(md("# Just a heading\n")), 400, bundleType, "SKILL.md"},
		{"missing description", both(md("---\nname: demo\n---\nbody\n")), 400, bundleType, "description"},
		{"no SKILL.md", both(entry{Name: "README.md", Data: []byte("# hi\n")}), 400, bundleType, "SKILL.md"},
		{"bad name uppercase", both(md("---\nname: Demo\ndescription: x\n---\n")), 400, bundleType, "name"},
		{"bad name hyphens", both(md("---\nname: de--mo\ndescription: x\n---\n")), 400, bundleType, "name"},
		{"bad name leading hyphen", both(md("---\nname: -demo\ndescription: x\n---\n")), 400, bundleType, "name"},
		{"bad name too long", both(md("---\nname: " + strings.Repeat("a", 65) + "\ndescription: x\n---\n")), 400, bundleType, "name"},
		{"name differs from folder", []body{zipOf(entry{Name: "other/SKILL.md", Data: skillMD("demo", "x")})}, 400, bundleType, "other"},
		{"traversal", both(skill, entry{Name: "../x", Data: []byte("x")}), 400, bundleType, ".."},
		{"traversal inside", both(skill, entry{Name: "a/../../x", Data: []byte("x")}), 400, bundleType, ".."},
		{"absolute", both(skill, entry{Name: "/etc/passwd", Data: []byte("x")}), 400, bundleType, "absolute"},
		{"backslash", both(skill, entry{Name: `scripts\run.sh`, Data: []byte("x")}), 400, bundleType, "backslash"},
		{"symlink", []body{zipOf(skill, entry{Name: "passwd", Data: []byte("/etc/passwd"), Mode: fs.ModeSymlink}),
			tarOf(skill, entry{Name: "passwd", Data: []byte("/etc/passwd"), Mode: fs.ModeSymlink})}, 400, bundleType, "symbolic link"},
		{"oversize file", both(skill, entry{Name: "big.bin", Data: big}), 400, bundleType, "big.bin"},
		{"too many files", []body{zipOf(append([]entry{skill}, manyEntries(1001)...)...)}, 400, bundleType, "limit"},
		{"zip bomb", []body{{"application/zip", zipBomb(t)}}, 400, bundleType, "SKILL.md"},
		{"tar.gz bomb", []body{{"application/gzip", tarGzBomb(t)}}, 400, bundleType, "SKILL.md"},
		{"duplicate paths", both(skill, entry{Name: "a.md", Data: []byte("1")}, entry{Name: "a.md", Data: []byte("2")}), 400, bundleType, "more than once"},
		{"not an archive", []body{{"application/zip", []byte("this is not a zip")}, {"application/gzip", []byte("nor a gzip")}}, 400, bundleType, ""},
		{"empty body", []body{{"application/zip", nil}, {"application/gzip", nil}}, 400, bundleType, "the request body is empty"},
		{"wrong content type", []body{{"text/plain", zipBytes(t, ok)}, {"application/json", []byte(`{"name":"demo"}`)}, {"", zipBytes(t, ok)}},
			415, "/problems/unsupported-media-type", "multipart/form-data"},
		{"body over the upload limit", []body{{"application/zip", randomBytes(limit + 1)}, multi(bundle.File{Path: "SKILL.md", Data: randomBytes(limit/2 + 1)}, bundle.File{Path: "b", Data: randomBytes(limit/2 + 1)})},
			413, "/problems/too-large", "limit"},
	}
	t.Run("refused", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				for i, b := range tt.bodies {
					for _, path := range []string{"/api/v1/skills", "/api/v1/skills?publish=true", "/api/v1/skills/demo/versions"} {
						r := upload(s, tn.Admin.Key, path, b.ct, b.data)
						p := wantProblem(t, r, tt.status, tt.typ)
						text := p.Detail
						for _, pr := range p.Problems {
							text += "\n" + pr.String()
						}
						if !strings.Contains(text, tt.want) {
							t.Errorf("body %d to %s: problem %q does not mention %q", i, path, text, tt.want)
						}
						if tt.typ == bundleType && len(p.Problems) == 0 {
							t.Errorf("body %d to %s: no problems listed: %s", i, path, r.Body)
						}
					}
				}
			})
		}
	})
	if after := tenantCounts(t, s, tn.ID); after != before {
		t.Errorf("refused uploads stored rows: %+v -> %+v", before, after)
	}
}

func manyEntries(n int) []entry {
	es := make([]entry, n)
	for i := range es {
		es[i] = entry{Name: fmt.Sprintf("f/%04d.txt", i), Data: []byte("x")}
	}
	return es
}

// TestMultipartForms checks the multipart variants: form fields as
// options, a dragged-in folder, and a whole archive in a "bundle" part.
func TestMultipartForms(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	a := s.Tenant("acme")

	files := simpleBundle("formed")
	body, ct := multipartBody(t, files, map[string]string{"publish": "true", "category": "ops", "tags": "a,b", "visibility": "private", "changelog": "from a form"})
	r := upload(s, a.Member.Key, "/api/v1/skills", ct, body)
	wantStatus(t, r, 201)
	var p published
	r.JSON(t, &p)
	if p.Skill.Status != "published" || p.Skill.Category != "ops" || strings.Join(p.Skill.Tags, ",") != "a,b" || p.Skill.Visibility != "private" || p.Version.Changelog != "from a form" {
		t.Fatalf("form fields not applied: %+v %+v", p.Skill, p.Version)
	}

	// A folder dragged in whole: every path under "folded/".
	var prefixed []bundle.File
	for _, f := range simpleBundle("folded") {
		prefixed = append(prefixed, bundle.File{Path: "folded/" + f.Path, Data: f.Data})
	}
	body, ct = multipartBody(t, prefixed, nil)
	r = upload(s, a.Member.Key, "/api/v1/skills", ct, body)
	wantStatus(t, r, 201)
	r.JSON(t, &p)
	checkManifest(t, p.Files, simpleBundle("folded"))
	// ... whose name must be the skill's.
	for i := range prefixed {
		prefixed[i].Path = "wrong/" + strings.TrimPrefix(prefixed[i].Path, "folded/")
	}
	body, ct = multipartBody(t, prefixed, nil)
	wantProblem(t, upload(s, a.Member.Key, "/api/v1/skills", ct, body), 400, "/problems/invalid-bundle")

	// A whole archive in a part named "bundle".
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("publish", "true")
	w, _ := mw.CreateFormFile("bundle", "archived.tar.gz")
	w.Write(tarGzBytes(t, simpleBundle("archived")))
	mw.Close()
	r = upload(s, a.Member.Key, "/api/v1/skills", mw.FormDataContentType(), buf.Bytes())
	wantStatus(t, r, 201)
	r.JSON(t, &p)
	if p.Skill.Name != "archived" || p.Version.Digest != bundle.Digest(simpleBundle("archived")) || p.Skill.Status != "published" {
		t.Fatalf("archive part: %+v", p)
	}
	// An empty form is no bundle.
	body, ct = multipartBody(t, nil, map[string]string{"publish": "true"})
	wantProblem(t, upload(s, a.Member.Key, "/api/v1/skills", ct, body), 400, "/problems/invalid-bundle")
	wantProblem(t, upload(s, a.Member.Key, "/api/v1/skills", "multipart/form-data", []byte("--x\r\n")), 400, "/problems/invalid")
}

// TestConcurrentUploads creates one name many times at once (one wins, the
// others conflict) and adds versions at once (numbers without gaps).
func TestConcurrentUploads(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	a := s.Tenant("acme")
	statuses := make([]int, 6)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() {
			r := upload(s, a.Member.Key, "/api/v1/skills", "application/zip", zipBytes(t, simpleBundle("race", fmt.Sprint(i))))
			statuses[i] = r.Status
		})
	}
	wg.Wait()
	slices.Sort(statuses)
	if !slices.Equal(statuses, []int{201, 409, 409, 409, 409, 409}) {
		t.Fatalf("concurrent creates: %v", statuses)
	}
	for i := range 6 {
		wg.Go(func() {
			r := upload(s, a.Member.Key, "/api/v1/skills/race/versions", "application/zip", zipBytes(t, simpleBundle("race", "v", fmt.Sprint(i))))
			statuses[i] = r.Status
		})
	}
	wg.Wait()
	for _, st := range statuses {
		if st != 201 {
			t.Fatalf("concurrent versions: %v", statuses)
		}
	}
	vs := walk(t, s, a.Member.Key, "/api/v1/skills/race/versions", 3, func(v version) string { return v.Digest })
	if len(vs) != 7 {
		t.Fatalf("%d versions, want 7", len(vs))
	}
	for i, v := range vs {
		if v.Number != 7-i {
			t.Errorf("version %d at position %d", v.Number, i)
		}
	}
}
