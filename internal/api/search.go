package api

import (
	"net/http"
	"strconv"

	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/store"
)

func (api *API) search(w http.ResponseWriter, r *http.Request, a service.Actor) error {
	q := r.URL.Query()
	return list(w, r, func(offset, limit int) ([]service.SearchHit, error) {
		return api.svc.Search(r.Context(), a, service.SearchQuery{Text: q.Get("q"), Mode: q.Get("mode"), Limit: limit, Offset: offset,
			Filter: store.SearchFilter{Category: q.Get("category"), Tag: q.Get("tag"), Status: q.Get("status"), Author: q.Get("author")}})
	}, nextOffset[service.SearchHit])
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
