package embed_test

import (
	"cmp"
	"context"
	"slices"
	"testing"

	"github.com/skillvault/skillvault/internal/embed"
	"github.com/skillvault/skillvault/internal/embed/embedtest"
)

// TestRelevance measures how well the builtin embedder finds the skill a
// plain-language need asks for, over the real corpus plus the project's
// fixtures as distractors.
func TestRelevance(t *testing.T) {
	corpus := embedtest.Corpus(t)
	skills := embedtest.RelevanceSet(t)
	names := make(map[string]bool)
	inCorpus := make(map[string]bool)
	for _, s := range skills {
		names[s.Frontmatter.Name] = true
	}
	for _, s := range corpus {
		inCorpus[s.Frontmatter.Name] = true
	}
	var queries []embedtest.Query
	for _, q := range embedtest.Queries {
		if names[q.Want] {
			queries = append(queries, q)
		} else {
			t.Logf("corpus lacks %q; query %q left out", q.Want, q.Query)
		}
	}
	if len(queries) < 60 || len(skills) < 80 {
		t.Fatalf("the relevance set has %d queries over %d skills; want at least 60 over 80", len(queries), len(skills))
	}
	t.Logf("%d skills (%d from the corpus), %d queries", len(skills), len(corpus), len(queries))

	e := embed.NewBuiltin()
	ctx := context.Background()
	docs := make([]string, len(skills))
	for i, s := range skills {
		docs[i] = s.Text()
	}
	docVecs, err := e.Embed(ctx, docs)
	if err != nil {
		t.Fatal(err)
	}
	texts := make([]string, len(queries))
	for i, q := range queries {
		texts[i] = q.Query
	}
	qVecs, err := e.Embed(ctx, texts)
	if err != nil {
		t.Fatal(err)
	}

	rankings := make([][]string, len(queries))
	for i, qv := range qVecs {
		type hit struct {
			name  string
			score float32
		}
		hits := make([]hit, len(skills))
		for j, dv := range docVecs {
			hits[j] = hit{skills[j].Frontmatter.Name, embed.Cosine(qv, dv)}
		}
		slices.SortStableFunc(hits, func(a, b hit) int {
			if c := cmp.Compare(b.score, a.score); c != 0 {
				return c
			}
			return cmp.Compare(a.name, b.name)
		})
		for _, h := range hits {
			rankings[i] = append(rankings[i], h.name)
		}
		if rankings[i][0] != queries[i].Want {
			t.Logf("miss@1 %-60q want %-17s got %s (%.3f), %s (%.3f), %s (%.3f)", queries[i].Query, queries[i].Want,
				hits[0].name, hits[0].score, hits[1].name, hits[1].score, hits[2].name, hits[2].score)
		}
	}
	// Report the queries aimed at the real corpus on their own too: they
	// are the ones nobody on the project wrote the targets of.
	var cq []embedtest.Query
	var cr [][]string
	for i, q := range queries {
		if inCorpus[q.Want] {
			cq = append(cq, q)
			cr = append(cr, rankings[i])
		}
	}
	t.Logf("builtin, corpus queries (%d): recall@1 = %.2f, recall@3 = %.2f", len(cq), embedtest.Recall(cq, cr, 1), embedtest.Recall(cq, cr, 3))
	r1 := embedtest.Recall(queries, rankings, 1)
	r3 := embedtest.Recall(queries, rankings, 3)
	t.Logf("builtin, all queries (%d): recall@1 = %.2f, recall@3 = %.2f, MRR = %.3f", len(queries), r1, r3, embedtest.MRR(queries, rankings))
	if r3 < 0.8 {
		t.Errorf("recall@3 = %.2f, want ≥ 0.80", r3)
	}
}
