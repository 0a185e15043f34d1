package main

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/service"
)

func init() {
	register("gc", "free file bytes that no version references, in every tenant or one", gc)
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

func gc(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "gc", "[--tenant SLUG]", "  skillvault gc\n  skillvault gc --tenant acme")
	slug := fs.String("tenant", "", "only this tenant (default: every tenant)")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	t, err := resolve(ctx, e)
	if err != nil {
		return fail(e, "%v", err)
	}
	o, err := t.owner(ctx)
	if err != nil {
		return fail(e, "%v", err)
	}
	ts, err := o.ListTenants(ctx)
	o.Close()
	if err != nil {
		return fail(e, "%v", err)
	}
	db, err := database.Open(ctx, t.appURL, database.Options{MaxConns: 1})
	if err != nil {
		return fail(e, "%v", err)
	}
	defer db.Close()
	svc := service.New(db, service.Options{Logger: e.log})
	found := false
	for _, tn := range ts {
		if *slug != "" && tn.Slug != *slug {
			continue
		}
		found = true
		// Each tenant is swept in its own scope, and audited there.
		c, err := svc.CollectGarbage(ctx, service.System(tn.ID))
		if err != nil {
			return fail(e, "tenant %s: %v", tn.Slug, err)
		}
		fmt.Fprintf(e.stdout, "%s\t%d blobs\t%s freed\n", tn.Slug, c.Blobs, service.FormatBytes(c.Bytes))
	}
	if !found {
		return fail(e, "tenant %q: %v (see `skillvault tenant list`)", *slug, database.ErrNotFound)
	}
	return exitOK
}
