package web

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/skillvault/skillvault/internal/secrets"
	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/testserver"
)

func withService(opt service.Options) startOpt {
	return func(o *testserver.Options, _ *Config) { o.Service = opt }
}

// TestSettingsPageKeysWriteOnly: the settings page takes a tenant's own
// provider keys, never shows them again (not even after a refused save),
// says whether one is set, and can remove one; an empty field keeps it.
func TestSettingsPageKeysWriteOnly(t *testing.T) {
	t.Parallel()
	box, _ := secrets.New(bytes.Repeat([]byte{5}, secrets.KeySize))
	e := start(t, withService(service.Options{Secrets: box}))
	a := e.tenant("acme")
	b := e.client()
	b.signIn(e.loginLink(a, a.Admin))
	const secret = "sk-web-secret-5150"
	form := func(extra ...string) url.Values {
		f := url.Values{"csrf": {b.csrf()}, "embedding_provider": {"builtin"}, "key_expiry_days": {"90"}}
		for i := 0; i+1 < len(extra); i += 2 {
			f.Set(extra[i], extra[i+1])
		}
		return f
	}
	post := func(f url.Values) *resp {
		return b.do("POST", "/admin/settings", f, "Origin", e.URL, "Sec-Fetch-Site", "same-origin")
	}
	if p := post(form("embedding_api_key", secret, "llm_api_key", secret+"-llm")); p.Status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", p.Status, p.Body)
	}
	st, err := e.TS.Svc.Settings(context.Background(), service.System(a.ID))
	if err != nil || !st.EmbeddingAPIKeySet || !st.LLMAPIKeySet {
		t.Fatalf("after saving keys: %+v %v", st, err)
	}
	page := b.get("/admin/settings")
	if page.Status != 200 || strings.Contains(page.Body, secret) || !strings.Contains(page.Body, "A key is set") {
		t.Fatalf("settings page (%d) shows the key or not that one is set: %s", page.Status, page.Body)
	}
	// A refused save re-shows the form without the key it was sent.
	if p := post(form("embedding_api_key", "sk-typed-again-777", "key_expiry_days", "99999")); p.Status != http.StatusBadRequest ||
		strings.Contains(p.Body, "sk-typed-again-777") || strings.Contains(p.Body, secret) || !strings.Contains(p.Body, "A key is set") {
		t.Fatalf("refused save (%d) shows a key: %s", p.Status, p.Body)
	}
	// Saving other settings with the field empty keeps the key; the box removes it.
	post(form())
	if st, _ := e.TS.Svc.Settings(context.Background(), service.System(a.ID)); !st.EmbeddingAPIKeySet {
		t.Fatal("an empty key field removed the key")
	}
	post(form("clear_embedding_api_key", "on"))
	st, _ = e.TS.Svc.Settings(context.Background(), service.System(a.ID))
	if st.EmbeddingAPIKeySet || !st.LLMAPIKeySet {
		t.Fatalf("after removing the embedding key: %+v", st)
	}
}
