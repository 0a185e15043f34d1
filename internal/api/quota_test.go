package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/dbtest"
	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/testserver"
)

// quotaProblem is a quota refusal: the problem with its quota member.
type quotaProblem struct {
	problem
	Quota *struct {
		Name  string `json:"name"`
		Limit int64  `json:"limit"`
		Usage int64  `json:"usage"`
	} `json:"quota"`
}

// wantQuota checks that r is a quota refusal naming quota, limit and usage.
func wantQuota(t *testing.T, r *testserver.Response, status int, quota string, limit, usage int64) quotaProblem {
	t.Helper()
	wantProblem(t, r, status, "/problems/quota-exceeded")
	var p quotaProblem
	r.JSON(t, &p)
	if p.Quota == nil || p.Quota.Name != quota || p.Quota.Limit != limit || p.Quota.Usage != usage {
		t.Fatalf("quota problem %s, want quota %s, limit %d, usage %d", r.Body, quota, limit, usage)
	}
	if !bytes.Contains([]byte(p.Detail), []byte(quota)) {
		t.Errorf("detail %q does not name the %s quota", p.Detail, quota)
	}
	return p
}

// setQuotas sets a tenant's overrides as the operator does.
func setQuotas(t *testing.T, s *testserver.Server, slug string, set map[string]int64) {
	t.Helper()
	ctx := context.Background()
	o, err := database.OpenOwner(ctx, s.Env.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	vals := map[string]*int64{}
	for k, v := range set {
		vals[k] = &v
	}
	if _, err := o.SetQuotas(ctx, slug, vals); err != nil {
		t.Fatal(err)
	}
}

// sized is a bundle whose one extra file holds n incompressible bytes
// that depend only on seed.
func sized(name, seed string, n int) []bundle.File {
	var data []byte
	for i := 0; len(data) < n; i++ {
		h := sha256.Sum256([]byte(fmt.Sprintf("%s/%d", seed, i)))
		data = append(data, h[:]...)
	}
	data = data[:n]
	return []bundle.File{{Path: "SKILL.md", Data: skillMD(name, "A skill called "+name+".")},
		{Path: "references/data.txt", Data: data}}
}

func bundleBytes(files []bundle.File) int64 {
	var n int64
	for _, f := range files {
		n += int64(len(f.Data))
	}
	return n
}

// superCount counts a table's rows of one tenant as the superuser.
func superCount(t *testing.T, s *testserver.Server, table string, tenant uuid.UUID) int64 {
	t.Helper()
	var n int64
	conn := dbtest.Connect(t, s.Env.AdminURL)
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM "+table+" WHERE tenant_id = $1", tenant).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// storedBytes is the sum of a tenant's blob sizes, as the superuser.
func storedBytes(t *testing.T, s *testserver.Server, tenant uuid.UUID) int64 {
	t.Helper()
	var n int64
	conn := dbtest.Connect(t, s.Env.AdminURL)
	if err := conn.QueryRow(context.Background(), "SELECT coalesce(sum(size), 0) FROM blobs WHERE tenant_id = $1", tenant).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestQuotasRefuseWithNothingStored: each quota, reached through the REST
// API, refuses the next upload or key with a problem naming the quota, its
// limit and the usage, and stores nothing (superuser row counts).
func TestQuotasRefuseWithNothingStored(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{Service: service.Options{Quotas: service.Quotas{Bytes: 1 << 20, Skills: 2, Versions: 2, KeysPerUser: 3}}})
	unchanged := func(t *testing.T, tn *testserver.Tenant, try func()) {
		t.Helper()
		before, keys := tenantCounts(t, s, tn.ID), superCount(t, s, "api_keys", tn.ID)
		try()
		if after := tenantCounts(t, s, tn.ID); after != before {
			t.Errorf("a refused request stored something: %+v, before %+v", after, before)
		}
		if n := superCount(t, s, "api_keys", tn.ID); n != keys {
			t.Errorf("a refused request stored a key: %d keys, before %d", n, keys)
		}
	}

	t.Run("skills", func(t *testing.T) {
		tn := s.Tenant("q-skills")
		create(t, s, tn.Member.Key, simpleBundle("one"), "")
		create(t, s, tn.Admin.Key, simpleBundle("two"), "")
		unchanged(t, tn, func() {
			r := upload(s, tn.Member.Key, "/api/v1/skills", "application/zip", zipBytes(t, simpleBundle("three")))
			wantQuota(t, r, http.StatusConflict, service.QuotaSkills, 2, 2)
		})
		// A fork is a new skill too.
		unchanged(t, tn, func() {
			r := s.Do("POST", "/api/v1/skills/one/fork", tn.Member.Key, map[string]any{"name": "one-copy"})
			wantQuota(t, r, http.StatusConflict, service.QuotaSkills, 2, 2)
		})
		// A name that exists is still a name conflict, not a quota refusal.
		r := upload(s, tn.Member.Key, "/api/v1/skills", "application/zip", zipBytes(t, simpleBundle("one")))
		if p := wantProblem(t, r, http.StatusConflict, "/problems/conflict"); p.Type == "/problems/quota-exceeded" {
			t.Fatal("an existing name was refused by the quota")
		}
		// Deleting a skill makes room.
		wantStatus(t, s.Do("DELETE", "/api/v1/skills/two", tn.Admin.Key, nil), http.StatusNoContent)
		create(t, s, tn.Member.Key, simpleBundle("three"), "")
	})

	t.Run("versions", func(t *testing.T) {
		tn := s.Tenant("q-versions")
		create(t, s, tn.Member.Key, simpleBundle("many"), "")
		wantStatus(t, upload(s, tn.Member.Key, "/api/v1/skills/many/versions", "application/zip", zipBytes(t, simpleBundle("many", "v2"))), http.StatusCreated)
		unchanged(t, tn, func() {
			r := upload(s, tn.Member.Key, "/api/v1/skills/many/versions", "application/zip", zipBytes(t, simpleBundle("many", "v3")))
			wantQuota(t, r, http.StatusConflict, service.QuotaVersions, 2, 2)
		})
		// The quota is per skill: another skill has its own.
		create(t, s, tn.Member.Key, simpleBundle("other"), "")
		wantStatus(t, upload(s, tn.Member.Key, "/api/v1/skills/other/versions", "application/zip", zipBytes(t, simpleBundle("other", "v2"))), http.StatusCreated)
	})

	t.Run("bytes", func(t *testing.T) {
		tn := s.Tenant("q-bytes")
		first := sized("big", "a", 700<<10)
		create(t, s, tn.Member.Key, first, "")
		used := storedBytes(t, s, tn.ID)
		if used != bundleBytes(first) {
			t.Fatalf("stored %d bytes, want %d", used, bundleBytes(first))
		}
		unchanged(t, tn, func() {
			r := upload(s, tn.Member.Key, "/api/v1/skills", "application/zip", zipBytes(t, sized("bigger", "b", 400<<10)))
			wantQuota(t, r, http.StatusRequestEntityTooLarge, service.QuotaBytes, 1<<20, used)
		})
		unchanged(t, tn, func() {
			r := upload(s, tn.Member.Key, "/api/v1/skills/big/versions", "application/zip", zipBytes(t, sized("big", "c", 400<<10)))
			wantQuota(t, r, http.StatusRequestEntityTooLarge, service.QuotaBytes, 1<<20, used)
		})
		// Files the tenant stores already cost nothing again: a version
		// that only changes the changelog's neighbour file fits.
		same := sized("big", "a", 700<<10)
		same = append(same, bundle.File{Path: "references/note.md", Data: []byte("# note\n")})
		wantStatus(t, upload(s, tn.Member.Key, "/api/v1/skills/big/versions", "application/zip", zipBytes(t, same)), http.StatusCreated)
	})

	t.Run("keys_per_user", func(t *testing.T) {
		tn := s.Tenant("q-keys")
		// The member has its read/write and its read-only key.
		k := newKey(t, s, tn.Member.Key, map[string]any{"name": "third"})
		unchanged(t, tn, func() {
			r := s.Do("POST", "/api/v1/keys", tn.Member.Key, map[string]any{"name": "fourth"})
			wantQuota(t, r, http.StatusConflict, service.QuotaKeysPerUser, 3, 3)
		})
		// The quota is per user: the admin has one key.
		newKey(t, s, tn.Admin.Key, map[string]any{"name": "admin's second"})
		// A revoked key no longer counts.
		wantStatus(t, s.Do("DELETE", "/api/v1/keys/"+k.ID, tn.Member.Key, nil), http.StatusOK)
		newKey(t, s, tn.Member.Key, map[string]any{"name": "fourth"})
	})
}

// TestQuotaOverridePerTenant: the operator's override applies to its tenant
// only, and a refusal tells a tenant its own limit and usage, never
// another's.
func TestQuotaOverridePerTenant(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{Service: service.Options{Quotas: service.Quotas{Skills: 1}}})
	a, b := s.Tenant("big-co"), s.Tenant("small-co")
	setQuotas(t, s, a.Slug, map[string]int64{service.QuotaSkills: 3, service.QuotaBytes: 3 << 20})
	for i := range 3 {
		create(t, s, a.Member.Key, simpleBundle(fmt.Sprintf("a-skill-%d", i)), "")
	}
	r := upload(s, a.Member.Key, "/api/v1/skills", "application/zip", zipBytes(t, simpleBundle("a-skill-3")))
	wantQuota(t, r, http.StatusConflict, service.QuotaSkills, 3, 3)

	create(t, s, b.Member.Key, simpleBundle("b-skill-0"), "")
	r = upload(s, b.Member.Key, "/api/v1/skills", "application/zip", zipBytes(t, simpleBundle("b-skill-1")))
	p := wantQuota(t, r, http.StatusConflict, service.QuotaSkills, 1, 1)
	// Nothing of A's quota (3 skills, 3 MiB) or usage reaches B.
	for _, leak := range []string{"3", "MiB", a.Slug} {
		if bytes.Contains([]byte(p.Detail), []byte(leak)) {
			t.Errorf("tenant B's refusal %q mentions %q of tenant A", p.Detail, leak)
		}
	}
	if superCount(t, s, "skills", b.ID) != 1 {
		t.Error("tenant B stored a second skill")
	}
	// A's bytes override does not apply to B (whose default is unlimited).
	r = upload(s, b.Member.Key, "/api/v1/skills/b-skill-0/versions", "application/zip", zipBytes(t, sized("b-skill-0", "z", 4<<20)))
	wantStatus(t, r, http.StatusCreated)
}

// TestConcurrentUploadsStayInQuota: uploads racing for the last bytes of
// the quota cannot together exceed it; the refused ones store nothing.
func TestConcurrentUploadsStayInQuota(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	tn := s.Tenant("racers")
	const each, n = 100 << 10, 12
	sample := sized("race-00", "r00", each)
	limit := 4*bundleBytes(sample) + 1000 // room for four uploads, not five
	setQuotas(t, s, tn.Slug, map[string]int64{service.QuotaBytes: limit})

	var wg sync.WaitGroup
	statuses := make([]int, n)
	bodies := make([][]byte, n)
	for i := range n {
		body := zipBytes(t, sized(fmt.Sprintf("race-%02d", i), fmt.Sprintf("r%02d", i), each))
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := upload(s, tn.Member.Key, "/api/v1/skills", "application/zip", body)
			statuses[i], bodies[i] = r.Status, r.Body
		}()
	}
	wg.Wait()
	created := 0
	for i, st := range statuses {
		switch st {
		case http.StatusCreated:
			created++
		case http.StatusRequestEntityTooLarge:
		default:
			t.Errorf("upload %d: status %d: %s", i, st, bodies[i])
		}
	}
	if created != 4 {
		t.Errorf("%d uploads were accepted, want exactly 4", created)
	}
	if used := storedBytes(t, s, tn.ID); used > limit {
		t.Errorf("the tenant stores %d bytes, over its quota of %d", used, limit)
	}
	if c := tenantCounts(t, s, tn.ID); c.Skills != created || c.Versions != created {
		t.Errorf("stored %+v for %d accepted uploads", c, created)
	}
}

// blobSet is a tenant's blob digests, read as the superuser.
func blobSet(t *testing.T, s *testserver.Server, tenant uuid.UUID) map[string]bool {
	t.Helper()
	conn := dbtest.Connect(t, s.Env.AdminURL)
	rows, err := conn.Query(context.Background(), "SELECT sha256 FROM blobs WHERE tenant_id = $1", tenant)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var sha string
		if err := rows.Scan(&sha); err != nil {
			t.Fatal(err)
		}
		out[sha] = true
	}
	return out
}

func sha(data []byte) string {
	h := sha256.Sum256(data)
	return fmt.Sprintf("%x", h)
}

// collections are a tenant's blob.collect audit rows (blobs, bytes,
// reason), read as the superuser.
func collections(t *testing.T, s *testserver.Server, tenant uuid.UUID) [][3]string {
	t.Helper()
	conn := dbtest.Connect(t, s.Env.AdminURL)
	rows, err := conn.Query(context.Background(), `SELECT details->>'blobs', details->>'bytes', details->>'reason'
		FROM audit_logs WHERE tenant_id = $1 AND action = 'blob.collect' ORDER BY id`, tenant)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][3]string
	for rows.Next() {
		var r [3]string
		if err := rows.Scan(&r[0], &r[1], &r[2]); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// TestDeleteFreesBlobs: deleting a skill removes the file bytes no other
// version of its tenant references, in the same transaction, audited; a
// blob another skill of the tenant shares stays, and so does another
// tenant's identical blob.
func TestDeleteFreesBlobs(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	a, b := s.Tenant("deleter"), s.Tenant("bystander")
	shared := bundle.File{Path: "scripts/common.sh", Data: []byte("#!/bin/sh\necho shared by two skills\n")}
	gone := append(sized("gone", "only-in-gone", 10<<10), shared)
	keep := append(sized("keep", "only-in-keep", 10<<10), shared)
	create(t, s, a.Member.Key, gone, "")
	wantStatus(t, upload(s, a.Member.Key, "/api/v1/skills/gone/versions", "application/zip",
		zipBytes(t, append(sized("gone", "gone-v2", 5<<10), shared))), http.StatusCreated)
	create(t, s, a.Member.Key, keep, "")
	// Tenant B stores the very same files as A's doomed skill.
	create(t, s, b.Member.Key, gone, "")
	bBefore := blobSet(t, s, b.ID)

	wantStatus(t, s.Do("DELETE", "/api/v1/skills/gone", a.Member.Key, nil), http.StatusNoContent)

	after := blobSet(t, s, a.ID)
	for _, f := range keep {
		if !after[sha(f.Data)] {
			t.Errorf("%s of a skill still stored was deleted", f.Path)
		}
	}
	// gone's SKILL.md is shared by both of its versions; its data files
	// were its own.
	for _, data := range [][]byte{gone[0].Data, gone[1].Data, sized("gone", "gone-v2", 5<<10)[1].Data} {
		if after[sha(data)] {
			t.Errorf("a blob only the deleted skill referenced is still stored")
		}
	}
	if len(after) != len(keep) {
		t.Errorf("tenant A stores %d blobs, want the %d of the kept skill", len(after), len(keep))
	}
	if got := blobSet(t, s, b.ID); len(got) != len(bBefore) {
		t.Errorf("tenant B's identical blobs changed: %d, before %d", len(got), len(bBefore))
	}
	r := s.Do("GET", "/api/v1/skills/gone/versions/1/files/scripts/common.sh", b.Member.Key, nil)
	if wantStatus(t, r, http.StatusOK); !bytes.Equal(r.Body, shared.Data) {
		t.Error("tenant B's copy of the shared file is damaged")
	}
	r = s.Do("GET", "/api/v1/skills/keep/versions/1/files/scripts/common.sh", a.Member.Key, nil)
	if wantStatus(t, r, http.StatusOK); !bytes.Equal(r.Body, shared.Data) {
		t.Error("the kept skill's shared file is damaged")
	}
	// One audit row says what the collection freed.
	freed := bundleBytes(gone[:2]) + 5<<10
	if got := collections(t, s, a.ID); len(got) != 1 || got[0] != [3]string{"3", fmt.Sprint(freed), "skill.delete"} {
		t.Errorf("audit of the collection: %v, want 3 blobs, %d bytes, reason skill.delete", got, freed)
	}
	if got := collections(t, s, b.ID); len(got) != 0 {
		t.Errorf("tenant B has collection audit rows: %v", got)
	}
}

// TestSweepCollectsLeftovers: the sweep (skillvault gc, and serve's
// periodic run) frees a tenant's unreferenced blobs only, audited in that
// tenant; another tenant's identical leftover stays until its own sweep.
func TestSweepCollectsLeftovers(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	a, b := s.Tenant("sweep-a"), s.Tenant("sweep-b")
	create(t, s, a.Member.Key, simpleBundle("stays"), "")
	conn := dbtest.Connect(t, s.Env.AdminURL)
	orphan := []byte("left behind before collection existed\n")
	for _, tn := range []uuid.UUID{a.ID, b.ID} {
		if _, err := conn.Exec(context.Background(), "INSERT INTO blobs (tenant_id, sha256, size, data) VALUES ($1, $2, $3, $4)",
			tn, sha(orphan), len(orphan), orphan); err != nil {
			t.Fatal(err)
		}
	}
	before := blobSet(t, s, a.ID)
	c, err := s.Svc.CollectGarbage(context.Background(), service.System(a.ID))
	if err != nil {
		t.Fatal(err)
	}
	if c != (service.Collected{Blobs: 1, Bytes: int64(len(orphan))}) {
		t.Errorf("collected %+v, want the one orphan", c)
	}
	after := blobSet(t, s, a.ID)
	if after[sha(orphan)] || len(after) != len(before)-1 {
		t.Errorf("after the sweep tenant A stores %d blobs (orphan: %t), before %d", len(after), after[sha(orphan)], len(before))
	}
	if !blobSet(t, s, b.ID)[sha(orphan)] {
		t.Error("tenant A's sweep deleted tenant B's identical blob")
	}
	if got := collections(t, s, a.ID); len(got) != 1 || got[0] != [3]string{"1", fmt.Sprint(len(orphan)), "sweep"} {
		t.Errorf("audit of the sweep: %v", got)
	}
	// A second sweep finds nothing and writes no audit row.
	if c, err := s.Svc.CollectGarbage(context.Background(), service.System(a.ID)); err != nil || c.Blobs != 0 {
		t.Errorf("second sweep: %+v %v", c, err)
	}
	if got := collections(t, s, a.ID); len(got) != 1 {
		t.Errorf("an empty sweep was audited: %v", got)
	}
	// Tenant admins may not sweep through the service without the admin scope.
	if _, err := s.Svc.CollectGarbage(context.Background(), service.Actor{TenantID: a.ID, Role: "member", Scopes: []string{"read", "write"}}); service.KindOf(err) != service.Forbidden {
		t.Errorf("a member's sweep: %v, want forbidden", err)
	}
}
