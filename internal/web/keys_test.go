package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestNewKeyAdvice: the page that shows a new key suggests the stdin form
// of skillvault login, never --key, which leaves the key in the shell's
// history and the process list (the CLI's own help warns against it).
func TestNewKeyAdvice(t *testing.T) {
	e := start(t)
	tn := e.tenant("acme")
	b := e.client()
	b.signIn(e.loginLink(tn, tn.Member))
	p := b.do("POST", "/me/keys", url.Values{"name": {"laptop"}, "csrf": {b.csrf()}, "scopes": {"read"}})
	if p.Status != http.StatusCreated {
		t.Fatalf("create key: %d %s", p.Status, p.Body)
	}
	if strings.Contains(p.Body, "--key") {
		t.Errorf("the new-key page suggests --key")
	}
	if !strings.Contains(p.Body, "skillvault login --server") || !strings.Contains(p.Body, "standard input") {
		t.Errorf("the new-key page does not show the stdin form of skillvault login")
	}
}
