package web

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"strings"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/testserver"
)

// grant gives u of tn an OAuth grant (a registered client, approved and
// redeemed through the service) and returns its id, for the tests that
// enumerate routes with a grant id.
func (e *env) grant(tn *tenant, u testserver.User, role string) uuid.UUID {
	t := e.t
	t.Helper()
	ctx := context.Background()
	const cb = "http://127.0.0.1/cb"
	res := "http://" + tn.Slug + ".example.test/mcp"
	c, err := e.TS.Svc.RegisterClient(ctx, tn.ID, service.ClientRegistration{ClientName: "test", RedirectURIs: []string{cb}}, service.RequestMeta{})
	if err != nil {
		t.Fatal(err)
	}
	verifier := strings.Repeat("v", 43)
	sum := sha256.Sum256([]byte(verifier))
	req := service.AuthorizationRequest{ClientID: c.ClientID, RedirectURI: cb, Resource: res,
		CodeChallenge: base64.RawURLEncoding.EncodeToString(sum[:]), CodeChallengeMethod: "S256"}
	code, err := e.TS.Svc.IssueCode(ctx, tn.actor(u, role), req, []string{"read"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.TS.Svc.Token(ctx, service.TokenRequest{GrantType: "authorization_code", Code: code, RedirectURI: cb, ClientID: c.ClientID,
		CodeVerifier: verifier, HostResource: res}, service.RequestMeta{})
	if err != nil {
		t.Fatal(err)
	}
	grants, err := e.TS.Svc.ListGrants(ctx, tn.actor(u, role), false, 1)
	if err != nil || len(grants) != 1 {
		t.Fatalf("grant: %v %v", grants, err)
	}
	return grants[0].ID
}
