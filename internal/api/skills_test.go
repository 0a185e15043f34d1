package api_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/testserver"
)

func getSkill(t *testing.T, s *testserver.Server, key, name string) skillJSON {
	t.Helper()
	var sk skillJSON
	getJSON(t, s, key, "/api/v1/skills/"+name, &sk)
	return sk
}

func patchSkill(t *testing.T, s *testserver.Server, key, name string, change map[string]any) *testserver.Response {
	t.Helper()
	return s.Do("PATCH", "/api/v1/skills/"+name, key, change)
}

// TestStatusFlow walks a skill through draft, published, archived and
// back, then review and visibility rules.
func TestStatusFlow(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	a := s.Tenant("acme")
	peer := s.User(a.ID, "peer@acme.example", "member", "read", "write")

	p := create(t, s, a.Member.Key, simpleBundle("flow"), "")
	if p.Skill.Status != "draft" || p.Skill.PublishedVersion != nil || p.Skill.Visibility != "tenant" || p.Skill.Author != a.Member.Email {
		t.Fatalf("new skill %+v", p.Skill)
	}
	wantProblem(t, s.Do("GET", "/api/v1/skills/flow", peer.Key, nil), 404, "/problems/not-found")

	r := s.Do("POST", "/api/v1/skills/flow/publish", a.Member.Key, nil)
	wantStatus(t, r, 200)
	var pub struct {
		Skill   skillJSON `json:"skill"`
		Message string    `json:"message"`
	}
	r.JSON(t, &pub)
	if pub.Skill.Status != "published" || pub.Skill.PublishedVersion == nil || *pub.Skill.PublishedVersion != 1 || pub.Message == "" {
		t.Fatalf("published %s", r.Body)
	}
	if sk := getSkill(t, s, peer.Key, "flow"); sk.Status != "published" {
		t.Fatalf("peer sees %+v", sk)
	}

	// A new version does not change what is published until it is.
	r = upload(s, a.Member.Key, "/api/v1/skills/flow/versions?changelog=second", "application/zip", zipBytes(t, simpleBundle("flow", "v2")))
	wantStatus(t, r, 201)
	if sk := getSkill(t, s, a.Member.Key, "flow"); sk.LatestVersion != 2 || *sk.PublishedVersion != 1 || sk.Status != "published" {
		t.Fatalf("after version 2: %+v", sk)
	}
	// Until then, others read version 1 as the latest, and version 2 does
	// not exist for them; the author and admins read it.
	v1, v2 := bundle.Digest(simpleBundle("flow")), bundle.Digest(simpleBundle("flow", "v2"))
	latest := func(key string) string {
		var v version
		getJSON(t, s, key, "/api/v1/skills/flow/versions/latest", &v)
		if r := s.Do("GET", "/api/v1/skills/flow/versions/latest/bundle.zip", key, nil); r.Header.Get("ETag") != `"`+v.Digest+`"` {
			t.Errorf("latest bundle.zip ETag %s, version %s", r.Header.Get("ETag"), v.Digest)
		}
		return v.Digest
	}
	if latest(peer.Key) != v1 || latest(a.Member.Key) != v2 || latest(a.Admin.Key) != v2 {
		t.Fatal("latest differs from what each may read")
	}
	for _, p := range []string{"/versions/2", "/versions/2/bundle.zip", "/versions/2/files/SKILL.md"} {
		wantProblem(t, s.Do("GET", "/api/v1/skills/flow"+p, peer.Key, nil), 404, "/problems/not-found")
	}
	if vs := walk(t, s, peer.Key, "/api/v1/skills/flow/versions", 1, func(v version) string { return v.Digest }); len(vs) != 1 || vs[0].Number != 1 {
		t.Fatalf("peer lists versions %+v", vs)
	}
	r = s.Do("POST", "/api/v1/skills/flow/fork", peer.Key, map[string]any{"name": "flow-peer"})
	wantStatus(t, r, 201)
	var fork published
	r.JSON(t, &fork)
	if *fork.Skill.ForkOfDigest != v1 {
		t.Errorf("a fork by another member copies %s, not the published %s", *fork.Skill.ForkOfDigest, v1)
	}
	wantStatus(t, s.Do("POST", "/api/v1/skills/flow/publish", a.Member.Key, nil), 200)
	if sk := getSkill(t, s, a.Member.Key, "flow"); *sk.PublishedVersion != 2 {
		t.Fatalf("after publishing version 2: %+v", sk)
	}
	if latest(peer.Key) != v2 {
		t.Fatal("the published version 2 is not the peer's latest")
	}

	// Archive and unarchive with PATCH; other status changes are refused.
	r = patchSkill(t, s, a.Member.Key, "flow", map[string]any{"status": "archived"})
	wantStatus(t, r, 200)
	if sk := getSkill(t, s, peer.Key, "flow"); sk.Status != "archived" {
		t.Fatalf("archived: %+v", sk)
	}
	for _, st := range []string{"draft", "in_review", "deleted"} {
		wantProblem(t, patchSkill(t, s, a.Member.Key, "flow", map[string]any{"status": st}), 400, "/problems/invalid")
	}
	wantStatus(t, patchSkill(t, s, a.Member.Key, "flow", map[string]any{"status": "published"}), 200)
	wantProblem(t, patchSkill(t, s, peer.Key, "flow", map[string]any{"status": "archived"}), 403, "/problems/forbidden")
	// A draft that was never published can be neither archived (which
	// would show it to the tenant) nor "unarchived" into print.
	create(t, s, a.Member.Key, simpleBundle("never"), "")
	wantProblem(t, patchSkill(t, s, a.Member.Key, "never", map[string]any{"status": "archived"}), 400, "/problems/invalid")
	wantProblem(t, patchSkill(t, s, a.Member.Key, "never", map[string]any{"status": "published"}), 400, "/problems/invalid")
	wantProblem(t, s.Do("GET", "/api/v1/skills/never", peer.Key, nil), 404, "/problems/not-found")

	// Metadata edits.
	r = patchSkill(t, s, a.Member.Key, "flow", map[string]any{"title": " Flow ", "category": "ops", "tags": []string{"B", "a", "a"}})
	wantStatus(t, r, 200)
	if sk := getSkill(t, s, a.Member.Key, "flow"); sk.Title != "Flow" || sk.Category != "ops" || strings.Join(sk.Tags, ",") != "a,b" {
		t.Fatalf("edited %+v", sk)
	}
	wantProblem(t, patchSkill(t, s, a.Member.Key, "flow", map[string]any{"tags": []string{"no spaces"}}), 400, "/problems/invalid")
	wantProblem(t, patchSkill(t, s, a.Member.Key, "flow", map[string]any{"visibility": "everyone"}), 400, "/problems/invalid")
	wantProblem(t, patchSkill(t, s, a.Member.Key, "flow", map[string]any{"name": "renamed"}), 400, "/problems/invalid")

	t.Run("review", func(t *testing.T) {
		wantStatus(t, s.Do("PATCH", "/api/v1/settings", a.Admin.Key, map[string]any{"require_review": true}), 200)
		defer s.Do("PATCH", "/api/v1/settings", a.Admin.Key, map[string]any{"require_review": false})
		p := create(t, s, a.Member.Key, simpleBundle("reviewed"), "?publish=true")
		if p.Skill.Status != "in_review" || p.Skill.PublishedVersion != nil {
			t.Fatalf("created with review: %+v", p.Skill)
		}
		wantProblem(t, s.Do("GET", "/api/v1/skills/reviewed", peer.Key, nil), 404, "/problems/not-found")
		r := s.Do("POST", "/api/v1/skills/never/publish", a.Member.Key, nil)
		wantStatus(t, r, 200)
		if sk := getSkill(t, s, a.Member.Key, "never"); sk.Status != "in_review" {
			t.Fatalf("publish with review: %+v", sk)
		}
	})

	t.Run("public visibility", func(t *testing.T) {
		create(t, s, a.Admin.Key, simpleBundle("adminskill"), "?publish=true")
		// Off by default: nobody may make a skill public.
		wantProblem(t, patchSkill(t, s, a.Admin.Key, "adminskill", map[string]any{"visibility": "public"}), 403, "/problems/forbidden")
		wantProblem(t, patchSkill(t, s, a.Member.Key, "flow", map[string]any{"visibility": "public"}), 403, "/problems/forbidden")
		wantProblem(t, upload(s, a.Admin.Key, "/api/v1/skills?visibility=public", "application/zip", zipBytes(t, simpleBundle("pub1"))), 403, "/problems/forbidden")
		wantStatus(t, s.Do("PATCH", "/api/v1/settings", a.Admin.Key, map[string]any{"public_discovery": true}), 200)
		// On: admins only.
		wantProblem(t, patchSkill(t, s, a.Member.Key, "flow", map[string]any{"visibility": "public"}), 403, "/problems/forbidden")
		wantProblem(t, upload(s, a.Member.Key, "/api/v1/skills?visibility=public", "application/zip", zipBytes(t, simpleBundle("pub2"))), 403, "/problems/forbidden")
		wantStatus(t, patchSkill(t, s, a.Admin.Key, "adminskill", map[string]any{"visibility": "public"}), 200)
		wantStatus(t, patchSkill(t, s, a.Admin.Key, "flow", map[string]any{"visibility": "public"}), 200)
		p := create(t, s, a.Admin.Key, simpleBundle("pub3"), "?visibility=public&publish=true")
		if p.Skill.Visibility != "public" {
			t.Fatalf("created %+v", p.Skill)
		}
		// The author may make it less visible again.
		wantStatus(t, patchSkill(t, s, a.Member.Key, "flow", map[string]any{"visibility": "private"}), 200)
		wantProblem(t, s.Do("GET", "/api/v1/skills/flow", peer.Key, nil), 404, "/problems/not-found")
		for _, n := range []string{"pub1", "pub2"} {
			wantProblem(t, s.Do("GET", "/api/v1/skills/"+n, a.Admin.Key, nil), 404, "/problems/not-found")
		}
	})

	t.Run("delete", func(t *testing.T) {
		create(t, s, a.Member.Key, simpleBundle("doomed"), "?publish=true")
		wantStatus(t, s.Do("PUT", "/api/v1/skills/doomed/rating", peer.Key, map[string]any{"stars": 3}), 200)
		wantProblem(t, s.Do("DELETE", "/api/v1/skills/doomed", peer.Key, nil), 403, "/problems/forbidden")
		r := s.Do("DELETE", "/api/v1/skills/doomed", a.Member.Key, nil)
		wantStatus(t, r, 204)
		for _, p := range []string{"", "/versions", "/versions/1/bundle.zip", "/ratings", "/stats"} {
			wantProblem(t, s.Do("GET", "/api/v1/skills/doomed"+p, a.Admin.Key, nil), 404, "/problems/not-found")
		}
		wantProblem(t, s.Do("DELETE", "/api/v1/skills/doomed", a.Member.Key, nil), 404, "/problems/not-found")
		// The name is free again.
		create(t, s, a.Member.Key, simpleBundle("doomed"), "")
	})

	t.Run("names", func(t *testing.T) {
		wantProblem(t, upload(s, a.Member.Key, "/api/v1/skills", "application/zip", zipBytes(t, simpleBundle("flow"))), 409, "/problems/conflict")
		// A version must carry the skill's name.
		p := wantProblem(t, upload(s, a.Member.Key, "/api/v1/skills/flow/versions", "application/zip", zipBytes(t, simpleBundle("other"))), 400, "/problems/invalid-bundle")
		if !strings.Contains(p.Detail, "flow") {
			t.Errorf("detail %q", p.Detail)
		}
		wantProblem(t, upload(s, a.Member.Key, "/api/v1/skills?publish=maybe", "application/zip", zipBytes(t, simpleBundle("maybe"))), 400, "/problems/invalid")
	})

	t.Run("versions", func(t *testing.T) {
		for _, ref := range []string{"0", "-1", "abc", "1.5"} {
			wantProblem(t, s.Do("GET", "/api/v1/skills/flow/versions/"+ref, a.Member.Key, nil), 400, "/problems/invalid")
		}
		wantProblem(t, s.Do("GET", "/api/v1/skills/flow/versions/99", a.Member.Key, nil), 404, "/problems/not-found")
		wantProblem(t, s.Do("GET", "/api/v1/skills/flow/versions/99/bundle.zip", a.Member.Key, nil), 404, "/problems/not-found")
		var v version
		getJSON(t, s, a.Member.Key, "/api/v1/skills/flow/versions/2", &v)
		if v.Number != 2 || v.Changelog != "second" || !strings.Contains(string(v.Frontmatter), `"name":"flow"`) {
			t.Fatalf("version 2: %+v %s", v, v.Frontmatter)
		}
		// Versions are immutable: version 1 still holds its own files.
		var v1 version
		getJSON(t, s, a.Member.Key, "/api/v1/skills/flow/versions/1", &v1)
		if v1.Digest != bundle.Digest(simpleBundle("flow")) || v.Digest != bundle.Digest(simpleBundle("flow", "v2")) {
			t.Errorf("digests %s %s", v1.Digest, v.Digest)
		}
		wantProblem(t, s.Do("GET", "/api/v1/skills/flow/versions/1/files/references/v2.md", a.Member.Key, nil), 404, "/problems/not-found")
		wantStatus(t, s.Do("GET", "/api/v1/skills/flow/versions/2/files/references/v2.md", a.Member.Key, nil), 200)
		all := walk(t, s, a.Member.Key, "/api/v1/skills/flow/versions", 1, func(v version) string { return v.Digest })
		if len(all) != 2 || all[0].Number != 2 || all[1].Number != 1 {
			t.Fatalf("versions %+v", all)
		}
	})
}

// TestUnknownFrontmatterKept checks that frontmatter keys the spec does
// not name survive the round trip, and optional keys are returned.
func TestUnknownFrontmatterKept(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	a := s.Tenant("acme")
	md := "---\nname: extra\ndescription: Has extras.\nlicense: MIT\nmetadata:\n  owner: team-a\nallowed-tools: Bash Read\nx-custom: kept\n---\n# Extra\n"
	files := []bundle.File{{Path: "SKILL.md", Data: []byte(md)}}
	create(t, s, a.Member.Key, files, "")
	var v version
	getJSON(t, s, a.Member.Key, "/api/v1/skills/extra/versions/latest", &v)
	for _, want := range []string{`"x-custom":"kept"`, `"license":"MIT"`, `"owner":"team-a"`} {
		if !strings.Contains(string(v.Frontmatter), want) {
			t.Errorf("frontmatter %s lacks %s", v.Frontmatter, want)
		}
	}
	r := s.Do("GET", "/api/v1/skills/extra/versions/1/files/SKILL.md", a.Member.Key, nil)
	if !bytes.Equal(r.Body, []byte(md)) {
		t.Errorf("SKILL.md changed: %q", r.Body)
	}
}

func TestDownloadsSetting(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	a := s.Tenant("acme")
	create(t, s, a.Admin.Key, simpleBundle("dl"), "?publish=true")
	wantStatus(t, s.Do("PATCH", "/api/v1/settings", a.Admin.Key, map[string]any{"allow_skill_download": false}), 200)
	for _, p := range []string{"/versions/1/bundle.zip", "/versions/latest/files/SKILL.md"} {
		wantProblem(t, s.Do("GET", "/api/v1/skills/dl"+p, a.Member.Key, nil), 403, "/problems/forbidden")
		wantStatus(t, s.Do("GET", "/api/v1/skills/dl"+p, a.Admin.Key, nil), 200)
	}
	// Metadata stays readable.
	wantStatus(t, s.Do("GET", "/api/v1/skills/dl/versions/1", a.Member.Key, nil), 200)
	wantStatus(t, s.Do("PATCH", "/api/v1/settings", a.Admin.Key, map[string]any{"allow_skill_download": true}), 200)
	wantStatus(t, s.Do("GET", "/api/v1/skills/dl/versions/1/bundle.zip", a.Member.Key, nil), 200)
}

func TestFork(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	a := s.Tenant("acme")
	md := "---\nname: origin\ndescription: The original.\nmetadata:\n  note: \"name: in a value\"\n---\n# Origin\n\nA line in the body:\nname: keep-me\n"
	files := []bundle.File{{Path: "SKILL.md", Data: []byte(md)}, {Path: "scripts/a.sh", Data: []byte("echo a\n")}}
	src := create(t, s, a.Admin.Key, files, "?publish=true&category=ops&tags=x,y")
	r := s.Do("POST", "/api/v1/skills/origin/fork", a.Member.Key, nil)
	wantStatus(t, r, 201)
	var f published
	r.JSON(t, &f)
	sk := f.Skill
	if sk.Name != "origin-fork" || sk.Author != a.Member.Email || sk.Visibility != "private" || sk.Status != "draft" ||
		sk.ForkOf == nil || *sk.ForkOf != "origin" || sk.ForkOfDigest == nil || *sk.ForkOfDigest != src.Version.Digest ||
		sk.Category != "ops" || strings.Join(sk.Tags, ",") != "x,y" {
		t.Fatalf("fork %+v", sk)
	}
	if r.Header.Get("Location") != "/api/v1/skills/origin-fork" {
		t.Errorf("Location %q", r.Header.Get("Location"))
	}
	got := s.Do("GET", "/api/v1/skills/origin-fork/versions/1/files/SKILL.md", a.Member.Key, nil)
	want := strings.Replace(md, "name: origin\n", "name: origin-fork\n", 1)
	if string(got.Body) != want {
		t.Errorf("forked SKILL.md:\n%s\nwant:\n%s", got.Body, want)
	}
	got = s.Do("GET", "/api/v1/skills/origin-fork/versions/1/files/scripts/a.sh", a.Member.Key, nil)
	if string(got.Body) != "echo a\n" {
		t.Errorf("forked script %q", got.Body)
	}
	if f.Version.Digest != bundle.Digest([]bundle.File{{Path: "SKILL.md", Data: []byte(want)}, files[1]}) {
		t.Errorf("fork digest %s", f.Version.Digest)
	}
	// Named forks; taken and bad names.
	r = s.Do("POST", "/api/v1/skills/origin/fork", a.Member.Key, map[string]any{"name": "my-origin"})
	wantStatus(t, r, 201)
	wantProblem(t, s.Do("POST", "/api/v1/skills/origin/fork", a.Member.Key, map[string]any{"name": "my-origin"}), 409, "/problems/conflict")
	wantProblem(t, s.Do("POST", "/api/v1/skills/origin/fork", a.Member.Key, map[string]any{"name": "Bad Name"}), 400, "/problems/invalid")
	wantProblem(t, s.Do("POST", "/api/v1/skills/origin/fork", a.Member.Key, map[string]any{"nom": "x"}), 400, "/problems/invalid")
	// The source is unchanged, and the fork is the member's to edit.
	if sk := getSkill(t, s, a.Admin.Key, "origin"); sk.LatestVersion != 1 || sk.ForkOf != nil {
		t.Errorf("source %+v", sk)
	}
	wantStatus(t, patchSkill(t, s, a.Member.Key, "my-origin", map[string]any{"title": "Mine"}), 200)
	// A private fork is invisible to the source's author unless admin.
	peer := s.User(a.ID, "peer@acme.example", "member", "read", "write")
	wantProblem(t, s.Do("GET", "/api/v1/skills/my-origin", peer.Key, nil), 404, "/problems/not-found")
	// Deleting the source leaves the fork, without its link.
	wantStatus(t, s.Do("DELETE", "/api/v1/skills/origin", a.Admin.Key, nil), 204)
	if sk := getSkill(t, s, a.Member.Key, "my-origin"); sk.ForkOf != nil || sk.ForkOfDigest == nil {
		t.Errorf("fork after the source's deletion: %+v", sk)
	}
}

// TestListSkills checks the skills list's filters, sorts and cursor.
func TestListSkills(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	a := s.Tenant("acme")
	users := []testserver.User{a.Admin, a.Member}
	for i := range 4 {
		users = append(users, s.User(a.ID, "u"+string(rune('0'+i))+"@acme.example", "member", "read", "write"))
	}
	type spec struct {
		name, category, tags, query string
		author                      int
	}
	specs := []spec{
		{"kilo", "ops", "deploy,k8s", "?publish=true", 0},
		{"lima", "ops", "deploy", "?publish=true", 1},
		{"mike", "docs", "writing", "?publish=true", 1},
		{"november", "docs", "", "", 1}, // draft
		{"oscar", "", "k8s", "?publish=true&visibility=private", 1},
		{"papa", "data", "", "?publish=true", 0},
	}
	for _, sp := range specs {
		q := sp.query
		if q == "" {
			q = "?"
		} else {
			q += "&"
		}
		q += "category=" + sp.category + "&tags=" + sp.tags
		create(t, s, users[sp.author].Key, simpleBundle(sp.name), q)
	}
	// Ratings: papa 5, lima 4 (two raters: 5 and 3), kilo 2; mike none.
	rate := func(u testserver.User, name string, stars int) {
		wantStatus(t, s.Do("PUT", "/api/v1/skills/"+name+"/rating", u.Key, map[string]any{"stars": stars}), 200)
	}
	rate(users[2], "papa", 5)
	rate(users[2], "lima", 5)
	rate(users[3], "lima", 3)
	rate(users[2], "kilo", 2)
	// Uses: mike 5, kilo 3, lima 1; views are not uses, so papa's many
	// views leave it last.
	var events []map[string]any
	for name, n := range map[string]int{"mike": 5, "kilo": 3, "lima": 1} {
		for i := range n {
			events = append(events, map[string]any{"skill": name, "event": []string{"install", "download", "invoke"}[i%3], "source": "web"})
		}
	}
	for range 9 {
		events = append(events, map[string]any{"skill": "papa", "event": "view", "source": "web"})
	}
	wantStatus(t, s.Do("POST", "/api/v1/usage", a.Member.Key, map[string]any{"events": events}), 200)
	// The last update: touch mike so it sorts first by update.
	wantStatus(t, patchSkill(t, s, a.Member.Key, "mike", map[string]any{"title": "Mike"}), 200)

	names := func(key, query string) []string {
		t.Helper()
		all := walk(t, s, key, "/api/v1/skills"+query, 2, func(sk skillJSON) string { return sk.Name })
		var out []string
		for _, sk := range all {
			out = append(out, sk.Name)
		}
		return out
	}
	peer := users[2].Key
	tests := []struct {
		key, query string
		want       []string
		ordered    bool
	}{
		{peer, "?sort=name", []string{"kilo", "lima", "mike", "papa"}, true},
		{a.Member.Key, "?sort=name", []string{"kilo", "lima", "mike", "november", "oscar", "papa"}, true},
		{a.Admin.Key, "?sort=name", []string{"kilo", "lima", "mike", "november", "oscar", "papa"}, true},
		{peer, "?sort=rating", []string{"papa", "lima", "kilo", "mike"}, true},
		{peer, "?sort=uses", []string{"mike", "kilo", "lima", "papa"}, true},
		{peer, "?sort=updated", []string{"mike"}, false}, // first checked below
		{peer, "?category=ops&sort=name", []string{"kilo", "lima"}, true},
		{peer, "?tag=k8s", []string{"kilo"}, false},
		{a.Member.Key, "?tag=k8s&sort=name", []string{"kilo", "oscar"}, true},
		{a.Member.Key, "?status=draft", []string{"november"}, false},
		{a.Member.Key, "?visibility=private", []string{"oscar"}, false},
		{peer, "?visibility=private", nil, false},
		{peer, "?status=draft", nil, false},
		{peer, "?author=" + a.Admin.Email + "&sort=name", []string{"kilo", "papa"}, true},
		{a.Admin.Key, "?author=" + a.Member.Email + "&sort=name", []string{"lima", "mike", "november", "oscar"}, true},
		{peer, "?category=nothing", nil, false},
	}
	for _, tt := range tests {
		got := names(tt.key, tt.query)
		if tt.query == "?sort=updated" {
			if len(got) != 4 || got[0] != "mike" {
				t.Errorf("%s: %v", tt.query, got)
			}
			continue
		}
		if !tt.ordered {
			slices.Sort(got)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.query, got, tt.want)
		}
	}
	// The default order is by update, newest first.
	var def page[skillJSON]
	getJSON(t, s, peer, "/api/v1/skills", &def)
	if len(def.Items) != 4 || def.Items[0].Name != "mike" || def.NextCursor != "" {
		t.Errorf("default list %+v", def)
	}
	// Search results page the same way.
	hits := walk(t, s, peer, "/api/v1/search?q=skill&mode=keyword", 1, func(h struct {
		Name string `json:"name"`
	}) string {
		return h.Name
	})
	var found []string
	for _, h := range hits {
		found = append(found, h.Name)
	}
	slices.Sort(found)
	if !slices.Equal(found, []string{"kilo", "lima", "mike", "papa"}) {
		t.Errorf("search pages: %v", found)
	}
	for _, q := range []string{"?sort=stars", "?limit=0", "?limit=201", "?limit=x", "?cursor=garbage"} {
		wantProblem(t, s.Do("GET", "/api/v1/skills"+q, peer, nil), 400, "/problems/invalid")
	}
}
