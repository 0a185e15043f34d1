package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/store"
)

func init() {
	register("user create", "add a user to a tenant", userCreate)
	register("key create", "create an API key for a user and print it", keyCreate)
}

// tenantService opens the app pool and a system actor for a tenant slug.
func tenantService(ctx context.Context, e *env, slug string) (*service.Service, service.Actor, func(), error) {
	t, err := resolve(ctx, e, false)
	if err != nil {
		return nil, service.Actor{}, nil, err
	}
	o, err := t.owner(ctx)
	if err != nil {
		return nil, service.Actor{}, nil, err
	}
	tn, err := o.TenantBySlug(ctx, slug)
	o.Close()
	if err != nil {
		return nil, service.Actor{}, nil, err
	}
	svc, done, err := openService(ctx, e, t, 2, service.Options{})
	if err != nil {
		return nil, service.Actor{}, nil, err
	}
	sys := service.System(tn.ID)
	if err := svc.EnsureTenant(ctx, sys); err != nil {
		done()
		return nil, sys, nil, err
	}
	return svc, sys, done, nil
}

func userCreate(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "user create", "--tenant SLUG --email EMAIL [--name NAME] [--role admin|member]",
		"  skillvault user create --tenant acme --email ann@acme.com --name Ann --role admin")
	slug := fs.String("tenant", "", "tenant slug (required)")
	email := fs.String("email", "", "email address (required)")
	name := fs.String("name", "", "display name")
	role := fs.String("role", "member", "admin or member")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	if !required(e, fs, "tenant", "email") {
		return exitUsage
	}
	svc, sys, done, err := tenantService(ctx, e, *slug)
	if err != nil {
		return fail(e, "%v", err)
	}
	defer done()
	u, err := svc.CreateUser(ctx, sys, service.NewUser{Email: *email, Name: *name, Role: *role})
	if err != nil {
		return fail(e, "%v", err)
	}
	fmt.Fprintln(e.stdout, u.ID)
	fmt.Fprintf(e.stderr, "created %s %s in %s; next: skillvault key create --tenant %s --user %s\n", u.Role, u.Email, *slug, *slug, u.Email)
	return exitOK
}

func keyCreate(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "key create", "--tenant SLUG --user EMAIL [--name NAME] [--scopes read,write] [--expires-days N]",
		"  skillvault key create --tenant acme --user ann@acme.com --name laptop --scopes read,write")
	slug := fs.String("tenant", "", "tenant slug (required)")
	email := fs.String("user", "", "email of the key's user (required)")
	name := fs.String("name", "", "a name to recognise the key by")
	scopes := fs.String("scopes", "read", "comma-separated: read, write, admin (admin only for admins)")
	days := fs.Int("expires-days", -1, "days until the key expires; 0 never; default: the tenant's key_expiry_days")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	if !required(e, fs, "tenant", "user") {
		return exitUsage
	}
	svc, sys, u, done, err := tenantUser(ctx, e, *slug, *email)
	if err != nil {
		return fail(e, "%v", err)
	}
	defer done()
	nk := service.NewKey{Name: *name, Scopes: strings.Split(*scopes, ",")}
	if *days >= 0 {
		nk.ExpiresInDays = days
	}
	k, err := svc.CreateKey(ctx, sys, u.ID, nk)
	if err != nil {
		return fail(e, "%v", err)
	}
	fmt.Fprintln(e.stdout, k.Secret)
	fmt.Fprintf(e.stderr, "created key %s for %s with scopes %s; it is shown only once\n", k.Prefix, u.Email, strings.Join(k.Scopes, ","))
	return exitOK
}

// tenantUser is tenantService plus a user of that tenant found by email.
func tenantUser(ctx context.Context, e *env, slug, email string) (*service.Service, service.Actor, store.User, func(), error) {
	svc, sys, done, err := tenantService(ctx, e, slug)
	if err != nil {
		return nil, sys, store.User{}, nil, err
	}
	u, err := svc.UserByEmail(ctx, sys, email)
	if err != nil {
		done()
		return nil, sys, u, nil, err
	}
	return svc, sys, u, done, nil
}
