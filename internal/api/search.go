package api

import (
	"net/http"
	"strconv"

	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/store"
)

// NoMatch is the message of a search whose first page holds no match.
const NoMatch = "no skill matches"

// SearchPage is a page of search results. When the first page holds no
// match, Message says so and Closest lists the skills nearest in meaning,
// apart from the (empty) matches.
type SearchPage struct {
	Page[service.SearchHit]
	Message string              `json:"message,omitempty"`
	Closest []service.SearchHit `json:"closest,omitempty"`
}

func (api *API) search(w http.ResponseWriter, r *http.Request, a service.Actor) error {
	q := r.URL.Query()
	n, err := limit(r)
	if err != nil {
		return err
	}
	var offset int
	if _, err := cursor(r, &offset); err != nil {
		return err
	}
	res, err := api.svc.SearchWithClosest(r.Context(), a, service.SearchQuery{Text: q.Get("q"), Mode: q.Get("mode"), Limit: n + 1, Offset: offset,
		Filter: store.SearchFilter{Category: q.Get("category"), Tag: q.Get("tag"), Status: q.Get("status"), Author: q.Get("author")}})
	if err != nil {
		return err
	}
	p := SearchPage{Page: page(res.Hits, n, func(last service.SearchHit) any { return nextOffset(last, offset, n) })}
	if len(p.Items) == 0 && offset == 0 {
		p.Message, p.Closest = NoMatch, res.Closest
	}
	return writeJSON(w, http.StatusOK, p)
}

func (api *API) similar(w http.ResponseWriter, r *http.Request, a service.Actor) error {
	n := 10
	if s := r.URL.Query().Get("limit"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 || n > 50 {
			return &service.Error{Kind: service.Invalid, Msg: "limit must be a number from 1 to 50"}
		}
	}
	hits, err := api.svc.Similar(r.Context(), a, r.PathValue("name"), n)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": hits})
}

func (api *API) embedding(w http.ResponseWriter, r *http.Request, a service.Actor) error {
	st, err := api.svc.EmbeddingState(r.Context(), a, r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}
