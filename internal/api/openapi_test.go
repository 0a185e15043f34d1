package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/skillvault/skillvault/internal/api"
	"github.com/skillvault/skillvault/internal/testserver"
)

type openAPIDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]json.RawMessage `json:"schemas"`
	} `json:"components"`
}

type operation struct {
	OperationID string `json:"operationId"`
	Summary     string `json:"summary"`
	Parameters  []struct {
		Name     string `json:"name"`
		In       string `json:"in"`
		Required bool   `json:"required"`
	} `json:"parameters"`
	Responses map[string]json.RawMessage `json:"responses"`
}

var methods = []string{"get", "put", "post", "delete", "patch", "head", "options", "trace"}

// routesOutsideTable are documented routes that API.Register serves
// without going through the route table (they need no credential).
var routesOutsideTable = []string{"GET /api/v1/openapi.json"}

// TestOpenAPIMatchesRoutes fails when a route of the table is not
// documented, or a documented route is not served.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc openAPIDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Errorf("openapi %q, want 3.1.x", doc.OpenAPI)
	}

	s := testserver.Start(t, testserver.Options{})
	r := s.Do("GET", "/api/v1/openapi.json", "", nil)
	wantStatus(t, r, 200)
	if !bytes.Equal(r.Body, data) || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Errorf("/api/v1/openapi.json is not openapi.json (content type %q)", r.Header.Get("Content-Type"))
	}

	// Go patterns name a rest wildcard {path...}; OpenAPI writes {path}.
	wildcard := regexp.MustCompile(`\{([a-z_]+)\.\.\.\}`)
	routes := map[string]bool{}
	for _, rt := range api.Routes(s.Srv.API) {
		key := rt.Method + " " + wildcard.ReplaceAllString(rt.Pattern, "{$1}")
		if routes[key] {
			t.Errorf("route %s twice in the table", key)
		}
		routes[key] = true
	}
	documented := map[string]bool{}
	opIDs := map[string]string{}
	pathParam := regexp.MustCompile(`\{([a-z_]+)\}`)
	refs := regexp.MustCompile(`"\$ref":\s*"#/components/schemas/([A-Za-z0-9_]+)"`)
	for path, item := range doc.Paths {
		for m, raw := range item {
			if m == "parameters" || m == "summary" || m == "description" {
				continue
			}
			if !slices.Contains(methods, m) {
				t.Errorf("%s: %q is not an HTTP method", path, m)
				continue
			}
			key := strings.ToUpper(m) + " " + path
			documented[key] = true
			var op operation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Errorf("%s: %v", key, err)
				continue
			}
			if len(op.Responses) == 0 {
				t.Errorf("%s has no responses", key)
			}
			for code := range op.Responses {
				if n, err := strconv.Atoi(code); (err != nil || n < 100 || n > 599) && code != "default" {
					t.Errorf("%s: response %q is not a status code", key, code)
				}
			}
			if op.OperationID == "" || op.Summary == "" {
				t.Errorf("%s lacks an operationId or summary", key)
			}
			if other, dup := opIDs[op.OperationID]; dup {
				t.Errorf("operationId %s of %s is also %s's", op.OperationID, key, other)
			}
			opIDs[op.OperationID] = key
			for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
				found := false
				for _, p := range op.Parameters {
					found = found || (p.Name == m[1] && p.In == "path" && p.Required)
				}
				if !found {
					t.Errorf("%s does not declare its required path parameter %s", key, m[1])
				}
			}
			for _, ref := range refs.FindAllStringSubmatch(string(raw), -1) {
				if _, ok := doc.Components.Schemas[ref[1]]; !ok {
					t.Errorf("%s refers to the missing schema %s", key, ref[1])
				}
			}
		}
	}
	for key := range routes {
		if !documented[key] {
			t.Errorf("route %s is not documented in openapi.json", key)
		}
	}
	for key := range documented {
		if routes[key] {
			continue
		}
		if !slices.Contains(routesOutsideTable, key) {
			t.Errorf("openapi.json documents %s, which is not a route", key)
			continue
		}
		method, path, _ := strings.Cut(key, " ")
		if r := s.Do(method, path, "", nil); r.Status != 200 {
			t.Errorf("%s is documented but answers %d", key, r.Status)
		}
	}
}

// TestAPIShape checks what every route shares: strict JSON bodies, problem
// types per kind, request ids, unknown routes.
func TestAPIShape(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	a := s.Tenant("acme")
	create(t, s, a.Member.Key, simpleBundle("shape"), "?publish=true")
	var m me
	getJSON(t, s, a.Member.Key, "/api/v1/me", &m)

	// Unknown fields, trailing data and wrong types are refused on every
	// route that takes JSON.
	bodies := []struct{ method, path, key, valid string }{
		{"POST", "/api/v1/users", a.Admin.Key, `{"email":"x@acme.example"}`},
		{"PATCH", "/api/v1/users/" + m.User.ID, a.Admin.Key, `{"name":"x"}`},
		{"POST", "/api/v1/keys", a.Member.Key, `{"name":"x"}`},
		{"PATCH", "/api/v1/skills/shape", a.Member.Key, `{"title":"x"}`},
		{"POST", "/api/v1/skills/shape/fork", a.Member.Key, `{"name":"shape-2"}`},
		{"PUT", "/api/v1/skills/shape/rating", a.Member.Key, `{"stars":3}`},
		{"POST", "/api/v1/usage", a.Member.Key, `{"events":[{"skill":"shape","event":"view","source":"web"}]}`},
		{"PATCH", "/api/v1/settings", a.Admin.Key, `{"require_review":false}`},
	}
	for _, b := range bodies {
		unknown := b.valid[:len(b.valid)-1] + `,"surprise":1}`
		for _, body := range []string{unknown, b.valid + `{}`, b.valid + ` x`, `[]`, `{"name":`} {
			r := s.Do(b.method, b.path, b.key, body)
			p := wantProblem(t, r, 400, "/problems/invalid")
			if body == unknown && !strings.Contains(p.Detail, "surprise") {
				t.Errorf("%s %s: detail %q does not name the unknown field", b.method, b.path, p.Detail)
			}
		}
		wantProblem(t, s.Do(b.method, b.path, b.key, []byte(b.valid), "Content-Type", "text/xml"), 415, "/problems/unsupported-media-type")
		big := `{"name":"` + strings.Repeat("x", 1<<20) + `"}`
		wantProblem(t, s.Do(b.method, b.path, b.key, big), 413, "/problems/too-large")
	}

	// One stable type per kind of error.
	kinds := []struct {
		r      *testserver.Response
		status int
		typ    string
	}{
		{s.Do("GET", "/api/v1/skills?sort=bogus", a.Member.Key, nil), 400, "/problems/invalid"},
		{s.Do("GET", "/api/v1/skills", "", nil), 401, "/problems/unauthenticated"},
		{s.Do("GET", "/api/v1/audit", a.Member.Key, nil), 403, "/problems/forbidden"},
		{s.Do("GET", "/api/v1/skills/nosuch", a.Member.Key, nil), 404, "/problems/not-found"},
		{upload(s, a.Member.Key, "/api/v1/skills", "application/zip", zipBytes(t, simpleBundle("shape"))), 409, "/problems/conflict"},
		{upload(s, a.Member.Key, "/api/v1/skills", "application/zip", []byte("junk")), 400, "/problems/invalid-bundle"},
		{upload(s, a.Member.Key, "/api/v1/skills", "text/plain", []byte("junk")), 415, "/problems/unsupported-media-type"},
		{s.Do("GET", "/api/v1/no/such/route", a.Member.Key, nil), 404, "/problems/not-found"},
		{s.Do("GET", "/api/v2/skills", "", nil), 404, "/problems/not-found"},
	}
	for _, k := range kinds {
		wantProblem(t, k.r, k.status, k.typ)
	}

	// Every answer has a request id of the server's own: a client's is
	// never taken for it (the id goes into the audit trail).
	r := s.Do("GET", "/api/v1/me", a.Member.Key, nil, "X-Request-Id", "client-chosen-id")
	if id := r.Header.Get("X-Request-Id"); id == "" || id == "client-chosen-id" {
		t.Errorf("X-Request-Id %q", id)
	}
	// JSON answers are not cached.
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
}

// TestHealthAndMetrics checks /healthz, /readyz and that /metrics counts
// requests by route pattern and shows the pool.
func TestHealthAndMetrics(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	a := s.Tenant("acme")
	r := s.Do("GET", "/healthz", "", nil)
	if r.Status != 200 || strings.TrimSpace(string(r.Body)) != "ok" {
		t.Errorf("/healthz: %d %q", r.Status, r.Body)
	}
	r = s.Do("GET", "/readyz", "", nil)
	if r.Status != 200 {
		t.Errorf("/readyz: %d %s", r.Status, r.Body)
	}
	create(t, s, a.Member.Key, simpleBundle("metered"), "")
	for range 3 {
		wantStatus(t, s.Do("GET", "/api/v1/skills/metered", a.Member.Key, nil), 200)
	}
	wantStatus(t, s.Do("GET", "/api/v1/skills/nosuch", a.Member.Key, nil), 404)
	wantStatus(t, s.Do("GET", "/api/v1/skills/other", a.Member.Key, nil), 404)

	resp, err := http.Get(s.MetricsURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("metrics listener: %d", resp.StatusCode)
	}
	text := string(body)
	for _, want := range []string{
		`skillvault_http_requests_total{method="GET",route="GET /api/v1/skills/{name}",status="200"} 3`,
		`skillvault_http_requests_total{method="GET",route="GET /api/v1/skills/{name}",status="404"} 2`,
		`skillvault_http_requests_total{method="POST",route="POST /api/v1/skills",status="201"} 1`,
		`skillvault_http_requests_total{method="GET",route="GET /healthz",status="200"} 1`,
		`skillvault_http_request_duration_seconds_count{method="GET",route="GET /api/v1/skills/{name}"} 5`,
		"skillvault_db_pool_connections ",
		"skillvault_db_pool_idle_connections ",
		"skillvault_db_pool_acquired_connections ",
		"skillvault_db_pool_max_connections 8",
		"skillvault_db_pool_acquires_total ",
		`skillvault_background_jobs{kind="embedding"} `,
		`skillvault_background_jobs{kind="review"} `,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// Raw paths never become labels.
	if strings.Contains(text, "/api/v1/skills/metered") || strings.Contains(text, "nosuch") {
		t.Error("/metrics labels a raw path")
	}
	// Queues are shown over all tenants: no figure names a tenant.
	if strings.Contains(text, a.ID.String()) || strings.Contains(text, `tenant="`) {
		t.Error("/metrics names a tenant")
	}
}
