package service

import (
	"testing"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/store"
)

// TestFusionKeepsStrongSingleListHit reproduces issue 19's case: a skill
// far ahead in the semantic list but absent from the keyword list, among
// ten skills both lists hold with middling scores. Plain RRF ranks it
// behind all ten; score-aware fusion keeps it first. Below the floor a
// candidate is a near miss, never a match, and no score is negative.
func TestFusionKeepsStrongSingleListHit(t *testing.T) {
	strong := uuid.New()
	semantic := []store.Ranked{{ID: strong, Score: 0.5}}
	var keyword []store.Ranked
	for i := range 10 {
		id := uuid.New()
		keyword = append(keyword, store.Ranked{ID: id, Score: 0.1 - float64(i)*0.005})
		semantic = append(semantic, store.Ranked{ID: id, Score: 0.15 - float64(i)*0.004})
	}
	place := func(list []scored) int {
		for i, c := range list {
			if c.id == strong {
				return i + 1
			}
		}
		return 0
	}
	matches, _ := combine(SearchQuery{Mode: "hybrid", rrf: true}, keyword, semantic, 0.10)
	if p := place(matches); p != 11 {
		t.Errorf("plain RRF placed the strong semantic hit #%d; the premise is #11", p)
	}
	matches, near := combine(SearchQuery{Mode: "hybrid"}, keyword, semantic, 0.10)
	if p := place(matches); p != 1 {
		t.Errorf("score-aware fusion placed the strong semantic hit #%d, want #1", p)
	}
	// Cosines 0.15 down to 0.114 pass the floor of 0.10; raise it above
	// them and only the strong hit matches, the rest become near misses.
	matches, near = combine(SearchQuery{Mode: "hybrid"}, keyword, semantic, 0.2)
	if len(matches) != 1 || matches[0].id != strong || len(near) != 10 {
		t.Errorf("floor 0.2: %d matches, %d near misses; want the strong hit alone and 10 near", len(matches), len(near))
	}
	negative := []store.Ranked{{ID: uuid.New(), Score: -0.05}}
	matches, near = combine(SearchQuery{Mode: "semantic"}, nil, negative, 0)
	if len(matches)+len(near) != 0 {
		t.Errorf("a negative cosine was kept: %v %v", matches, near)
	}
	for _, c := range append(matches, near...) {
		if c.score < 0 {
			t.Errorf("negative score %f", c.score)
		}
	}
}
