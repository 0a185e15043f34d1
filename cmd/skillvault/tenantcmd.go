package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/service"
)

func init() {
	register("tenant create", "create a tenant (runs as the owner role)", tenantCreate)
	register("tenant list", "list tenants", tenantList)
	register("tenant quota", "show or set a tenant's quotas (runs as the owner role)", tenantQuota)
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
		fmt.Fprintln(tw, "SLUG\tNAME\tID\tEMAIL DOMAIN\tVANITY DOMAIN\tQUOTA OVERRIDES")
		for _, x := range ts {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", x.Slug, x.Name, x.ID, x.EmailDomain, x.VanityDomain, overrideSummary(x.Quotas))
		}
		tw.Flush()
		return exitOK
	})
}

// quotaDefault is one of the default quotas of every tenant.
type quotaDefault struct {
	name, env, value, help string
}

// quotaDefaults are the server's default quotas. serve takes them as flags
// (each defaulting to its environment variable); the operator's other
// commands read the environment, so `key create` counts as serve does.
var quotaDefaults = []quotaDefault{
	{service.QuotaBytes, "SKILLVAULT_QUOTA_BYTES", "1GiB", "stored bytes per tenant (e.g. 500MB, 5GiB)"},
	{service.QuotaSkills, "SKILLVAULT_QUOTA_SKILLS", "1000", "skills per tenant"},
	{service.QuotaVersions, "SKILLVAULT_QUOTA_VERSIONS", "100", "versions per skill"},
	{service.QuotaKeysPerUser, "SKILLVAULT_QUOTA_KEYS_PER_USER", "20", "working API keys per user"},
}

// quotaFlags adds serve's --quota-* flags.
func quotaFlags(fs *flag.FlagSet, e *env) map[string]*string {
	out := map[string]*string{}
	for _, d := range quotaDefaults {
		out[d.name] = fs.String("quota-"+strings.ReplaceAll(d.name, "_", "-"), envOr(e, d.env, d.value),
			"default quota: "+d.help+"; 0 or unlimited for none (env "+d.env+"; per tenant: skillvault tenant quota)")
	}
	return out
}

// envQuotas are the default quotas from the environment.
func envQuotas(e *env) (service.Quotas, error) {
	vals := map[string]*string{}
	for _, d := range quotaDefaults {
		v := envOr(e, d.env, d.value)
		vals[d.name] = &v
	}
	return parseQuotas(vals)
}

func parseQuotas(vals map[string]*string) (service.Quotas, error) {
	var q service.Quotas
	dst := map[string]*int64{service.QuotaBytes: &q.Bytes, service.QuotaSkills: &q.Skills,
		service.QuotaVersions: &q.Versions, service.QuotaKeysPerUser: &q.KeysPerUser}
	for name, v := range vals {
		n, err := service.ParseQuota(name, *v)
		if err != nil {
			return q, err
		}
		*dst[name] = n
	}
	return q, nil
}

func overrideSummary(q database.Quotas) string {
	var parts []string
	for _, o := range []struct {
		name string
		v    *int64
	}{{service.QuotaBytes, q.Bytes}, {service.QuotaSkills, q.Skills}, {service.QuotaVersions, q.Versions}, {service.QuotaKeysPerUser, q.KeysPerUser}} {
		if o.v != nil {
			parts = append(parts, o.name+"="+quotaText(o.name, *o.v))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ",")
}

func quotaText(name string, n int64) string {
	switch {
	case n == 0:
		return "unlimited"
	case name == service.QuotaBytes:
		return service.FormatBytes(n)
	}
	return strconv.FormatInt(n, 10)
}

func tenantQuota(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "tenant quota", "--slug SLUG [--bytes SIZE] [--skills N] [--versions N] [--keys-per-user N]",
		`  skillvault tenant quota --slug acme
  skillvault tenant quota --slug acme --bytes 5GiB --skills 500
  skillvault tenant quota --slug acme --versions unlimited --keys-per-user default`)
	slug := fs.String("slug", "", "tenant slug (required)")
	vals := map[string]*string{}
	for _, d := range quotaDefaults {
		vals[d.name] = fs.String(strings.ReplaceAll(d.name, "_", "-"), "", d.help+": a value, 0 or unlimited for none, default for the server's default")
	}
	if ok, code := parse(fs, args); !ok {
		return code
	}
	if !required(e, fs, "slug") {
		return exitUsage
	}
	set := map[string]*int64{}
	for name, v := range vals {
		switch strings.TrimSpace(*v) {
		case "":
		case "default":
			set[name] = nil
		default:
			n, err := service.ParseQuota(name, *v)
			if err != nil {
				return fail(e, "%v", err)
			}
			set[name] = &n
		}
	}
	t, o, err := resolveOwner(ctx, e)
	if err != nil {
		return fail(e, "%v", err)
	}
	tn, err := o.SetQuotas(ctx, *slug, set)
	o.Close()
	if err != nil {
		return fail(e, "%v", err)
	}
	return printQuotas(ctx, e, t, tn)
}

// printQuotas shows each quota of a tenant: the limit that applies, where
// it comes from, and the tenant's usage of the tenant-wide ones (read in
// the tenant's own scope as the app role: the owner cannot see its rows).
func printQuotas(ctx context.Context, e *env, t *target, tn database.Tenant) int {
	svc, done, err := openService(ctx, e, t, 1, service.Options{})
	if err != nil {
		return fail(e, "%v", err)
	}
	defer done()
	r, err := svc.QuotaUsage(ctx, service.System(tn.ID))
	if err != nil {
		return fail(e, "%v", err)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "QUOTA\tLIMIT\tFROM\tUSED")
	for _, row := range []struct {
		name     string
		limit    int64
		override *int64
		used     string
	}{
		{service.QuotaBytes, r.Limits.Bytes, tn.Quotas.Bytes, service.FormatBytes(r.Bytes)},
		{service.QuotaSkills, r.Limits.Skills, tn.Quotas.Skills, strconv.FormatInt(r.Skills, 10)},
		{service.QuotaVersions, r.Limits.Versions, tn.Quotas.Versions, "(per skill)"},
		{service.QuotaKeysPerUser, r.Limits.KeysPerUser, tn.Quotas.KeysPerUser, "(per user)"},
	} {
		from := "default"
		if row.override != nil {
			from = "tenant"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", row.name, quotaText(row.name, row.limit), from, row.used)
	}
	tw.Flush()
	return exitOK
}
