package api_test

import (
	"strings"
	"testing"

	"github.com/skillvault/skillvault/internal/testserver"
)

type settingsJSON struct {
	SemanticSearchEnabled bool   `json:"semantic_search_enabled"`
	EmbeddingProvider     string `json:"embedding_provider"`
	EmbeddingURL          string `json:"embedding_url"`
	EmbeddingModel        string `json:"embedding_model"`
	AllowSkillDownload    bool   `json:"allow_skill_download"`
	KeyExpiryDays         int    `json:"key_expiry_days"`
	RequireReview         bool   `json:"require_review"`
	PublicDiscovery       bool   `json:"public_discovery"`
	LLMReviewURL          string `json:"llm_review_url"`
	LLMReviewModel        string `json:"llm_review_model"`
}

func TestSettings(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	a := s.Tenant("acme")
	var st settingsJSON
	getJSON(t, s, a.Admin.Key, "/api/v1/settings", &st)
	defaults := settingsJSON{SemanticSearchEnabled: true, EmbeddingProvider: "builtin", AllowSkillDownload: true, KeyExpiryDays: 90}
	if st != defaults {
		t.Fatalf("defaults %+v", st)
	}
	// Secrets never come out of this row: of a tenant's own provider
	// keys, the answer says only whether one is set.
	r := s.Do("GET", "/api/v1/settings", a.Admin.Key, nil)
	var fields map[string]any
	r.JSON(t, &fields)
	for name := range fields {
		if (strings.Contains(name, "key") || strings.Contains(name, "secret") || strings.Contains(name, "token") || strings.Contains(name, "password")) &&
			name != "key_expiry_days" && !strings.HasSuffix(name, "_api_key_set") {
			t.Errorf("settings show a %s field: %s", name, r.Body)
		}
	}

	bad := []map[string]any{
		{"embedding_provider": "bogus"},
		{"embedding_provider": "ollama"}, // needs a URL and a model
		{"embedding_provider": "openai", "embedding_url": "https://api.example/v1", "embedding_model": ""},
		{"embedding_url": "ftp://example.com"},
		{"embedding_url": "not a url"},
		{"llm_review_url": "http://llm.example"}, // needs a model
		{"llm_review_model": "m"},                // needs a URL
		{"key_expiry_days": -1},
		{"key_expiry_days": 3651},
		{"key_expiry_days": "30"},
		{"require_review": "yes"},
		{"embedding_api_key": "sk-secret"}, // this server has no secret key
		{"llm_api_key": 42},
		{"tenant_id": "00000000-0000-0000-0000-000000000001"},
	}
	for _, p := range bad {
		wantProblem(t, s.Do("PATCH", "/api/v1/settings", a.Admin.Key, p), 400, "/problems/invalid")
	}
	wantProblem(t, s.Do("PATCH", "/api/v1/settings", a.Admin.Key, "not json"), 400, "/problems/invalid")
	wantProblem(t, s.Do("PATCH", "/api/v1/settings", a.Admin.Key, []byte(`{"require_review":true}`), "Content-Type", "text/plain"), 415, "/problems/unsupported-media-type")
	getJSON(t, s, a.Admin.Key, "/api/v1/settings", &st)
	if st != defaults {
		t.Fatalf("refused patches changed the settings: %+v", st)
	}

	r = s.Do("PATCH", "/api/v1/settings", a.Admin.Key, map[string]any{"embedding_provider": "ollama", "embedding_url": " http://127.0.0.1:11434 ",
		"embedding_model": "nomic-embed-text", "llm_review_url": "https://llm.example/v1", "llm_review_model": "small", "key_expiry_days": 0,
		"public_discovery": true, "semantic_search_enabled": false})
	wantStatus(t, r, 200)
	r.JSON(t, &st)
	want := settingsJSON{EmbeddingProvider: "ollama", EmbeddingURL: "http://127.0.0.1:11434", EmbeddingModel: "nomic-embed-text",
		AllowSkillDownload: true, LLMReviewURL: "https://llm.example/v1", LLMReviewModel: "small", PublicDiscovery: true}
	if st != want {
		t.Fatalf("patched %+v, want %+v", st, want)
	}
	var again settingsJSON
	getJSON(t, s, a.Admin.Key, "/api/v1/settings", &again)
	if again != want {
		t.Fatalf("read back %+v", again)
	}
	// Only the fields sent change.
	wantStatus(t, s.Do("PATCH", "/api/v1/settings", a.Admin.Key, map[string]any{"require_review": true}), 200)
	getJSON(t, s, a.Admin.Key, "/api/v1/settings", &again)
	want.RequireReview = true
	if again != want {
		t.Fatalf("after a one-field patch %+v", again)
	}
	// key_expiry_days 0 means keys never expire.
	k := newKey(t, s, a.Member.Key, map[string]any{"name": "forever"})
	if k.ExpiresAt != nil {
		t.Errorf("with key_expiry_days 0 a key expires %v", k.ExpiresAt)
	}
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }
