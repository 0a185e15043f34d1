package client

import (
	"cmp"
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Search modes.
const (
	ModeHybrid   = "hybrid"
	ModeKeyword  = "keyword"
	ModeSemantic = "semantic"
)

// fallbackMaxSkills bounds how many skills the client-side fallback search
// reads.
const fallbackMaxSkills = 5000

// Search finds skills for a plain-language query, best first. mode is
// hybrid, keyword or semantic ("" for the server's default); limit 0 lets
// the server choose.
//
// Servers without GET /api/v1/search (older than the search feature)
// answer 404; Search then lists the skills and matches the query's words
// against names, titles and descriptions itself.
func (c *Client) Search(ctx context.Context, query, mode string, limit int) (Page[SearchResult], error) {
	p, err := c.SearchWithClosest(ctx, query, mode, limit)
	return p.Page, err
}

// SearchPage is a page of Search with, when nothing matched, the server's
// message and the skills it found closest (not matches).
type SearchPage struct {
	Page[SearchResult]
	Message string         `json:"message,omitempty"`
	Closest []SearchResult `json:"closest,omitempty"`
}

// SearchWithClosest is Search that keeps the server's "no skill matches"
// message and closest skills.
func (c *Client) SearchWithClosest(ctx context.Context, query, mode string, limit int) (SearchPage, error) {
	q := url.Values{"q": {query}}
	if mode != "" {
		q.Set("mode", mode)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var p SearchPage
	err := c.getJSON(ctx, "/api/v1/search", q, &p)
	if IsNotFound(err) {
		lp, err := c.searchByListing(ctx, query, limit)
		return SearchPage{Page: lp}, err
	}
	if p.Items == nil {
		p.Items = []SearchResult{}
	}
	return p, err
}

// searchByListing is the fallback of Search: every query word found in a
// skill's name, title or description counts, and the score is the share
// of the words found.
func (c *Client) searchByListing(ctx context.Context, query string, limit int) (Page[SearchResult], error) {
	words := strings.Fields(strings.ToLower(query))
	out := Page[SearchResult]{Items: []SearchResult{}}
	if len(words) == 0 {
		return out, nil
	}
	cursor, seen := "", 0
	for {
		p, err := c.ListSkills(ctx, ListOptions{Limit: 200}, cursor)
		if err != nil {
			return out, err
		}
		for _, s := range p.Items {
			if r, ok := matchSkill(s, words); ok {
				out.Items = append(out.Items, r)
			}
		}
		seen += len(p.Items)
		if p.NextCursor == "" || seen >= fallbackMaxSkills {
			break
		}
		cursor = p.NextCursor
	}
	slices.SortStableFunc(out.Items, func(a, b SearchResult) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	if limit <= 0 {
		limit = 10
	}
	if len(out.Items) > limit {
		out.Items = out.Items[:limit]
	}
	return out, nil
}

func matchSkill(s Skill, words []string) (SearchResult, bool) {
	fields := []struct{ name, text string }{
		{"name", strings.ToLower(s.Name)},
		{"title", strings.ToLower(s.Title)},
		{"description", strings.ToLower(s.Description)},
	}
	found := 0
	var why Matched
	for _, w := range words {
		hit := false
		for _, f := range fields {
			if strings.Contains(f.text, w) {
				hit = true
				if !slices.Contains(why, f.name) {
					why = append(why, f.name)
				}
			}
		}
		if hit {
			found++
		}
	}
	if found == 0 {
		return SearchResult{}, false
	}
	v := s.LatestVersion
	if s.PublishedVersion != nil {
		v = *s.PublishedVersion
	}
	return SearchResult{Name: s.Name, Description: s.Description, Score: float64(found) / float64(len(words)),
		Matched: why, Version: v}, true
}
