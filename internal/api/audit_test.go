package api_test

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/skillvault/skillvault/internal/dbtest"
	"github.com/skillvault/skillvault/internal/testserver"
)

type auditJSON struct {
	ID           int64           `json:"id"`
	OccurredAt   time.Time       `json:"occurred_at"`
	ActorType    string          `json:"actor_type"`
	ActorUserID  *string         `json:"actor_user_id"`
	Actor        string          `json:"actor"`
	ActorKeyID   *string         `json:"actor_key_id"`
	Action       string          `json:"action"`
	Outcome      string          `json:"outcome"`
	ResourceType string          `json:"resource_type"`
	ResourceID   string          `json:"resource_id"`
	Details      json.RawMessage `json:"details"`
	RequestID    string          `json:"request_id"`
	RemoteAddr   string          `json:"remote_addr"`
	UserAgent    string          `json:"user_agent"`
}

// auditRow is an audit row as stored, read as the superuser.
type auditRow struct {
	auditJSON
	TenantID uuid.UUID
}

func auditRows(t *testing.T, conn *pgx.Conn, requestID string) []auditRow {
	t.Helper()
	rows, err := conn.Query(context.Background(), `SELECT tenant_id, id, occurred_at, actor_type, actor_user_id::text, actor_key_id::text,
		action, outcome, resource_type, resource_id, details, request_id, remote_addr, user_agent
		FROM audit_logs WHERE request_id = $1 ORDER BY id`, requestID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []auditRow
	for rows.Next() {
		var r auditRow
		if err := rows.Scan(&r.TenantID, &r.ID, &r.OccurredAt, &r.ActorType, &r.ActorUserID, &r.ActorKeyID, &r.Action, &r.Outcome,
			&r.ResourceType, &r.ResourceID, &r.Details, &r.RequestID, &r.RemoteAddr, &r.UserAgent); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

const agent = "audit-test/1.0"

// TestAuditEvents performs each audited action of DESIGN.md §5 the API
// offers and checks its row: tenant, actor, resource, outcome, details and
// the request's id, address and user agent.
func TestAuditEvents(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{BaseDomain: "skills.test"})
	a := s.Tenant("acme")
	b := s.Tenant("bravo")
	conn := dbtest.Connect(t, s.Env.AdminURL)
	var adminMe, memberMe me
	getJSON(t, s, a.Admin.Key, "/api/v1/me", &adminMe)
	getJSON(t, s, a.Member.Key, "/api/v1/me", &memberMe)

	type want struct {
		tenant          uuid.UUID
		action, outcome string
		actor           actor // zero for none (tenant-less events)
		resType, resID  string
		details         []string // substrings of the details JSON
	}
	// do sends a request and checks that it wrote exactly the rows wanted,
	// in order.
	do := func(method, path, key string, body any, status int, wants []want, header ...string) *testserver.Response {
		t.Helper()
		var r *testserver.Response
		h := append([]string{"User-Agent", agent}, header...)
		if data, ok := body.([]byte); ok {
			r = s.Do(method, path, key, data, append(h, "Content-Type", "application/zip")...)
		} else {
			r = s.Do(method, path, key, body, h...)
		}
		wantStatus(t, r, status)
		id := r.Header.Get("X-Request-Id")
		rows := auditRows(t, conn, id)
		if len(rows) != len(wants) {
			t.Fatalf("%s %s: %d audit rows, want %d: %+v", method, path, len(rows), len(wants), rows)
		}
		for i, w := range wants {
			row := rows[i]
			if row.TenantID != w.tenant || row.Action != w.action || row.Outcome != w.outcome || row.ResourceType != w.resType || row.ResourceID != w.resID {
				t.Errorf("%s %s: row %+v (tenant %s), want %+v", method, path, row.auditJSON, row.TenantID, w)
			}
			if row.RequestID != id || row.UserAgent != agent || !strings.HasPrefix(row.RemoteAddr, "127.0.0.1:") {
				t.Errorf("%s %s: request metadata %q %q %q, want id %s", method, path, row.RequestID, row.UserAgent, row.RemoteAddr, id)
			}
			if w.actor == (actor{}) {
				if row.ActorType != "anonymous" || row.ActorKeyID != nil || row.ActorUserID != nil {
					t.Errorf("%s %s: actor %s/%v/%v, want anonymous", method, path, row.ActorType, row.ActorUserID, row.ActorKeyID)
				}
			} else if row.ActorType != "key" || deref(row.ActorKeyID) != w.actor.key || deref(row.ActorUserID) != w.actor.user {
				t.Errorf("%s %s: actor %s/%v/%v, want key %s of %s", method, path, row.ActorType, deref(row.ActorUserID), deref(row.ActorKeyID), w.actor.key, w.actor.user)
			}
			details := compact(t, row.Details)
			for _, d := range w.details {
				if !strings.Contains(details, d) {
					t.Errorf("%s %s %s: details %s lack %s", method, path, w.action, details, d)
				}
			}
		}
		return r
	}
	A := a.ID
	ok := "success"
	actors := map[string]actor{}
	for _, key := range []string{a.Admin.Key, a.Member.Key, b.Member.Key} {
		var m me
		getJSON(t, s, key, "/api/v1/me", &m)
		actors[key] = actor{key: m.KeyID, user: m.User.ID}
	}

	// Keys.
	var k keyJSON
	r := s.Do("POST", "/api/v1/keys", a.Member.Key, map[string]any{"name": "audited2", "scopes": []string{"read"}}, "User-Agent", agent)
	wantStatus(t, r, 201)
	r.JSON(t, &k)
	rows := auditRows(t, conn, r.Header.Get("X-Request-Id"))
	if len(rows) != 1 || rows[0].Action != "key.create" || rows[0].ResourceID != k.ID || rows[0].TenantID != A ||
		!strings.Contains(string(rows[0].Details), `"audited2"`) || strings.Contains(string(rows[0].Details), k.Key) {
		t.Errorf("key.create rows %+v", rows)
	}
	do("DELETE", "/api/v1/keys/"+k.ID, a.Member.Key, nil, 200, []want{{A, "key.revoke", ok, actors[a.Member.Key], "api_key", k.ID, []string{k.Prefix}}})

	// Authentication failures: the revoked key in its tenant, an unknown
	// key with no tenant (the zero UUID), an expired key.
	do("GET", "/api/v1/me", k.Key, nil, 401, []want{{A, "auth.key_failure", "denied", actor{k.ID, memberMe.User.ID}, "api_key", k.ID, []string{`"revoked"`}}})
	unknown := do("GET", "/api/v1/me", "sv_unknownunknownunknownunknownunknownunknown0", nil, 401,
		[]want{{uuid.Nil, "auth.key_failure", "failure", actor{}, "", "", []string{`"unknown"`, "sv_unknownu"}}})
	do("GET", "/api/v1/me", "garbage", nil, 401, []want{{uuid.Nil, "auth.key_failure", "failure", actor{}, "", "", []string{`"malformed"`}}})
	exp := newKey(t, s, a.Member.Key, map[string]any{"name": "expiring"})
	if _, err := conn.Exec(context.Background(), "UPDATE api_keys SET expires_at = now() - interval '1 minute' WHERE id = $1", exp.ID); err != nil {
		t.Fatal(err)
	}
	do("GET", "/api/v1/skills", exp.Key, nil, 401, []want{{A, "auth.key_failure", "denied", actor{exp.ID, memberMe.User.ID}, "api_key", exp.ID, []string{`"expired"`}}})

	// A key of tenant B at tenant A's host.
	foreign := do("GET", "/api/v1/me", b.Member.Key, nil, 401, []want{{b.ID, "auth.cross_tenant", "denied", actors[b.Member.Key], "host", "acme.skills.test", []string{"/api/v1/me"}}},
		"Host", "acme.skills.test")
	// The caller cannot tell a foreign key from an unknown one.
	if unauthorized(t, foreign) != unauthorized(t, unknown) {
		t.Errorf("a foreign key's answer %s differs from an unknown key's %s", foreign.Body, unknown.Body)
	}
	do("GET", "/api/v1/skills", a.Member.Key, nil, 200, nil, "Host", "acme.skills.test")
	do("GET", "/api/v1/skills", a.Member.Key, nil, 401, []want{{A, "auth.cross_tenant", "denied", actors[a.Member.Key], "host", "nosuch.skills.test", nil}}, "Host", "nosuch.skills.test")

	// Users.
	r = s.Do("POST", "/api/v1/users", a.Admin.Key, map[string]any{"email": "audited@acme.example"}, "User-Agent", agent)
	wantStatus(t, r, 201)
	var u userJSON
	r.JSON(t, &u)
	do("PATCH", "/api/v1/users/"+u.ID, a.Admin.Key, map[string]any{"role": "admin"}, 200,
		[]want{{A, "user.role_change", ok, actors[a.Admin.Key], "user", u.ID, []string{`"old":"member"`, `"new":"admin"`, u.Email}}})
	do("PATCH", "/api/v1/users/"+u.ID, a.Admin.Key, map[string]any{"active": false, "role": "member"}, 200,
		[]want{{A, "user.role_change", ok, actors[a.Admin.Key], "user", u.ID, []string{`"old":"admin"`, `"new":"member"`}},
			{A, "user.deactivate", ok, actors[a.Admin.Key], "user", u.ID, nil}})
	do("PATCH", "/api/v1/users/"+u.ID, a.Admin.Key, map[string]any{"name": "Only a name"}, 200, nil)
	// Refused changes leave no success row behind.
	do("PATCH", "/api/v1/users/"+adminMe.User.ID, a.Admin.Key, map[string]any{"role": "member"}, 409, nil)

	// Skills.
	do("POST", "/api/v1/skills?publish=true", a.Member.Key, zipBytes(t, simpleBundle("audited")), 201,
		[]want{{A, "skill.create", ok, actors[a.Member.Key], "skill", "audited", []string{`"version":1`, `"digest":"sha256:`}},
			{A, "skill.publish", ok, actors[a.Member.Key], "skill", "audited", []string{`"status":"published"`}}})
	do("POST", "/api/v1/skills/audited/versions", a.Member.Key, zipBytes(t, simpleBundle("audited", "two")), 201,
		[]want{{A, "skill.update", ok, actors[a.Member.Key], "skill", "audited", []string{`"version":2`}}})
	do("POST", "/api/v1/skills/audited/versions", a.Member.Key, zipBytes(t, simpleBundle("audited", "two")), 200, nil) // unchanged
	do("POST", "/api/v1/skills/audited/publish", a.Member.Key, nil, 200,
		[]want{{A, "skill.publish", ok, actors[a.Member.Key], "skill", "audited", nil}})
	do("PATCH", "/api/v1/skills/audited", a.Member.Key, map[string]any{"title": "New"}, 200,
		[]want{{A, "skill.update", ok, actors[a.Member.Key], "skill", "audited", []string{`"title"`}}})
	do("PATCH", "/api/v1/skills/audited", a.Member.Key, map[string]any{"visibility": "private"}, 200,
		[]want{{A, "skill.visibility_change", ok, actors[a.Member.Key], "skill", "audited", []string{`"old":"tenant"`, `"new":"private"`}},
			{A, "skill.update", ok, actors[a.Member.Key], "skill", "audited", []string{`"visibility"`}}})
	do("POST", "/api/v1/skills/audited/fork", a.Admin.Key, map[string]any{"name": "audited-copy"}, 201,
		[]want{{A, "skill.create", ok, actors[a.Admin.Key], "skill", "audited-copy", []string{`"fork_of":"audited"`}}})
	do("DELETE", "/api/v1/skills/audited", a.Member.Key, nil, 204,
		[]want{{A, "skill.delete", ok, actors[a.Member.Key], "skill", "audited", []string{`"versions":2`}},
			// Its SKILL.md was its own (the fork's names the fork); the
			// other files the fork shares stay.
			{A, "blob.collect", ok, actors[a.Member.Key], "tenant", A.String(), []string{`"blobs":1`, `"reason":"skill.delete"`}}})

	// Settings, with old and new values.
	do("PATCH", "/api/v1/settings", a.Admin.Key, map[string]any{"require_review": true, "key_expiry_days": 30, "allow_skill_download": true}, 200,
		[]want{{A, "settings.update", ok, actors[a.Admin.Key], "site_settings", "",
			[]string{`"require_review":{"new":true,"old":false}`, `"key_expiry_days":{"new":30,"old":90}`}}})
	do("PATCH", "/api/v1/settings", a.Admin.Key, map[string]any{"require_review": true}, 200, nil) // no change, no row
	do("PATCH", "/api/v1/settings", a.Admin.Key, map[string]any{"key_expiry_days": -5}, 400, nil)

	// The admin reads the same rows through the API.
	var page page[auditJSON]
	getJSON(t, s, a.Admin.Key, "/api/v1/audit?action=settings.update", &page)
	if len(page.Items) != 1 || page.Items[0].Actor != a.Admin.Email || page.Items[0].ActorUserID == nil || *page.Items[0].ActorUserID != adminMe.User.ID ||
		page.Items[0].RequestID == "" || page.Items[0].UserAgent != agent {
		t.Errorf("settings audit through the API: %+v", page.Items)
	}
}

type actor struct{ key, user string }

// compact re-encodes JSON with sorted keys and no spaces.
func compact(t *testing.T, raw []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// TestAuditList checks the audit list's filters and cursor.
func TestAuditList(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	a := s.Tenant("acme")
	for _, n := range []string{"one", "two", "three"} {
		create(t, s, a.Member.Key, simpleBundle(n), "?publish=true")
	}
	create(t, s, a.Admin.Key, simpleBundle("four"), "")
	wantStatus(t, s.Do("PATCH", "/api/v1/skills/two", a.Member.Key, map[string]any{"title": "Two"}), 200)
	wantStatus(t, s.Do("PATCH", "/api/v1/settings", a.Admin.Key, map[string]any{"require_review": true}), 200)

	all := walk(t, s, a.Admin.Key, "/api/v1/audit", 1, func(e auditJSON) string { return strconv.FormatInt(e.ID, 10) })
	var one page[auditJSON]
	getJSON(t, s, a.Admin.Key, "/api/v1/audit?limit=200", &one)
	if len(all) != len(one.Items) || len(all) < 10 {
		t.Fatalf("walked %d entries, one page has %d", len(all), len(one.Items))
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID >= all[i-1].ID {
			t.Fatalf("entries not newest first: %d then %d", all[i-1].ID, all[i].ID)
		}
	}

	filter := func(query string) []auditJSON {
		t.Helper()
		return walk(t, s, a.Admin.Key, "/api/v1/audit?"+query, 2, func(e auditJSON) string { return strconv.FormatInt(e.ID, 10) })
	}
	actions := func(es []auditJSON) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.Action+":"+e.ResourceID)
		}
		slices.Sort(out)
		return out
	}
	check := func(query string, want ...string) {
		t.Helper()
		slices.Sort(want)
		if got := actions(filter(query)); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", query, got, want)
		}
	}
	check("actor="+url.QueryEscape(a.Member.Email)+"&action=skill",
		"skill.create:one", "skill.create:two", "skill.create:three", "skill.publish:one", "skill.publish:two", "skill.publish:three", "skill.update:two")
	var memberMe me
	getJSON(t, s, a.Member.Key, "/api/v1/me", &memberMe)
	check("actor="+memberMe.User.ID+"&action=skill.publish", "skill.publish:one", "skill.publish:two", "skill.publish:three")
	check("action=skill.create", "skill.create:one", "skill.create:two", "skill.create:three", "skill.create:four")
	check("resource=two", "skill.create:two", "skill.publish:two", "skill.update:two")
	check("resource_type=site_settings", "settings.update:")
	check("actor=nobody@acme.example")

	// A time range: from the middle entry on, and before it.
	mid := one.Items[len(one.Items)/2]
	from := mid.OccurredAt.UTC().Format(time.RFC3339Nano)
	after := filter("from=" + url.QueryEscape(from))
	before := filter("to=" + url.QueryEscape(from))
	if len(after)+len(before) != len(all) || len(after) == 0 || len(before) == 0 {
		t.Fatalf("from %s: %d entries, to: %d, all %d", from, len(after), len(before), len(all))
	}
	for _, e := range after {
		if e.OccurredAt.Before(mid.OccurredAt) {
			t.Errorf("entry at %v listed from %v", e.OccurredAt, mid.OccurredAt)
		}
	}
	for _, e := range before {
		if !e.OccurredAt.Before(mid.OccurredAt) {
			t.Errorf("entry at %v listed before %v", e.OccurredAt, mid.OccurredAt)
		}
	}
	if got := filter("from=2020-01-01&to=2020-01-02"); len(got) != 0 {
		t.Errorf("a past day: %d entries", len(got))
	}
	for _, q := range []string{"from=yesterday", "cursor=!!", "limit=0"} {
		wantProblem(t, s.Do("GET", "/api/v1/audit?"+q, a.Admin.Key, nil), 400, "/problems/invalid")
	}
}
