package web

import (
	"context"
	"encoding/json"

	"github.com/skillvault/skillvault/internal/review"
	"github.com/skillvault/skillvault/internal/store"
)

// reviewView is a stored review as the pages show it.
type reviewView struct {
	store.Review
	Scores      []score
	Found       []review.Finding
	Suggestions []string
}

type score struct {
	Name  string
	Value int
}

// reviewViews returns the reviews of one version of a skill.
func (wb *Web) reviewViews(ctx context.Context, c *reqCtx, name string, version int) ([]reviewView, error) {
	rs, err := wb.svc.Reviews(ctx, c.A, name)
	if err != nil {
		return nil, err
	}
	var out []reviewView
	for _, r := range rs {
		if r.Version != version {
			continue
		}
		v := reviewView{Review: r, Scores: []score{{"Quality", r.Quality}, {"Clarity", r.Clarity}, {"Completeness", r.Completeness}, {"Safety", r.Safety}}}
		json.Unmarshal(r.Findings, &v.Found)
		json.Unmarshal(r.Suggestions, &v.Suggestions)
		out = append(out, v)
	}
	return out, nil
}
