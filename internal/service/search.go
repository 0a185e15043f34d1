package service

import (
	"bytes"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/embed"
	"github.com/skillvault/skillvault/internal/store"
)

// vectorCache holds each tenant's ready vectors in memory for exact cosine
// ranking. An entry is valid while the tenant's embedding stamp (count and
// last change of ready vectors, read in the tenant's scope) is unchanged,
// so a vector written by another server process is seen at the next query.
type vectorCache struct {
	mu      sync.Mutex
	m       map[uuid.UUID]*tenantVectors
	loading map[uuid.UUID]*sync.Mutex
}

type tenantVectors struct {
	stamp, model string
	loaded       time.Time
	dims         int
	ids          []uuid.UUID
	flat         []float32 // len(ids) * dims
}

// vectorMaxAge bounds how long an entry is trusted on its stamp alone: a
// vector committed by another process with an older timestamp than one
// already seen would not move the stamp, and is picked up by the reload.
const vectorMaxAge = 30 * time.Second

// Bytes is the memory the entry's vectors take.
func (t *tenantVectors) Bytes() int { return len(t.flat)*4 + len(t.ids)*16 }

// CacheBytes reports the memory of every tenant's cached vectors.
func (s *Service) CacheBytes() int {
	s.vectors.mu.Lock()
	defer s.vectors.mu.Unlock()
	n := 0
	for _, t := range s.vectors.m {
		n += t.Bytes()
	}
	return n
}

// tenantVectors returns the tenant's current vectors of model, loading
// them when the stamp moved. The load runs in a system scope: visibility is
// applied to the ranked ids afterwards, in the caller's scope.
func (s *Service) tenantVectors(ctx context.Context, tenant uuid.UUID, model, stamp string) (*tenantVectors, error) {
	fresh := func(tv *tenantVectors) bool {
		return tv != nil && tv.stamp == stamp && tv.model == model && time.Since(tv.loaded) < vectorMaxAge
	}
	s.vectors.mu.Lock()
	if s.vectors.m == nil {
		s.vectors.m = map[uuid.UUID]*tenantVectors{}
		s.vectors.loading = map[uuid.UUID]*sync.Mutex{}
	}
	tv := s.vectors.m[tenant]
	load := s.vectors.loading[tenant]
	if load == nil {
		load = &sync.Mutex{}
		s.vectors.loading[tenant] = load
	}
	s.vectors.mu.Unlock()
	if fresh(tv) {
		return tv, nil
	}
	// One load per tenant at a time: concurrent searches that find the
	// entry stale wait for it instead of each reading every vector.
	load.Lock()
	defer load.Unlock()
	s.vectors.mu.Lock()
	tv = s.vectors.m[tenant]
	s.vectors.mu.Unlock()
	if fresh(tv) {
		return tv, nil
	}
	tv = &tenantVectors{stamp: stamp, model: model, loaded: time.Now()}
	err := s.db.Read(ctx, System(tenant).scope(), func(q database.Q) error {
		return store.EmbeddingVectors(ctx, q, model, func(id uuid.UUID, v []float32) {
			if tv.dims == 0 {
				tv.dims = len(v)
			}
			if len(v) != tv.dims {
				return // a stray vector of another size cannot be compared
			}
			tv.ids = append(tv.ids, id)
			tv.flat = append(tv.flat, v...)
		})
	})
	if err != nil {
		return nil, err
	}
	s.vectors.mu.Lock()
	s.vectors.m[tenant] = tv
	s.vectors.mu.Unlock()
	return tv, nil
}

// rank returns the n ids most similar to v, best first, among the allowed
// ones (all when allowed is nil) other than skip. Large tenants are scanned
// by several goroutines, each keeping its own top n in a heap.
func (t *tenantVectors) rank(v []float32, n int, skip uuid.UUID, allowed map[uuid.UUID]bool) []store.Ranked {
	if t.dims == 0 || len(v) != t.dims || n <= 0 {
		return nil
	}
	parts := 1
	if len(t.ids) >= 4000 {
		parts = runtime.GOMAXPROCS(0)
	}
	tops := make([]topK, parts)
	var wg sync.WaitGroup
	per := (len(t.ids) + parts - 1) / parts
	for p := range parts {
		lo, hi := p*per, min((p+1)*per, len(t.ids))
		wg.Add(1)
		go func() {
			defer wg.Done()
			top := topK{n: n}
			for i := lo; i < hi; i++ {
				if t.ids[i] == skip || (allowed != nil && !allowed[t.ids[i]]) {
					continue
				}
				top.offer(store.Ranked{ID: t.ids[i], Score: float64(dot(t.flat[i*t.dims:(i+1)*t.dims], v))})
			}
			tops[p] = top
		}()
	}
	wg.Wait()
	var all []store.Ranked
	for _, top := range tops {
		all = append(all, top.items...)
	}
	sort.Slice(all, func(i, j int) bool { return better(all[i], all[j]) })
	return all[:min(n, len(all))]
}

// better orders ranked ids: higher score first, then lower id. The order
// is total, so the top n of any set are always the same ids, whatever else
// the tenant holds.
func better(a, b store.Ranked) bool {
	if a.Score != b.Score {
		return a.Score > b.Score
	}
	return bytes.Compare(a.ID[:], b.ID[:]) < 0
}

// dot is the dot product of two vectors of equal length. Four running
// sums let the processor overlap the multiplications; the re-slicing
// lets the compiler drop bounds checks.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// topK keeps the n best ids seen, in a heap with the worst on top.
type topK struct {
	n     int
	items []store.Ranked
}

func (t *topK) Len() int           { return len(t.items) }
func (t *topK) Less(i, j int) bool { return better(t.items[j], t.items[i]) }
func (t *topK) Swap(i, j int)      { t.items[i], t.items[j] = t.items[j], t.items[i] }
func (t *topK) Push(x any)         { t.items = append(t.items, x.(store.Ranked)) }
func (t *topK) Pop() any {
	x := t.items[len(t.items)-1]
	t.items = t.items[:len(t.items)-1]
	return x
}

func (t *topK) offer(r store.Ranked) {
	switch {
	case len(t.items) < t.n:
		heap.Push(t, r)
	case better(r, t.items[0]):
		t.items[0] = r
		heap.Fix(t, 0)
	}
}

// SearchQuery is a search request.
type SearchQuery struct {
	Text   string
	Mode   string // hybrid (default), keyword or semantic
	Filter store.SearchFilter
	Limit  int
	Offset int

	rrf bool // plain reciprocal-rank fusion, the baseline of the relevance test
}

// SearchHit is one result, with why it matched.
type SearchHit struct {
	Name          string    `json:"name"`
	Title         string    `json:"title"`
	Description   string    `json:"description"`
	Category      string    `json:"category"`
	Tags          []string  `json:"tags"`
	Status        string    `json:"status"`
	Visibility    string    `json:"visibility"`
	Version       int       `json:"version"`
	Digest        string    `json:"digest"`
	RatingAverage float64   `json:"rating_average"`
	RatingCount   int       `json:"rating_count"`
	Uses          int64     `json:"uses"`
	Score         float64   `json:"score"`
	Matched       []string  `json:"matched"`
	Snippet       string    `json:"snippet,omitempty"`
	ID            uuid.UUID `json:"-"`
}

// rrfK is the reciprocal-rank fusion constant of DESIGN.md §6. Plain RRF
// is kept as the baseline the relevance test measures fusion against.
const rrfK = 60

// Weights of score-aware fusion: a hybrid hit scores
// semanticWeight·cos/cos₁ + keywordWeight·rank/rank₁, each list's scores
// divided by its best, a skill missing from a list adding nothing from it.
// Unlike RRF, a skill far ahead in one list keeps its lead, and a skill
// placed in both lists only because every skill is in the semantic list
// gains little. Semantic weighs more because the builtin embedder finds
// paraphrases the keyword list misses, while the keyword list still lifts
// exact names and jargon (BENCHMARKS.md, "Search relevance").
const (
	semanticWeight = 0.6
	keywordWeight  = 1 - semanticWeight
)

// builtinFloor is the cosine below which a builtin vector is not a match.
// It is calibrated on the relevance set (embedtest): nearly every
// unrelated need ("bake a sourdough loaf") tops out below it, while the
// wanted skill of most queries is above it. Remote models place cosines
// differently and are held only to a positive similarity.
const builtinFloor = 0.10

// closestCount is how many near misses are offered when nothing matches.
const closestCount = 3

// candidates is how many ids each list contributes before filtering; RRF
// gives the 100th of a list 1/160 of its weight, so more add little.
const candidates = 100

// maxSearchOffset bounds how deep search results are paged: every page
// ranks all results before it.
const maxSearchOffset = 1000

// SearchResult is a page of matches and, when the first page holds none,
// the skills closest to the query: offered apart, never as matches.
type SearchResult struct {
	Hits    []SearchHit
	Closest []SearchHit
}

// Search finds skills for a plain-language request among those the actor
// may see. Only matches are returned; see SearchWithClosest for the near
// misses of a query that matches nothing.
func (s *Service) Search(ctx context.Context, a Actor, sq SearchQuery) ([]SearchHit, error) {
	res, err := s.SearchWithClosest(ctx, a, sq)
	return res.Hits, err
}

// SearchWithClosest is Search that also reports, when the first page
// holds no match, the nearest skills by meaning.
func (s *Service) SearchWithClosest(ctx context.Context, a Actor, sq SearchQuery) (SearchResult, error) {
	if err := a.needRead(); err != nil {
		return SearchResult{}, err
	}
	sq.Text = strings.TrimSpace(sq.Text)
	if sq.Text == "" {
		return SearchResult{}, invalidf("the query is empty: pass q=what you need a skill for")
	}
	if len(sq.Text) > 1000 {
		return SearchResult{}, invalidf("the query is longer than 1000 characters")
	}
	if !utf8.ValidString(sq.Text) {
		return SearchResult{}, invalidf("the query is not valid UTF-8 text")
	}
	if sq.Offset < 0 || sq.Offset > maxSearchOffset {
		return SearchResult{}, invalidf("search results can be paged up to result %d, not from %d: refine the query instead", maxSearchOffset, sq.Offset)
	}
	if sq.Mode == "" {
		sq.Mode = "hybrid"
	}
	if sq.Mode != "hybrid" && sq.Mode != "keyword" && sq.Mode != "semantic" {
		return SearchResult{}, invalidf("mode must be hybrid, keyword or semantic, not %q", sq.Mode)
	}
	if sq.Limit <= 0 {
		sq.Limit = 20
	}
	// A page holds at most 200 results; callers ask for one more to learn
	// whether there is a next page.
	sq.Limit = min(sq.Limit, 201)
	want := sq.Offset + sq.Limit

	var st store.Settings
	var stamp string
	err := s.db.Read(ctx, a.scope(), func(q database.Q) error {
		var err error
		if st, err = store.GetSettings(ctx, q); errors.Is(err, store.ErrNotFound) {
			st = store.Settings{EmbeddingProvider: "builtin", SemanticSearchEnabled: true}
		} else if err != nil {
			return err
		}
		if sq.Mode != "keyword" && st.SemanticSearchEnabled {
			stamp, err = store.EmbeddingStamp(ctx, q)
		}
		return err
	})
	if err != nil {
		return SearchResult{}, err
	}
	if sq.Mode == "semantic" && !st.SemanticSearchEnabled {
		return SearchResult{}, invalidf("semantic search is turned off for this tenant (semantic_search_enabled)")
	}
	// The keyword statement runs in the database while the vectors are
	// ranked here: the two lists are independent.
	var keyword []store.Ranked
	var kerr error
	var wg sync.WaitGroup
	if sq.Mode != "semantic" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			kerr = s.db.Read(ctx, a.scope(), func(q database.Q) error {
				var err error
				keyword, err = store.KeywordSearch(ctx, q, sq.Text, sq.Filter, max(candidates, want))
				return err
			})
		}()
	}
	var semantic []store.Ranked
	if sq.Mode != "keyword" && st.SemanticSearchEnabled {
		semantic, err = s.semantic(ctx, a, st, stamp, sq.Text, sq.Filter, max(candidates, want), uuid.Nil)
		if err != nil {
			if sq.Mode == "semantic" {
				return SearchResult{}, err
			}
			// Hybrid degrades to keyword when the embedder is down.
			s.log.Warn("semantic search failed; keyword results only", "tenant", a.TenantID, "err", err)
		}
	}
	wg.Wait()
	if kerr != nil {
		return SearchResult{}, kerr
	}
	floor := 0.0
	if modelName(st) == embed.BuiltinModel {
		floor = builtinFloor
	}
	matches, near := combine(sq, keyword, semantic, floor)
	hits, err := s.readHits(ctx, a, sq, matches)
	if err != nil || len(hits) > 0 || sq.Offset > 0 {
		return SearchResult{Hits: hits}, err
	}
	closest, err := s.readHits(ctx, a, SearchQuery{Text: sq.Text, Limit: closestCount}, near)
	return SearchResult{Hits: hits, Closest: closest}, err
}

// semantic ranks, against text, the vectors of the skills the actor may
// see and the filter allows.
func (s *Service) semantic(ctx context.Context, a Actor, st store.Settings, stamp, text string, f store.SearchFilter, n int, skip uuid.UUID) ([]store.Ranked, error) {
	em, err := s.embedders.get(st)
	if err != nil {
		return nil, err
	}
	vecs, err := em.Embed(ctx, []string{text})
	if err != nil {
		return nil, &Error{Kind: Unavailable, Msg: "the embedding provider failed: " + err.Error()}
	}
	tv, err := s.tenantVectors(ctx, a.TenantID, modelName(st), stamp)
	if err != nil {
		return nil, err
	}
	return s.rankAllowed(ctx, a, f, tv, vecs[0], n, skip)
}

// rankAllowed returns the n vectors most like v among the skills the actor
// may see and the filter allows, best first. The cache holds every vector
// of the tenant; ranked first and filtered afterwards, the hits would be
// numbered by their place among skills hidden from the actor (a member saw
// "semantic #2" when another member's private skill was #1) and hidden
// skills would push visible ones out of the candidates. So only allowed
// skills are ranked: the best 2n of all are checked first, which suffices
// when most skills are allowed (the total order of better makes their
// allowed part exactly the allowed top); otherwise every allowed id is read
// and ranked alone.
func (s *Service) rankAllowed(ctx context.Context, a Actor, f store.SearchFilter, tv *tenantVectors, v []float32, n int, skip uuid.UUID) ([]store.Ranked, error) {
	top := tv.rank(v, 2*n, skip, nil)
	everything := len(top) < 2*n
	ids := make([]uuid.UUID, len(top))
	for i, r := range top {
		ids[i] = r.ID
	}
	allowed, err := s.searchAllowed(ctx, a, f, ids)
	if err != nil {
		return nil, err
	}
	top = slices.DeleteFunc(top, func(r store.Ranked) bool { return !allowed[r.ID] })
	if len(top) >= n || everything {
		return top[:min(n, len(top))], nil
	}
	if allowed, err = s.searchAllowed(ctx, a, f, tv.ids); err != nil {
		return nil, err
	}
	return tv.rank(v, n, skip, allowed), nil
}

// searchAllowed tells which of ids the actor may see and the filter
// allows, in the actor's scope.
func (s *Service) searchAllowed(ctx context.Context, a Actor, f store.SearchFilter, ids []uuid.UUID) (map[uuid.UUID]bool, error) {
	var allowed map[uuid.UUID]bool
	err := s.db.Read(ctx, a.scope(), func(q database.Q) error {
		var err error
		allowed, err = store.SearchAllowed(ctx, q, ids, f)
		return err
	})
	return allowed, err
}

// fuse combines the lists with no similarity floor beyond a positive
// one and reads the page: for lists of skills like a given skill.
func (s *Service) fuse(ctx context.Context, a Actor, sq SearchQuery, keyword, semantic []store.Ranked) ([]SearchHit, error) {
	matches, _ := combine(sq, keyword, semantic, 0)
	return s.readHits(ctx, a, sq, matches)
}

// scored is a candidate of a search with its combined score and why it
// was found.
type scored struct {
	id      uuid.UUID
	score   float64
	first   int // the best place in a list, to break ties as the lists do
	matched []string
}

// combine merges the ranked lists into the matches, best first, and the
// near misses: semantic candidates below the floor, nearest first. A
// semantic or hybrid candidate matches when its cosine reaches floor (a
// keyword candidate matched a term already); when the semantic list is
// missing (keyword mode, embedder down or off) keyword matches stand
// alone. No score is negative: a non-positive cosine is neither. The lists hold only skills the actor may
// see and the filters allow, ranked among themselves, so no rank or score
// depends on a hidden skill.
func combine(sq SearchQuery, keyword, semantic []store.Ranked, floor float64) (matches, near []scored) {
	byID := map[uuid.UUID]*scored{}
	var order []*scored
	cosine := map[uuid.UUID]float64{}
	add := func(list []store.Ranked, kind string, weight float64) {
		top := 0.0
		if len(list) > 0 {
			top = list[0].Score
		}
		for i, r := range list {
			c := byID[r.ID]
			if c == nil {
				c = &scored{id: r.ID, first: i}
				byID[r.ID] = c
				order = append(order, c)
			}
			c.first = min(c.first, i)
			switch {
			case sq.Mode != "hybrid":
				c.score = r.Score
			case sq.rrf:
				c.score += 1.0 / float64(rrfK+i+1)
			case top > 0:
				c.score += weight * r.Score / top
			}
			c.matched = append(c.matched, fmt.Sprintf("%s #%d (%.3f)", kind, i+1, max(r.Score, 0)))
		}
	}
	add(keyword, "keyword", keywordWeight)
	add(semantic, "semantic", semanticWeight)
	for _, r := range semantic {
		cosine[r.ID] = r.Score
	}
	for _, c := range order {
		cos, inSemantic := cosine[c.id]
		switch {
		case !inSemantic || (cos >= floor && cos > 0):
			matches = append(matches, *c)
		case cos > 0:
			c.score = cos
			near = append(near, *c)
		}
		// A keyword match the semantic ranking placed below the floor is
		// dropped: in hybrid mode the floor is what tells a topic from a
		// shared common word. One the semantic list lacks (its vector is
		// pending, or it ranks beyond the candidates of a large tenant)
		// has no known similarity and keeps its term match.
	}
	sortScored(matches)
	sortScored(near)
	return matches, near
}

func sortScored(list []scored) {
	sort.Slice(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if a.score != b.score {
			return a.score > b.score
		}
		if a.first != b.first {
			return a.first < b.first
		}
		return a.id.String() < b.id.String()
	})
}

// readHits reads the page of ranked candidates, in the actor's scope,
// which checks visibility again, and their snippets.
func (s *Service) readHits(ctx context.Context, a Actor, sq SearchQuery, ranked []scored) ([]SearchHit, error) {
	ids := make([]uuid.UUID, len(ranked))
	scores := make(map[uuid.UUID]scored, len(ranked))
	for i, c := range ranked {
		ids[i] = c.id
		scores[c.id] = c
	}
	var out []SearchHit
	// The first slice is the page: every candidate was allowed, so
	// a further slice is read only when a skill went away meanwhile.
	size := sq.Offset + sq.Limit
	for start := 0; start < len(ids) && len(out) < sq.Offset+sq.Limit; start, size = start+size, candidates {
		chunk := ids[start:min(start+size, len(ids))]
		var hits map[uuid.UUID]store.Hit
		err := s.db.Read(ctx, a.scope(), func(q database.Q) error {
			var err error
			hits, err = store.SearchHits(ctx, q, chunk)
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, id := range chunk {
			h, ok := hits[id]
			if !ok {
				continue
			}
			v := h.LatestVersion
			if h.PublishedVersion != nil {
				v = *h.PublishedVersion
			}
			out = append(out, SearchHit{ID: id, Name: h.Name, Title: h.Title, Description: h.Description, Category: h.Category,
				Tags: h.Tags, Status: h.Status, Visibility: h.Visibility, Version: v, Digest: h.Digest, RatingAverage: h.RatingAverage,
				RatingCount: h.RatingCount, Uses: h.Uses(), Score: scores[id].score, Matched: scores[id].matched})
		}
	}
	if sq.Offset >= len(out) {
		return []SearchHit{}, nil
	}
	out = out[sq.Offset:]
	if len(out) > sq.Limit {
		out = out[:sq.Limit]
	}
	if sq.Text == "" {
		return out, nil
	}
	pageIDs := make([]uuid.UUID, len(out))
	for i, h := range out {
		pageIDs[i] = h.ID
	}
	var snippets map[uuid.UUID]string
	err := s.db.Read(ctx, a.scope(), func(q database.Q) error {
		var err error
		snippets, err = store.SearchSnippets(ctx, q, pageIDs, sq.Text)
		return err
	})
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Snippet = PlainSnippet(snippets[out[i].ID])
	}
	return out, nil
}

// Similar lists the skills most like the named one, by their vectors.
func (s *Service) Similar(ctx context.Context, a Actor, name string, limit int) ([]SearchHit, error) {
	if err := a.needRead(); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 50 {
		limit = 10
	}
	var sk store.Skill
	var st store.Settings
	var stamp string
	err := s.db.Read(ctx, a.scope(), func(q database.Q) error {
		var err error
		if sk, err = visible(ctx, q, name); err != nil {
			return err
		}
		if st, err = store.GetSettings(ctx, q); errors.Is(err, store.ErrNotFound) {
			st = store.Settings{EmbeddingProvider: "builtin"}
		} else if err != nil {
			return err
		}
		stamp, err = store.EmbeddingStamp(ctx, q)
		return err
	})
	if err != nil {
		return nil, err
	}
	var body string
	err = s.db.Read(ctx, a.scope(), func(q database.Q) error {
		body, err = store.SkillBody(ctx, q, sk.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	ranked, err := s.semantic(ctx, a, st, stamp, embedText(sk.Name, sk.Title, sk.Description, body), store.SearchFilter{}, candidates, sk.ID)
	if err != nil {
		return nil, err
	}
	return s.fuse(ctx, a, SearchQuery{Mode: "semantic", Limit: limit}, nil, ranked)
}

// DuplicateThreshold is the cosine above which a new skill is reported as
// a possible duplicate of an existing one.
const DuplicateThreshold = 0.80

// Duplicate is an existing skill close to a new one.
type Duplicate struct {
	Name       string  `json:"name"`
	Similarity float64 `json:"similarity"`
}

// possibleDuplicates compares a new skill with the tenant's vectors. It is
// a warning: any failure yields none.
func (s *Service) possibleDuplicates(ctx context.Context, a Actor, sk store.Skill, body string) []Duplicate {
	var st store.Settings
	var stamp string
	err := s.db.Read(ctx, a.scope(), func(q database.Q) error {
		var err error
		if st, err = store.GetSettings(ctx, q); err != nil {
			return err
		}
		stamp, err = store.EmbeddingStamp(ctx, q)
		return err
	})
	if err != nil || !st.SemanticSearchEnabled {
		return nil
	}
	ranked, err := s.semantic(ctx, a, st, stamp, embedText(sk.Name, sk.Title, sk.Description, body), store.SearchFilter{}, 20, sk.ID)
	if err != nil {
		return nil
	}
	ranked = slices.DeleteFunc(ranked, func(r store.Ranked) bool { return r.Score < DuplicateThreshold })
	if len(ranked) == 0 {
		return nil
	}
	hits, err := s.fuse(ctx, a, SearchQuery{Mode: "semantic", Limit: 5}, nil, ranked)
	if err != nil {
		return nil
	}
	var out []Duplicate
	for _, h := range hits {
		out = append(out, Duplicate{Name: h.Name, Similarity: h.Score})
	}
	return out
}

// EmbeddingState returns where a skill's vector stands (pending, ready or
// failed with the last error), so failures are visible.
func (s *Service) EmbeddingState(ctx context.Context, a Actor, name string) (store.EmbeddingStatus, error) {
	if err := a.needRead(); err != nil {
		return store.EmbeddingStatus{}, err
	}
	var st store.EmbeddingStatus
	err := s.db.Read(ctx, a.scope(), func(q database.Q) error {
		sk, err := visible(ctx, q, name)
		if err != nil {
			return err
		}
		st, err = store.EmbeddingState(ctx, q, sk.ID)
		if errors.Is(err, store.ErrNotFound) {
			st, err = store.EmbeddingStatus{State: "pending"}, nil
		}
		return err
	})
	return st, err
}
