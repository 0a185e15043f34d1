package main

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/service"
)

func init() {
	register("gc", "free file bytes that no version references (all tenants, or --tenant SLUG)", gc)
}

// tenantIDs lists every tenant, as the owner (the app role sees only the
// tenant of its scope).
func tenantIDs(ctx context.Context, t *target) ([]uuid.UUID, error) {
	o, err := t.owner(ctx)
	if err != nil {
		return nil, err
	}
	defer o.Close()
	ts, err := o.ListTenants(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]uuid.UUID, len(ts))
	for i, tn := range ts {
		ids[i] = tn.ID
	}
	return ids, nil
}

// resolveOwner resolves the database and opens an owner connection.
func resolveOwner(ctx context.Context, e *env) (*target, *database.Owner, error) {
	t, err := resolve(ctx, e, false)
	if err != nil {
		return nil, nil, err
	}
	o, err := t.owner(ctx)
	return t, o, err
}

// openService opens the app pool and a service over it with the
// environment's default quotas.
func openService(ctx context.Context, e *env, t *target, maxConns int32, opt service.Options) (*service.Service, func(), error) {
	quotas, err := envQuotas(e)
	if err != nil {
		return nil, nil, err
	}
	db, err := database.Open(ctx, t.appURL, database.Options{MaxConns: maxConns})
	if err != nil {
		return nil, nil, err
	}
	opt.Logger, opt.Quotas = e.log, quotas
	return service.New(db, opt), db.Close, nil
}

// forTenants runs fn for every tenant, or only the one named slug: the
// owner lists the tenants, and fn works in each one's own scope through
// the app role. With providers the service calls the embedding and LLM
// providers as serve does. A failure is reported and the others still run.
func forTenants(ctx context.Context, e *env, slug string, providers bool, fn func(*service.Service, database.Tenant) error) int {
	t, o, err := resolveOwner(ctx, e)
	if err != nil {
		return fail(e, "%v", err)
	}
	var opt service.Options
	if providers {
		if opt, err = providerOptions(e, t); err != nil {
			o.Close()
			return fail(e, "%v", err)
		}
	}
	tenants, err := o.ListTenants(ctx)
	o.Close()
	if err != nil {
		return fail(e, "%v", err)
	}
	svc, done, err := openService(ctx, e, t, 4, opt)
	if err != nil {
		return fail(e, "%v", err)
	}
	defer done()
	found, failed := false, 0
	for _, tn := range tenants {
		if slug != "" && tn.Slug != slug {
			continue
		}
		found = true
		if err := fn(svc, tn); err != nil {
			failed++
			fmt.Fprintf(e.stderr, "skillvault: %s: %v\n", tn.Slug, err)
		}
	}
	if !found {
		return fail(e, "no tenant %q (see skillvault tenant list)", slug)
	}
	if failed > 0 {
		return exitFail
	}
	return exitOK
}

func gc(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "gc", "[--tenant SLUG]", "  skillvault gc\n  skillvault gc --tenant acme")
	slug := fs.String("tenant", "", "only this tenant (default: every tenant)")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	return forTenants(ctx, e, *slug, false, func(svc *service.Service, tn database.Tenant) error {
		// Audited in the tenant's own log.
		c, err := svc.CollectGarbage(ctx, service.System(tn.ID))
		if err == nil {
			fmt.Fprintf(e.stdout, "%s\t%d blobs\t%s freed\n", tn.Slug, c.Blobs, service.FormatBytes(c.Bytes))
		}
		return err
	})
}
