package main

import (
	"bytes"
	"encoding/base64"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/embedded"
)

// TestProviderOptions: serve's outbound configuration comes from the
// environment; the embedded deployment makes its secret key once (0600)
// and reuses it; bad values stop the server with the variable's name.
func TestProviderOptions(t *testing.T) {
	home := t.TempDir()
	vars := map[string]string{"SKILLVAULT_HOME": home, "SKILLVAULT_EMBEDDING_URL": "https://e.example/v1, https://e2.example",
		"SKILLVAULT_LLM_URL": "https://l.example", "SKILLVAULT_EMBEDDING_API_KEY": "ek", "SKILLVAULT_LLM_API_KEY": "lk",
		"SKILLVAULT_EGRESS_ALLOW": "127.0.0.1,10.0.0.0/8"}
	e := &env{getenv: func(k string) string { return vars[k] }, log: slog.New(slog.DiscardHandler)}
	emb := &target{emb: embedded.Open(home, true, nil)}
	opt, err := providerOptions(e, emb)
	if err != nil {
		t.Fatal(err)
	}
	if len(opt.Embed.URLs) != 2 || opt.Embed.APIKey != "ek" || len(opt.LLM.URLs) != 1 || opt.LLM.APIKey != "lk" || opt.Egress == nil || opt.Secrets == nil {
		t.Fatalf("options %+v", opt)
	}
	path := filepath.Join(home, "secret.key")
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("embedded secret key file: %v %v", fi, err)
	}
	sealed := opt.Secrets.Seal(uuid.Nil, "x", "v")
	again, err := providerOptions(e, emb)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := again.Secrets.Open(uuid.Nil, "x", sealed); err != nil || v != "v" {
		t.Fatalf("a restart does not reuse the key: %v", err)
	}

	// An external database needs SKILLVAULT_SECRET_KEY for tenants' keys.
	ext := &target{}
	if opt, err := providerOptions(e, ext); err != nil || opt.Secrets != nil {
		t.Fatalf("external without a key: %+v %v", opt.Secrets, err)
	}
	vars["SKILLVAULT_SECRET_KEY"] = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 32))
	if opt, err := providerOptions(e, ext); err != nil || opt.Secrets == nil {
		t.Fatalf("external with a key: %v", err)
	}
	for k, v := range map[string]string{"SKILLVAULT_SECRET_KEY": "short", "SKILLVAULT_EGRESS_ALLOW": "10.0.0.0/99"} {
		old := vars[k]
		vars[k] = v
		if _, err := providerOptions(e, ext); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: err %v, want one naming the variable", k, v, err)
		}
		vars[k] = old
	}
}
