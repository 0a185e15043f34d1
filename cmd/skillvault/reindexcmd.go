package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/service"
)

func init() {
	register("reindex", "recompute search vectors (all tenants, or --tenant SLUG)", reindex)
}

func reindex(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "reindex", "[--tenant SLUG]", "  skillvault reindex --tenant acme")
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
	tenants, err := o.ListTenants(ctx)
	o.Close()
	if err != nil {
		return fail(e, "%v", err)
	}
	db, err := database.Open(ctx, t.appURL, database.Options{MaxConns: 4})
	if err != nil {
		return fail(e, "%v", err)
	}
	defer db.Close()
	svc := service.New(db, service.Options{Logger: e.log, Embed: service.EmbedConfig{OpenAIKey: e.getenv("SKILLVAULT_EMBEDDING_API_KEY")}})
	found, failed := false, 0
	for _, tn := range tenants {
		if *slug != "" && tn.Slug != *slug {
			continue
		}
		found = true
		err := svc.Reindex(ctx, service.System(tn.ID), func(done, total int) {
			fmt.Fprintf(e.stderr, "\r%-20s %s %d/%d", tn.Slug, bar(done, total, 30), done, total)
		})
		fmt.Fprintln(e.stderr)
		if err != nil {
			failed++
			fmt.Fprintf(e.stderr, "skillvault: %s: %v\n", tn.Slug, err)
		}
	}
	if !found {
		return fail(e, "no tenant %q (see skillvault tenant list)", *slug)
	}
	if failed > 0 {
		return exitFail
	}
	fmt.Fprintln(e.stdout, "reindex done")
	return exitOK
}

// bar draws a progress bar.
func bar(done, total, width int) string {
	if total == 0 {
		return "[" + strings.Repeat("=", width) + "]"
	}
	n := done * width / total
	return "[" + strings.Repeat("=", n) + strings.Repeat(" ", width-n) + "]"
}
