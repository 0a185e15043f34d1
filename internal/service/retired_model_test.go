package service_test

import (
	"context"
	"testing"

	"github.com/skillvault/skillvault/internal/dbtest"
	"github.com/skillvault/skillvault/internal/embed"
	"github.com/skillvault/skillvault/internal/schema"
	"github.com/skillvault/skillvault/internal/service"
)

// TestRetiredBuiltinVectorsAreRequeued: after an upgrade that changes the
// builtin embedder, migrate queues the old model's vectors again and the
// worker re-embeds them, so semantic search finds the skill without a
// manual reindex.
func TestRetiredBuiltinVectorsAreRequeued(t *testing.T) {
	f := newFixture(t)
	admin, _ := f.tenant(t, "acme")
	ctx := context.Background()
	f.publish(t, admin, skillFiles("csv-cleaner", "Cleans messy CSV exports. Use when a spreadsheet export has broken dates.", "## Steps\n\nFix the dates."), "tenant")
	f.svc.EmbedDue(ctx)
	su := dbtest.Connect(t, f.env.AdminURL)
	// What a database embedded by the previous builtin model looks like.
	if _, err := su.Exec(ctx, "UPDATE skill_embeddings SET model = 'builtin'"); err != nil {
		t.Fatal(err)
	}
	if err := schema.Migrate(ctx, f.env.AdminURL, schema.Passwords{}, nil); err != nil {
		t.Fatal(err)
	}
	var state string
	if err := su.QueryRow(ctx, "SELECT state FROM skill_embeddings").Scan(&state); err != nil || state != "pending" {
		t.Fatalf("after migrate the old vector is %q (%v), want pending", state, err)
	}
	if n := f.svc.EmbedDue(ctx); n != 1 {
		t.Fatalf("the worker embedded %d skills, want 1", n)
	}
	var model string
	if err := su.QueryRow(ctx, "SELECT model || '/' || state FROM skill_embeddings").Scan(&model); err != nil || model != embed.BuiltinModel+"/ready" {
		t.Fatalf("after the worker: %q (%v), want %s/ready", model, err, embed.BuiltinModel)
	}
	hits, err := f.svc.Search(ctx, admin, service.SearchQuery{Text: "fix broken dates in a spreadsheet export", Mode: "semantic"})
	if err != nil || len(hits) == 0 || hits[0].Name != "csv-cleaner" {
		t.Fatalf("semantic search after the upgrade: %v %v", hits, err)
	}
}
