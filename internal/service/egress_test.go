package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/skillvault/skillvault/internal/dbtest"
	"github.com/skillvault/skillvault/internal/egress"
	"github.com/skillvault/skillvault/internal/secrets"
	"github.com/skillvault/skillvault/internal/service"
)

// loopback is the egress client of tests whose providers are loopback
// servers: only an explicit allow entry lets a tenant's URL reach them.
var loopback = egress.MustNew(egress.Options{Allow: []string{"127.0.0.1"}})

// loopbackFixture is a fixture whose service reaches 127.0.0.1.
func loopbackFixture(t *testing.T, opt service.Options) *fixture {
	env := dbtest.New(t)
	opt.Egress = loopback
	return &fixture{env: env, svc: service.New(env.DB, opt)}
}

// seen returns the Authorization headers received, and forgets them.
func (p *provider) seen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.auths
	p.auths = nil
	return out
}

// useProviders points the tenant's embeddings and LLM reviewer at url,
// publishes a skill and waits for both to be called.
func useProviders(t *testing.T, f *fixture, admin service.Actor, url, skill string) {
	t.Helper()
	ctx := context.Background()
	prov, model := "openai", "m"
	if _, err := f.svc.UpdateSettings(ctx, admin, service.SettingsPatch{EmbeddingProvider: &prov, EmbeddingURL: &url, EmbeddingModel: &model,
		LLMReviewURL: &url, LLMReviewModel: &model}); err != nil {
		t.Fatal(err)
	}
	f.publish(t, admin, skillFiles(skill, "Does "+skill+" things. Use for "+skill+".", "Body."), "tenant")
	f.svc.EmbedDue(ctx)
	f.svc.Wait()
}

// TestOperatorKeyOnlyToOperatorEndpoint: the operator's embedding and LLM
// keys go to the operator's endpoints (however the tenant spells the
// URL) and never to a URL a tenant chose; a tenant's own key goes to its
// own endpoint.
func TestOperatorKeyOnlyToOperatorEndpoint(t *testing.T) {
	operator, tenantOwn := newProvider(t, 0), newProvider(t, 0)
	box, _ := secrets.New(bytes.Repeat([]byte{1}, secrets.KeySize))
	f := loopbackFixture(t, service.Options{
		Embed:   service.EmbedConfig{URLs: []string{operator.URL + "/v1"}, APIKey: "sk-operator-embed"},
		LLM:     service.LLMConfig{URLs: []string{operator.URL}, APIKey: "sk-operator-llm"},
		Secrets: box,
	})
	admin, _ := f.tenant(t, "acme")

	useProviders(t, f, admin, tenantOwn.URL, "first-skill")
	got := tenantOwn.seen()
	if len(got) < 2 {
		t.Fatalf("the tenant's provider got %d requests, want embeddings and a review", len(got))
	}
	for _, h := range got {
		if h != "" {
			t.Errorf("a tenant-chosen URL received Authorization %q", h)
		}
	}

	useProviders(t, f, admin, strings.ToUpper(operator.URL[:4])+operator.URL[4:]+"/", "second-skill")
	got = operator.seen()
	want := map[string]bool{"Bearer sk-operator-embed": true, "Bearer sk-operator-llm": true}
	for _, h := range got {
		delete(want, h)
	}
	if len(want) != 0 {
		t.Errorf("the operator's endpoint got %q, missing %v", got, want)
	}

	// A tenant's own key is given with its endpoint (a key left behind
	// when the URL moves is dropped: TestProviderKeyStaysWithItsURL).
	own, ownURL := "sk-tenant-own-key", tenantOwn.URL
	if _, err := f.svc.UpdateSettings(context.Background(), admin, service.SettingsPatch{EmbeddingURL: &ownURL, LLMReviewURL: &ownURL,
		EmbeddingAPIKey: &own, LLMAPIKey: &own}); err != nil {
		t.Fatal(err)
	}
	useProviders(t, f, admin, tenantOwn.URL, "third-skill")
	got = tenantOwn.seen()
	if len(got) < 2 {
		t.Fatalf("the tenant's provider got %d requests", len(got))
	}
	for _, h := range got {
		if h != "Bearer "+own {
			t.Errorf("with its own key, the tenant's provider got Authorization %q", h)
		}
	}
}

// TestTenantKeyIsSealed: a tenant's own key is stored sealed (the column
// holds no plaintext), bound to its tenant (copied to another tenant's
// row it does not open, and that tenant's provider never gets it), can
// be cleared, and is refused with a clear message when the server has no
// secret key.
func TestTenantKeyIsSealed(t *testing.T) {
	ctx := context.Background()
	box, _ := secrets.New(bytes.Repeat([]byte{2}, secrets.KeySize))
	f := loopbackFixture(t, service.Options{Secrets: box})
	a, _ := f.tenant(t, "acme")
	b, _ := f.tenant(t, "globex")
	const secret = "sk-acme-secret-31337"
	key := secret
	st, err := f.svc.UpdateSettings(ctx, a, service.SettingsPatch{EmbeddingAPIKey: &key})
	if err != nil || !st.EmbeddingAPIKeySet || st.LLMAPIKeySet {
		t.Fatalf("set: %+v %v", st, err)
	}
	if out, _ := json.Marshal(st); bytes.Contains(out, []byte(secret)) {
		t.Fatalf("the settings answer shows the key: %s", out)
	}

	su := dbtest.Connect(t, f.env.AdminURL)
	var sealed []byte
	if err := su.QueryRow(ctx, "SELECT embedding_api_key_sealed FROM site_settings WHERE tenant_id = $1", a.TenantID).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if len(sealed) == 0 || bytes.Contains(sealed, []byte(secret)) {
		t.Fatalf("stored column %q holds no key or the plaintext", sealed)
	}
	if got, err := box.Open(a.TenantID, "embedding_api_key", sealed); err != nil || got != secret {
		t.Fatalf("open as acme: %q %v", got, err)
	}
	if _, err := box.Open(b.TenantID, "embedding_api_key", sealed); err == nil {
		t.Fatal("acme's sealed key opens under globex's id")
	}
	var audit string
	if err := su.QueryRow(ctx, "SELECT string_agg(details::text, ' ') FROM audit_logs").Scan(&audit); err != nil || strings.Contains(audit, secret) ||
		!strings.Contains(audit, `"embedding_api_key": {"new": "set", "old": "unset"}`) {
		t.Fatalf("audit %s (%v): want the key recorded as set, never its value", audit, err)
	}

	// Copied into globex's row, the key does not open: globex's provider
	// is called without it, and the failure says why.
	p := newProvider(t, 0)
	prov, url, model := "openai", p.URL, "m"
	if _, err := f.svc.UpdateSettings(ctx, b, service.SettingsPatch{EmbeddingProvider: &prov, EmbeddingURL: &url, EmbeddingModel: &model}); err != nil {
		t.Fatal(err)
	}
	if _, err := su.Exec(ctx, "UPDATE site_settings SET embedding_api_key_sealed = $1 WHERE tenant_id = $2", sealed, b.TenantID); err != nil {
		t.Fatal(err)
	}
	f.publish(t, b, skillFiles("globex-skill", "Does globex things. Use for globex.", "Body."), "tenant")
	f.svc.EmbedDue(ctx)
	for _, h := range p.seen() {
		if strings.Contains(h, secret) {
			t.Fatalf("globex's provider received acme's key")
		}
	}
	es, err := f.svc.EmbeddingState(ctx, b, "globex-skill")
	if err != nil || es.State != "failed" || !strings.Contains(es.LastError, "cannot be decrypted") {
		t.Fatalf("globex with a copied key: %+v %v", es, err)
	}

	empty := ""
	if st, err := f.svc.UpdateSettings(ctx, a, service.SettingsPatch{EmbeddingAPIKey: &empty}); err != nil || st.EmbeddingAPIKeySet {
		t.Fatalf("clear: %+v %v", st, err)
	}
	if err := su.QueryRow(ctx, "SELECT embedding_api_key_sealed FROM site_settings WHERE tenant_id = $1", a.TenantID).Scan(&sealed); err != nil || sealed != nil {
		t.Fatalf("after clearing the column holds %x (%v)", sealed, err)
	}

	// Without a secret key the server refuses to store one, and says what
	// the operator must configure.
	plain := service.New(f.env.DB, service.Options{})
	_, err = plain.UpdateSettings(ctx, a, service.SettingsPatch{LLMAPIKey: &key})
	if service.KindOf(err) != service.Invalid || !strings.Contains(err.Error(), "SKILLVAULT_SECRET_KEY") {
		t.Fatalf("without a secret key: %v", err)
	}
	if st, _ := plain.Settings(ctx, a); st.LLMAPIKeySet {
		t.Fatal("a refused key was stored")
	}
	bad := "has space"
	if _, err := f.svc.UpdateSettings(ctx, a, service.SettingsPatch{LLMAPIKey: &bad}); service.KindOf(err) != service.Invalid {
		t.Fatalf("a key with a space: %v", err)
	}
}
