package api

import (
	"encoding/base64"
	"encoding/json"
	"net/http"

	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/store"
)

func (api *API) listReviews(w http.ResponseWriter, r *http.Request, a service.Actor) error {
	n, err := limit(r)
	if err != nil {
		return err
	}
	var before int
	if _, err := cursor(r, &before); err != nil {
		return err
	}
	rs, err := api.svc.ReviewPage(r.Context(), a, r.PathValue("name"), before, n+1)
	if err != nil {
		return err
	}
	// A version may have several reviews: a page ends at a version
	// boundary so the next one starts cleanly.
	p := page(rs, n, func(x store.Review) any { return x.Version })
	if p.NextCursor != "" {
		last := p.Items[len(p.Items)-1].Version
		for len(p.Items) > 1 && p.Items[len(p.Items)-1].Version == last && rs[n].Version == last {
			p.Items = p.Items[:len(p.Items)-1]
		}
		data, _ := json.Marshal(p.Items[len(p.Items)-1].Version)
		p.NextCursor = base64.RawURLEncoding.EncodeToString(data)
	}
	return writeJSON(w, http.StatusOK, p)
}

func (api *API) reviewAgain(w http.ResponseWriter, r *http.Request, a service.Actor) error {
	ref := r.URL.Query().Get("version")
	if ref == "" {
		ref = "latest"
	}
	rs, err := api.svc.ReviewAgain(r.Context(), a, r.PathValue("name"), ref)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": rs})
}

func (api *API) decide(w http.ResponseWriter, r *http.Request, a service.Actor) error {
	var d service.Decision
	if err := decode(w, r, &d); err != nil {
		return err
	}
	sk, err := api.svc.Decide(r.Context(), a, r.PathValue("name"), d)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sk)
}
