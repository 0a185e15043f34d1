package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/skillvault/skillvault/internal/dbtest"
	"github.com/skillvault/skillvault/internal/egress"
	"github.com/skillvault/skillvault/internal/secrets"
	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/testserver"
)

// The marker is what a service inside the operator's network answers; no
// byte of it may reach a tenant.
const internalMarker = "INTERNAL-ONLY-d41f9c"

// operatorKeys are the operator's provider keys; no tenant URL may get them.
var operatorKeys = service.Options{
	Embed: service.EmbedConfig{URLs: []string{"https://embed.operator.example/v1"}, APIKey: "sk-operator-embed-key"},
	LLM:   service.LLMConfig{URLs: []string{"https://llm.operator.example"}, APIKey: "sk-operator-llm-key"},
}

// standIn is a loopback server playing an internal service (a metrics
// page, a database port): it answers every request with the marker.
type standIn struct {
	*httptest.Server
	mu      sync.Mutex
	hits    int
	headers []string
}

func newStandIn(t *testing.T, status int) *standIn {
	s := &standIn{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits++
		s.headers = append(s.headers, r.Header.Get("Authorization"))
		s.mu.Unlock()
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":{"message":"%s"},"data":"%s"}`, internalMarker, internalMarker)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *standIn) reached() (int, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits, s.headers
}

// egressCase points a tenant's embedding provider and LLM reviewer at
// url, publishes a skill, runs the background work and returns the
// embedding state's error as the API shows it, after checking that no
// API answer or stored row holds the marker.
func egressCase(t *testing.T, s *testserver.Server, tn *testserver.Tenant, skill, url string) string {
	t.Helper()
	wantStatus(t, s.Do("PATCH", "/api/v1/settings", tn.Admin.Key, map[string]any{"embedding_provider": "openai", "embedding_url": url,
		"embedding_model": "m", "llm_review_url": url, "llm_review_model": "m"}), 200)
	create(t, s, tn.Admin.Key, describedBundle(skill, "Finds "+skill+" things. Use for "+skill+"."), "?publish=true")
	s.Svc.EmbedDue(context.Background())
	s.Svc.Wait()
	var st struct {
		State     string `json:"state"`
		LastError string `json:"last_error"`
	}
	getJSON(t, s, tn.Admin.Key, "/api/v1/skills/"+skill+"/embedding", &st)
	if st.State != "failed" {
		t.Errorf("%s: embedding state %q, want failed", url, st.State)
	}
	var answers [][]byte
	for _, path := range []string{"/api/v1/skills/" + skill + "/embedding", "/api/v1/skills/" + skill + "/reviews", "/api/v1/settings",
		"/api/v1/search?mode=semantic&q=" + skill, "/api/v1/search?q=" + skill, "/api/v1/skills/" + skill + "/similar", "/api/v1/audit"} {
		answers = append(answers, s.Do("GET", path, tn.Admin.Key, nil).Body)
	}
	answers = append(answers, s.Do("POST", "/api/v1/skills/"+skill+"/reviews", tn.Admin.Key, nil).Body)
	for i, body := range answers {
		if bytes.Contains(body, []byte(internalMarker)) || bytes.Contains(body, []byte("INTERNAL-ONLY")) {
			t.Errorf("%s: answer %d shows what the internal service said: %s", url, i, body)
		}
	}
	su := dbtest.Connect(t, s.Env.AdminURL)
	var n int
	if err := su.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM skill_embeddings WHERE last_error LIKE '%INTERNAL-ONLY%')
		+ (SELECT count(*) FROM skill_reviews WHERE summary LIKE '%INTERNAL-ONLY%' OR findings::text LIKE '%INTERNAL-ONLY%')
		+ (SELECT count(*) FROM audit_logs WHERE details::text LIKE '%INTERNAL-ONLY%')`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%s: %d stored rows hold the marker (%v)", url, n, err)
	}
	return st.LastError
}

// TestEgress: a tenant admin's provider URLs cannot reach services inside
// the operator's network (directly, by a name that resolves to loopback,
// in IPv4-mapped form, or by a redirect), what such a service answers
// never reaches the tenant, and the operator's keys never go to a URL the
// tenant chose. Loopback servers stand in for the internal services.
func TestEgress(t *testing.T) {
	t.Parallel()
	t.Run("closed", func(t *testing.T) {
		t.Parallel()
		in := newStandIn(t, http.StatusOK)
		s := testserver.Start(t, testserver.Options{Service: operatorKeys})
		a := s.Tenant("acme")
		port := in.URL[strings.LastIndex(in.URL, ":")+1:]
		for i, url := range []string{in.URL, "http://localhost:" + port, "http://[::ffff:127.0.0.1]:" + port} {
			if got := egressCase(t, s, a, fmt.Sprintf("closed-skill-%d", i), url); got != egress.NotAllowed {
				t.Errorf("%s: the tenant sees %q, want %q", url, got, egress.NotAllowed)
			}
		}
		if n, _ := in.reached(); n != 0 {
			t.Fatalf("the internal service was reached %d times", n)
		}
	})
	t.Run("allowed", func(t *testing.T) {
		t.Parallel()
		in := newStandIn(t, http.StatusInternalServerError)
		redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, in.URL+r.URL.Path, http.StatusTemporaryRedirect)
		}))
		defer redirect.Close()
		opt := operatorKeys
		opt.Egress = egress.MustNew(egress.Options{Allow: []string{"127.0.0.1"}})
		s := testserver.Start(t, testserver.Options{Service: opt})
		a := s.Tenant("acme")
		if got := egressCase(t, s, a, "redirected-skill", redirect.URL); got != "provider answered 307" {
			t.Errorf("redirect: the tenant sees %q", got)
		}
		if n, _ := in.reached(); n != 0 {
			t.Fatalf("a redirect was followed to the internal service (%d requests)", n)
		}
		// Allowed, the service is reached, and the tenant learns only the status.
		if got := egressCase(t, s, a, "allowed-skill", in.URL); got != "provider answered 500" {
			t.Errorf("allowed: the tenant sees %q", got)
		}
		n, headers := in.reached()
		if n == 0 {
			t.Fatal("with 127.0.0.1 allowed, the service was not reached")
		}
		for _, h := range headers {
			if h != "" {
				t.Errorf("a tenant's URL received Authorization %q", h)
			}
		}
	})
}

// TestProviderKeysWriteOnly: a tenant's own provider keys are accepted
// through PATCH /api/v1/settings, stored sealed, and never returned: the
// answers say only whether one is set; "" clears. A server without a
// secret key refuses them with a problem saying what to configure.
func TestProviderKeysWriteOnly(t *testing.T) {
	t.Parallel()
	key := bytes.Repeat([]byte{9}, secrets.KeySize)
	box, _ := secrets.New(key)
	s := testserver.Start(t, testserver.Options{Service: service.Options{Secrets: box}})
	a := s.Tenant("acme")
	const secret = "sk-acme-own-4242"
	r := s.Do("PATCH", "/api/v1/settings", a.Admin.Key, map[string]any{"embedding_api_key": secret, "llm_api_key": secret + "-llm"})
	wantStatus(t, r, 200)
	var st struct {
		EmbeddingSet bool `json:"embedding_api_key_set"`
		LLMSet       bool `json:"llm_api_key_set"`
	}
	r.JSON(t, &st)
	if !st.EmbeddingSet || !st.LLMSet {
		t.Fatalf("after setting both keys: %s", r.Body)
	}
	answers := [][]byte{r.Body, s.Do("GET", "/api/v1/settings", a.Admin.Key, nil).Body, s.Do("GET", "/api/v1/audit", a.Admin.Key, nil).Body}
	for _, body := range answers {
		for _, leak := range []string{secret, base64.StdEncoding.EncodeToString([]byte(secret))[:12], "sealed"} {
			if bytes.Contains(body, []byte(leak)) {
				t.Errorf("an answer shows %q: %s", leak, body)
			}
		}
	}
	su := dbtest.Connect(t, s.Env.AdminURL)
	var sealed []byte
	if err := su.QueryRow(context.Background(), "SELECT embedding_api_key_sealed FROM site_settings WHERE tenant_id = $1", a.ID).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte(secret)) {
		t.Fatal("the column holds the plaintext key")
	}
	if plain, err := box.Open(a.ID, "embedding_api_key", sealed); err != nil || plain != secret {
		t.Fatalf("the column does not open as acme's key: %q %v", plain, err)
	}
	wantStatus(t, s.Do("PATCH", "/api/v1/settings", a.Admin.Key, map[string]any{"embedding_api_key": ""}), 200)
	r = s.Do("GET", "/api/v1/settings", a.Admin.Key, nil)
	r.JSON(t, &st)
	if st.EmbeddingSet || !st.LLMSet {
		t.Fatalf("after clearing the embedding key: %s", r.Body)
	}

	plain := testserver.Start(t, testserver.Options{})
	b := plain.Tenant("globex")
	p := wantProblem(t, plain.Do("PATCH", "/api/v1/settings", b.Admin.Key, map[string]any{"llm_api_key": secret}), 400, "/problems/invalid")
	if !strings.Contains(p.Detail, "SKILLVAULT_SECRET_KEY") {
		t.Errorf("the refusal does not say what to configure: %q", p.Detail)
	}
	r = plain.Do("GET", "/api/v1/settings", b.Admin.Key, nil)
	r.JSON(t, &st)
	if st.LLMSet {
		t.Fatal("a refused key was stored")
	}
}

// TestProviderKeyStaysWithItsURL: a tenant's sealed provider key belongs
// to the endpoint it was given for. Before, an admin (a co-admin, a stolen
// admin key) could move embedding_url or llm_review_url to a server of
// theirs without touching the key and receive the write-only secret there.
// Now moving a URL without a new key drops the key; setting both together
// keeps the new one.
func TestProviderKeyStaysWithItsURL(t *testing.T) {
	t.Parallel()
	box, _ := secrets.New(bytes.Repeat([]byte{7}, secrets.KeySize))
	catcher := newStandIn(t, http.StatusInternalServerError)
	opt := service.Options{Secrets: box, Egress: egress.MustNew(egress.Options{Allow: []string{"127.0.0.1"}})}
	s := testserver.Start(t, testserver.Options{Service: opt})
	a := s.Tenant("acme")
	const secret = "sk-acme-own-7777"
	var st struct {
		EmbeddingSet bool `json:"embedding_api_key_set"`
		LLMSet       bool `json:"llm_api_key_set"`
	}
	wantStatus(t, s.Do("PATCH", "/api/v1/settings", a.Admin.Key, map[string]any{"embedding_provider": "openai",
		"embedding_url": "https://embed.acme.example/v1", "embedding_model": "m", "embedding_api_key": secret,
		"llm_review_url": "https://llm.acme.example", "llm_review_model": "m", "llm_api_key": secret}), 200)

	// Another admin moves both URLs, keeping the keys as they are.
	r := s.Do("PATCH", "/api/v1/settings", a.Admin.Key, map[string]any{"embedding_url": catcher.URL, "llm_review_url": catcher.URL})
	wantStatus(t, r, 200)
	r.JSON(t, &st)
	if st.EmbeddingSet || st.LLMSet {
		t.Errorf("after moving the URLs without new keys: %s", r.Body)
	}
	create(t, s, a.Admin.Key, describedBundle("moved-skill", "Finds moved things. Use for moved."), "?publish=true")
	s.Svc.EmbedDue(context.Background())
	s.Svc.Wait()
	s.Do("POST", "/api/v1/skills/moved-skill/reviews", a.Admin.Key, nil)
	n, headers := catcher.reached()
	if n == 0 {
		t.Fatal("the moved URL was never called")
	}
	for _, h := range headers {
		if strings.Contains(h, secret) {
			t.Errorf("the moved URL received the tenant's key: Authorization %q", h)
		}
	}

	// A URL and a key set together stay together; an unrelated change keeps them.
	wantStatus(t, s.Do("PATCH", "/api/v1/settings", a.Admin.Key, map[string]any{"embedding_url": "https://embed2.acme.example/v1",
		"embedding_api_key": secret}), 200)
	r = s.Do("PATCH", "/api/v1/settings", a.Admin.Key, map[string]any{"require_review": true, "embedding_url": "https://embed2.acme.example/v1"})
	wantStatus(t, r, 200)
	r.JSON(t, &st)
	if !st.EmbeddingSet {
		t.Errorf("a key set with its URL was dropped: %s", r.Body)
	}
}
