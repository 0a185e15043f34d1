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
	code := forTenants(ctx, e, *slug, true, func(svc *service.Service, tn database.Tenant) error {
		err := svc.Reindex(ctx, service.System(tn.ID), func(done, total int) {
			fmt.Fprintf(e.stderr, "\r%-20s %s %d/%d", tn.Slug, bar(done, total, 30), done, total)
		})
		fmt.Fprintln(e.stderr)
		return err
	})
	if code == exitOK {
		fmt.Fprintln(e.stdout, "reindex done")
	}
	return code
}

// bar draws a progress bar.
func bar(done, total, width int) string {
	if total == 0 {
		return "[" + strings.Repeat("=", width) + "]"
	}
	n := done * width / total
	return "[" + strings.Repeat("=", n) + strings.Repeat(" ", width-n) + "]"
}
