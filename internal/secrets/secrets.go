// Package secrets seals the provider API keys tenants store (AES-256-GCM
// under a key from the operator's configuration), so that a copy of the
// database alone does not give them away.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"
)

// KeySize is the length of the operator's key: AES-256.
const KeySize = 32

// version leads every sealed value, so a later key or format can be told
// apart.
const version byte = 1

// Box seals and opens tenants' secrets.
type Box struct {
	aead cipher.AEAD
}

// New returns a Box for a 32-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secrets: the key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	return &Box{aead: aead}, nil
}

// ParseKey decodes a base64 key (standard or URL alphabet, padded or not),
// as in SKILLVAULT_SECRET_KEY.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(s); err == nil {
			if len(key) != KeySize {
				return nil, fmt.Errorf("secrets: the key is %d bytes, want %d (make one with: openssl rand -base64 32)", len(key), KeySize)
			}
			return key, nil
		}
	}
	return nil, errors.New("secrets: the key is not base64 (make one with: openssl rand -base64 32)")
}

// LoadOrCreateKey reads the base64 key in path, creating it (mode 0600)
// with a random key when there is none: the embedded deployment's default.
func LoadOrCreateKey(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		return ParseKey(string(data))
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	key := make([]byte, KeySize)
	rand.Read(key)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	// Write aside, then link into place: two processes starting at once
	// end up with the same key, and nobody reads half a file.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".secret-key-*")
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, fmt.Errorf("secrets: write %s: %w", path, werr)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, os.ErrExist) {
		return LoadOrCreateKey(path)
	} else if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	return key, nil
}

// additional binds a sealed value to its tenant and purpose: copied into
// another tenant's row, or another column, it does not open.
func additional(tenant uuid.UUID, purpose string) []byte {
	return []byte("skillvault:" + purpose + ":" + tenant.String())
}

// Seal encrypts plaintext for one tenant and purpose (e.g. "embedding_api_key").
func (b *Box) Seal(tenant uuid.UUID, purpose, plaintext string) []byte {
	nonce := make([]byte, b.aead.NonceSize())
	rand.Read(nonce)
	out := append([]byte{version}, nonce...)
	return b.aead.Seal(out, nonce, []byte(plaintext), additional(tenant, purpose))
}

// ErrOpen is returned for a sealed value that does not open: another
// key, tenant or purpose, or altered bytes.
var ErrOpen = errors.New("secrets: the stored key cannot be decrypted with this server's SKILLVAULT_SECRET_KEY; set it again")

// Open decrypts what Seal returned for the same tenant and purpose.
func (b *Box) Open(tenant uuid.UUID, purpose string, sealed []byte) (string, error) {
	n := b.aead.NonceSize()
	if len(sealed) < 1+n || sealed[0] != version {
		return "", ErrOpen
	}
	plain, err := b.aead.Open(nil, sealed[1:1+n], sealed[1+n:], additional(tenant, purpose))
	if err != nil {
		return "", ErrOpen
	}
	return string(plain), nil
}
