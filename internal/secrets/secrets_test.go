package secrets

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
)

func box(t *testing.T, key []byte) *Box {
	t.Helper()
	b, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSealBindsTenantAndPurpose: a sealed key opens only for its tenant
// and purpose, under its key, and holds no plaintext.
func TestSealBindsTenantAndPurpose(t *testing.T) {
	b := box(t, bytes.Repeat([]byte{7}, KeySize))
	a, other := uuid.New(), uuid.New()
	const secret = "sk-tenant-secret-0001"
	sealed := b.Seal(a, "embedding_api_key", secret)
	if bytes.Contains(sealed, []byte(secret)) {
		t.Fatal("sealed value contains the plaintext")
	}
	if again := b.Seal(a, "embedding_api_key", secret); bytes.Equal(again, sealed) {
		t.Error("two seals of one value are equal: the nonce is not fresh")
	}
	if got, err := b.Open(a, "embedding_api_key", sealed); err != nil || got != secret {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := b.Open(other, "embedding_api_key", sealed); err != ErrOpen {
		t.Errorf("opened under another tenant: %v", err)
	}
	if _, err := b.Open(a, "llm_api_key", sealed); err != ErrOpen {
		t.Errorf("opened for another purpose: %v", err)
	}
	if _, err := box(t, bytes.Repeat([]byte{8}, KeySize)).Open(a, "embedding_api_key", sealed); err != ErrOpen {
		t.Errorf("opened under another key: %v", err)
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	for _, bad := range [][]byte{tampered, sealed[:5], nil} {
		if _, err := b.Open(a, "embedding_api_key", bad); err != ErrOpen {
			t.Errorf("opened %x: %v", bad, err)
		}
	}
}

func TestParseKey(t *testing.T) {
	key := bytes.Repeat([]byte{0xfb}, KeySize)
	for _, s := range []string{base64.StdEncoding.EncodeToString(key), base64.RawURLEncoding.EncodeToString(key) + "\n"} {
		if got, err := ParseKey(s); err != nil || !bytes.Equal(got, key) {
			t.Errorf("ParseKey(%q) = %x, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "not base64!", base64.StdEncoding.EncodeToString(key[:16])} {
		if _, err := ParseKey(s); err == nil {
			t.Errorf("ParseKey(%q) accepted", s)
		}
	}
}

// TestLoadOrCreateKey: the first call makes a private key file, later
// calls read the same key.
func TestLoadOrCreateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "home", "secret.key")
	k1, err := LoadOrCreateKey(path)
	if err != nil || len(k1) != KeySize {
		t.Fatalf("create: %x %v", k1, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	k2, err := LoadOrCreateKey(path)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("reload gave another key: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("left files behind: %v", entries)
	}
}
