package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/skillvault/skillvault/internal/database"
)

func init() {
	register("tenant create", "create a tenant (runs as the owner role)", tenantCreate)
	register("tenant list", "list tenants", tenantList)
}

func tenantCreate(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "tenant create", "--slug SLUG --name NAME [--domain EMAIL-DOMAIN] [--vanity HOST]",
		"  skillvault tenant create --slug acme --name \"Acme Inc\" --domain acme.com")
	slug := fs.String("slug", "", "short name, used as subdomain (required)")
	name := fs.String("name", "", "display name (default: the slug)")
	domain := fs.String("domain", "", "email domain whose users sign in to this tenant")
	vanity := fs.String("vanity", "", "vanity host name that serves this tenant")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	if !required(e, fs, "slug") {
		return exitUsage
	}
	return withOwner(ctx, e, func(o *database.Owner) int {
		tn, err := o.CreateTenant(ctx, database.NewTenant{Slug: *slug, Name: *name, EmailDomain: *domain, VanityDomain: *vanity})
		if err != nil {
			return fail(e, "%v", err)
		}
		fmt.Fprintln(e.stdout, tn.ID)
		fmt.Fprintf(e.stderr, "created tenant %s; next: skillvault user create --tenant %s --email you@example.com --role admin\n", tn.Slug, tn.Slug)
		return exitOK
	})
}

func tenantList(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "tenant list", "[--json]", "")
	asJSON := fs.Bool("json", false, "print JSON")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	return withOwner(ctx, e, func(o *database.Owner) int {
		ts, err := o.ListTenants(ctx)
		if err != nil {
			return fail(e, "%v", err)
		}
		if *asJSON {
			json.NewEncoder(e.stdout).Encode(ts)
			return exitOK
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SLUG\tNAME\tID\tEMAIL DOMAIN\tVANITY DOMAIN")
		for _, x := range ts {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", x.Slug, x.Name, x.ID, x.EmailDomain, x.VanityDomain)
		}
		tw.Flush()
		return exitOK
	})
}
