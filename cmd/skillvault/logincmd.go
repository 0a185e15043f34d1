package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/skillvault/skillvault/internal/service"
)

func init() {
	register("user login-link", "print a one-time web sign-in link for a user", userLoginLink)
}

func userLoginLink(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "user login-link", "--tenant SLUG --email EMAIL [--base-url URL]",
		"  skillvault user login-link --tenant acme --email ann@acme.com\n  skillvault user login-link --tenant acme --email ann@acme.com --base-url https://acme.skills.example.com")
	slug := fs.String("tenant", "", "tenant slug (required)")
	email := fs.String("email", "", "email of the user (required)")
	base := fs.String("base-url", envOr(e, "SKILLVAULT_BASE_URL", "http://"+envOr(e, "SKILLVAULT_ADDR", "127.0.0.1:8080")),
		"the server's address as the user's browser reaches it (env SKILLVAULT_BASE_URL)")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	if !required(e, fs, "tenant", "email") {
		return exitUsage
	}
	svc, sys, u, done, err := tenantUser(ctx, e, *slug, *email)
	if err != nil {
		return fail(e, "%v", err)
	}
	defer done()
	path, err := svc.CreateLoginLink(ctx, sys, u.ID)
	if err != nil {
		return fail(e, "%v", err)
	}
	fmt.Fprintln(e.stdout, strings.TrimRight(*base, "/")+path)
	fmt.Fprintf(e.stderr, "one-time sign-in link for %s; it expires in %d minutes\n", u.Email, int(service.LoginLinkTTL.Minutes()))
	return exitOK
}
