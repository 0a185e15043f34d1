package api_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skillvault/skillvault/internal/dbtest"
	"github.com/skillvault/skillvault/internal/testserver"
)

type keyJSON struct {
	ID         string     `json:"id"`
	UserID     string     `json:"user_id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Scopes     []string   `json:"scopes"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	Key        string     `json:"key"`
}

func newKey(t *testing.T, s *testserver.Server, key string, body map[string]any) keyJSON {
	t.Helper()
	r := s.Do("POST", "/api/v1/keys", key, body)
	wantStatus(t, r, http.StatusCreated)
	var k keyJSON
	r.JSON(t, &k)
	return k
}

// unauthorized checks a 401 and returns its body without the request id,
// to compare failures with each other.
func unauthorized(t *testing.T, r *testserver.Response) string {
	t.Helper()
	p := wantProblem(t, r, http.StatusUnauthorized, "/problems/unauthenticated")
	if r.Header.Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}
	return strings.Replace(string(r.Body), p.Instance, "", 1)
}

func TestKeys(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	a := s.Tenant("acme")
	admin := dbtest.Connect(t, s.Env.AdminURL)
	ctx := context.Background()

	unknown := unauthorized(t, s.Do("GET", "/api/v1/me", "sv_"+strings.Repeat("x", 43), nil))

	t.Run("shown once, stored hashed", func(t *testing.T) {
		k := newKey(t, s, a.Member.Key, map[string]any{"name": "laptop", "scopes": []string{"read", "write"}})
		if !strings.HasPrefix(k.Key, "sv_") || len(k.Key) != 46 || k.Prefix != k.Key[:11] || k.Name != "laptop" {
			t.Fatalf("created %+v", k)
		}
		sum := sha256.Sum256([]byte(k.Key))
		secrets := []string{k.Key, k.Key[3:], k.Key[11:], hex.EncodeToString(sum[:]), base64.StdEncoding.EncodeToString(sum[:])}
		for _, path := range []string{"/api/v1/keys", "/api/v1/keys?limit=1", "/api/v1/me"} {
			r := s.Do("GET", path, k.Key, nil)
			wantStatus(t, r, 200)
			for _, sec := range secrets {
				if strings.Contains(string(r.Body), sec) {
					t.Errorf("%s shows the key or its hash", path)
				}
			}
			if strings.Contains(string(r.Body), "hash") {
				t.Errorf("%s has a hash field: %s", path, r.Body)
			}
		}
		r := s.Do("GET", "/api/v1/keys?all=true", a.Admin.Key, nil)
		for _, sec := range secrets {
			if strings.Contains(string(r.Body), sec) {
				t.Errorf("admin list shows the key or its hash")
			}
		}
		// The stored row, read as the superuser, holds only the hash.
		var row string
		var hash []byte
		if err := admin.QueryRow(ctx, "SELECT row_to_json(k)::text, key_hash FROM api_keys k WHERE id = $1", k.ID).Scan(&row, &hash); err != nil {
			t.Fatal(err)
		}
		for _, sec := range secrets[:3] {
			if strings.Contains(row, sec) {
				t.Errorf("the stored row contains the key: %s", row)
			}
		}
		if string(hash) != string(sum[:]) {
			t.Errorf("stored hash %x, want sha256 of the key", hash)
		}
	})

	t.Run("revoked fails at once", func(t *testing.T) {
		k := newKey(t, s, a.Member.Key, map[string]any{"name": "to-revoke"})
		wantStatus(t, s.Do("GET", "/api/v1/me", k.Key, nil), 200)
		r := s.Do("DELETE", "/api/v1/keys/"+k.ID, a.Member.Key, nil)
		wantStatus(t, r, 200)
		var rk keyJSON
		r.JSON(t, &rk)
		if rk.RevokedAt == nil || rk.Key != "" {
			t.Fatalf("revoked %s", r.Body)
		}
		if got := unauthorized(t, s.Do("GET", "/api/v1/me", k.Key, nil)); got != unknown {
			t.Errorf("revoked key's answer %s differs from an unknown key's %s", got, unknown)
		}
		// Revoking again changes nothing; the admin can revoke any key.
		wantStatus(t, s.Do("DELETE", "/api/v1/keys/"+k.ID, a.Member.Key, nil), 200)
		k2 := newKey(t, s, a.Member.Key, map[string]any{"name": "admin-revokes"})
		wantStatus(t, s.Do("DELETE", "/api/v1/keys/"+k2.ID, a.Admin.Key, nil), 200)
		unauthorized(t, s.Do("GET", "/api/v1/skills", k2.Key, nil))
		wantProblem(t, s.Do("DELETE", "/api/v1/keys/not-a-uuid", a.Member.Key, nil), 404, "/problems/not-found")
	})

	t.Run("expired fails at once", func(t *testing.T) {
		k := newKey(t, s, a.Member.Key, map[string]any{"name": "short", "expires_in_days": 1})
		if k.ExpiresAt == nil || time.Until(*k.ExpiresAt) < 23*time.Hour || time.Until(*k.ExpiresAt) > 25*time.Hour {
			t.Fatalf("expires %v", k.ExpiresAt)
		}
		// Let the key expire a moment after its first use: the server has
		// looked it up (and may hold it in its cache) while it was valid.
		if _, err := admin.Exec(ctx, "UPDATE api_keys SET expires_at = now() + interval '1 second' WHERE id = $1", k.ID); err != nil {
			t.Fatal(err)
		}
		wantStatus(t, s.Do("GET", "/api/v1/me", k.Key, nil), 200)
		wantStatus(t, s.Do("GET", "/api/v1/me", k.Key, nil), 200)
		time.Sleep(1100 * time.Millisecond)
		if got := unauthorized(t, s.Do("GET", "/api/v1/me", k.Key, nil)); got != unknown {
			t.Errorf("expired key's answer %s differs from an unknown key's %s", got, unknown)
		}
	})

	t.Run("malformed credentials", func(t *testing.T) {
		for _, h := range []string{"", "Basic dXNlcjpwYXNz", "Bearer ", "Bearer sv_", "Bearer not-a-key", "Bearer sv_" + strings.Repeat("a", 200)} {
			r := s.Do("GET", "/api/v1/skills", "", nil, "Authorization", h)
			unauthorized(t, r)
		}
	})

	t.Run("expiry defaults to the tenant setting", func(t *testing.T) {
		wantStatus(t, s.Do("PATCH", "/api/v1/settings", a.Admin.Key, map[string]any{"key_expiry_days": 10}), 200)
		k := newKey(t, s, a.Member.Key, map[string]any{"name": "default-expiry"})
		if k.ExpiresAt == nil || time.Until(*k.ExpiresAt) < 239*time.Hour || time.Until(*k.ExpiresAt) > 241*time.Hour {
			t.Fatalf("expires %v, want in 10 days", k.ExpiresAt)
		}
		if k := newKey(t, s, a.Member.Key, map[string]any{"name": "never", "expires_in_days": 0}); k.ExpiresAt != nil {
			t.Fatalf("expires_in_days 0 expires %v", k.ExpiresAt)
		}
		wantProblem(t, s.Do("POST", "/api/v1/keys", a.Member.Key, map[string]any{"expires_in_days": -1}), 400, "/problems/invalid")
		wantProblem(t, s.Do("POST", "/api/v1/keys", a.Member.Key, map[string]any{"scopes": []string{"root"}}), 400, "/problems/invalid")
		wantProblem(t, s.Do("POST", "/api/v1/keys", a.Member.Key, map[string]any{"name": "x", "secret": "mine"}), 400, "/problems/invalid")
	})

	t.Run("scopes never exceed the user", func(t *testing.T) {
		wantProblem(t, s.Do("POST", "/api/v1/keys", a.Member.Key, map[string]any{"scopes": []string{"read", "admin"}}), 403, "/problems/forbidden")
		ro := newKey(t, s, a.Member.Key, map[string]any{"scopes": []string{"read"}})
		wantProblem(t, s.Do("POST", "/api/v1/keys", ro.Key, map[string]any{"scopes": []string{"read"}}), 403, "/problems/forbidden")
		k := newKey(t, s, a.Admin.Key, map[string]any{"scopes": []string{"read", "write", "admin"}})
		var m me
		getJSON(t, s, k.Key, "/api/v1/me", &m)
		if strings.Join(m.Scopes, ",") != "admin,read,write" {
			t.Fatalf("scopes %v", m.Scopes)
		}
	})

	t.Run("last_used_at", func(t *testing.T) {
		k := newKey(t, s, a.Member.Key, map[string]any{"name": "fresh"})
		find := func() keyJSON {
			var p page[keyJSON]
			getJSON(t, s, a.Admin.Key, "/api/v1/keys?all=true&limit=200", &p)
			for _, x := range p.Items {
				if x.ID == k.ID {
					return x
				}
			}
			t.Fatalf("key %s not listed", k.ID)
			return keyJSON{}
		}
		if find().LastUsedAt != nil {
			t.Fatal("an unused key has last_used_at")
		}
		start := time.Now().Add(-time.Second)
		wantStatus(t, s.Do("GET", "/api/v1/skills", k.Key, nil), 200)
		if used := find().LastUsedAt; used == nil || used.Before(start) {
			t.Fatalf("last_used_at %v after use", used)
		}
	})

	t.Run("lists", func(t *testing.T) {
		other := s.User(a.ID, "lister@acme.example", "member", "read", "write")
		for i := range 3 {
			newKey(t, s, other.Key, map[string]any{"name": "k" + strconv.Itoa(i)})
		}
		var own page[keyJSON]
		getJSON(t, s, a.Member.Key, "/api/v1/keys?limit=200", &own)
		var m me
		getJSON(t, s, a.Member.Key, "/api/v1/me", &m)
		for _, k := range own.Items {
			if k.UserID != m.User.ID {
				t.Errorf("a member lists another user's key %+v", k)
			}
		}
		all := walk(t, s, a.Admin.Key, "/api/v1/keys?all=true", 1, func(k keyJSON) string { return k.ID })
		var count int
		admin.QueryRow(ctx, "SELECT count(*) FROM api_keys WHERE tenant_id = $1", a.ID).Scan(&count)
		if len(all) != count {
			t.Errorf("walking the admin list gives %d keys, the table has %d", len(all), count)
		}
		walked := walk(t, s, a.Member.Key, "/api/v1/keys", 2, func(k keyJSON) string { return k.ID })
		if len(walked) != len(own.Items) {
			t.Errorf("walking the own list gives %d keys, one page %d", len(walked), len(own.Items))
		}
	})
}

// TestKeyFollowsRole demotes an admin and deactivates a user: their keys
// lose the admin scope, and stop working, at once.
func TestKeyFollowsRole(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	a := s.Tenant("acme")
	second := s.User(a.ID, "second@acme.example", "admin", "read", "write", "admin")
	wantStatus(t, s.Do("GET", "/api/v1/users", second.Key, nil), 200)

	r := s.Do("PATCH", "/api/v1/users/"+second.ID.String(), a.Admin.Key, map[string]any{"role": "member"})
	wantStatus(t, r, 200)
	wantProblem(t, s.Do("GET", "/api/v1/users", second.Key, nil), 403, "/problems/forbidden")
	wantProblem(t, s.Do("GET", "/api/v1/settings", second.Key, nil), 403, "/problems/forbidden")
	var m me
	getJSON(t, s, second.Key, "/api/v1/me", &m)
	if m.User.Role != "member" || strings.Contains(strings.Join(m.Scopes, ","), "admin") {
		t.Fatalf("demoted admin: %+v", m)
	}
	// Promoted again, the key's admin scope works again.
	wantStatus(t, s.Do("PATCH", "/api/v1/users/"+second.ID.String(), a.Admin.Key, map[string]any{"role": "admin"}), 200)
	wantStatus(t, s.Do("GET", "/api/v1/users", second.Key, nil), 200)

	// Deactivation stops every key of the user at once, like an unknown key.
	unknown := unauthorized(t, s.Do("GET", "/api/v1/me", "sv_"+strings.Repeat("y", 43), nil))
	wantStatus(t, s.Do("PATCH", "/api/v1/users/"+a.Member.ID.String(), a.Admin.Key, map[string]any{"active": false}), 200)
	for _, key := range []string{a.Member.Key, a.ReadOnlyKey} {
		if got := unauthorized(t, s.Do("GET", "/api/v1/skills", key, nil)); got != unknown {
			t.Errorf("deactivated user's key: %s, unknown key: %s", got, unknown)
		}
	}
	wantStatus(t, s.Do("PATCH", "/api/v1/users/"+a.Member.ID.String(), a.Admin.Key, map[string]any{"active": true}), 200)
	wantStatus(t, s.Do("GET", "/api/v1/skills", a.Member.Key, nil), 200)
}

type userJSON struct {
	ID     string `json:"id"`
	Email  string `json:"email"`
	Name   string `json:"name"`
	Role   string `json:"role"`
	Active bool   `json:"active"`
}

func TestUsers(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	a := s.Tenant("acme")

	r := s.Do("POST", "/api/v1/users", a.Admin.Key, map[string]any{"email": "  New.Person@Acme.Example ", "name": "New Person"})
	wantStatus(t, r, 201)
	var u userJSON
	r.JSON(t, &u)
	if u.Email != "new.person@acme.example" || u.Role != "member" || !u.Active || u.Name != "New Person" {
		t.Fatalf("created %+v", u)
	}
	wantProblem(t, s.Do("POST", "/api/v1/users", a.Admin.Key, map[string]any{"email": "new.person@acme.example"}), 409, "/problems/conflict")
	wantProblem(t, s.Do("POST", "/api/v1/users", a.Admin.Key, map[string]any{"email": "not an email"}), 400, "/problems/invalid")
	wantProblem(t, s.Do("POST", "/api/v1/users", a.Admin.Key, map[string]any{"email": "x@acme.example", "role": "owner"}), 400, "/problems/invalid")
	wantProblem(t, s.Do("POST", "/api/v1/users", a.Admin.Key, map[string]any{"email": "y@acme.example", "admin": true}), 400, "/problems/invalid")
	wantProblem(t, s.Do("PATCH", "/api/v1/users/"+u.ID, a.Admin.Key, map[string]any{"role": "root"}), 400, "/problems/invalid")
	wantProblem(t, s.Do("PATCH", "/api/v1/users/"+u.ID, a.Admin.Key, map[string]any{"email": "z@acme.example"}), 400, "/problems/invalid")

	for i := range 4 {
		wantStatus(t, s.Do("POST", "/api/v1/users", a.Admin.Key, map[string]any{"email": "user" + strconv.Itoa(i) + "@acme.example"}), 201)
	}
	all := walk(t, s, a.Admin.Key, "/api/v1/users", 1, func(u userJSON) string { return u.ID })
	if len(all) != 7 {
		t.Fatalf("walked %d users, want 7", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i-1].Email >= all[i].Email {
			t.Errorf("users not in email order: %s then %s", all[i-1].Email, all[i].Email)
		}
	}

	// Role changes both ways.
	r = s.Do("PATCH", "/api/v1/users/"+u.ID, a.Admin.Key, map[string]any{"role": "admin", "name": "Boss"})
	wantStatus(t, r, 200)
	r.JSON(t, &u)
	if u.Role != "admin" || u.Name != "Boss" {
		t.Fatalf("promoted %+v", u)
	}
	wantStatus(t, s.Do("PATCH", "/api/v1/users/"+u.ID, a.Admin.Key, map[string]any{"role": "member"}), 200)

	// The last active admin can be neither demoted nor deactivated.
	self := a.Admin.ID.String()
	wantProblem(t, s.Do("PATCH", "/api/v1/users/"+self, a.Admin.Key, map[string]any{"role": "member"}), 409, "/problems/conflict")
	wantProblem(t, s.Do("PATCH", "/api/v1/users/"+self, a.Admin.Key, map[string]any{"active": false}), 409, "/problems/conflict")
	// A deactivated admin does not count.
	wantStatus(t, s.Do("PATCH", "/api/v1/users/"+u.ID, a.Admin.Key, map[string]any{"role": "admin", "active": false}), 200)
	wantProblem(t, s.Do("PATCH", "/api/v1/users/"+self, a.Admin.Key, map[string]any{"role": "member"}), 409, "/problems/conflict")
	wantProblem(t, s.Do("PATCH", "/api/v1/users/00000000-0000-0000-0000-000000000001", a.Admin.Key, map[string]any{"active": false}), 404, "/problems/not-found")

	// Two admins demoting each other at once: exactly one remains.
	second := s.User(a.ID, "second@acme.example", "admin", "read", "write", "admin")
	var wg sync.WaitGroup
	for _, pair := range [][2]string{{a.Admin.Key, second.ID.String()}, {second.Key, self}} {
		wg.Go(func() {
			s.Do("PATCH", "/api/v1/users/"+pair[1], pair[0], map[string]any{"role": "member"})
		})
	}
	wg.Wait()
	var admins int
	conn := dbtest.Connect(t, s.Env.AdminURL)
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM users WHERE tenant_id = $1 AND role = 'admin' AND active", a.ID).Scan(&admins); err != nil {
		t.Fatal(err)
	}
	if admins != 1 {
		t.Fatalf("%d active admins after two admins demoted each other", admins)
	}
}

// TestRateLimit runs a server allowing 1 request a second (bursts of 2)
// per key.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{RateLimit: 1})
	a := s.Tenant("acme")
	var limited *testserver.Response
	for range 6 {
		r := s.Do("GET", "/api/v1/me", a.Member.Key, nil)
		if r.Status == http.StatusTooManyRequests {
			limited = r
			break
		}
		wantStatus(t, r, 200)
	}
	if limited == nil {
		t.Fatal("6 requests at once were not limited")
	}
	wantProblem(t, limited, 429, "/problems/rate-limited")
	ra, err := strconv.Atoi(limited.Header.Get("Retry-After"))
	if err != nil || ra < 1 || ra > 2 {
		t.Fatalf("Retry-After %q", limited.Header.Get("Retry-After"))
	}
	// The limit is per key: another key of the same user is not limited.
	wantStatus(t, s.Do("GET", "/api/v1/me", a.ReadOnlyKey, nil), 200)
	time.Sleep(time.Duration(ra) * time.Second)
	wantStatus(t, s.Do("GET", "/api/v1/me", a.Member.Key, nil), 200)
}
