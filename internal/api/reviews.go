package api

import (
	"net/http"

	"github.com/skillvault/skillvault/internal/service"
)

func (api *API) listReviews(w http.ResponseWriter, r *http.Request, a service.Actor) error {
	rs, err := api.svc.Reviews(r.Context(), a, r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": rs})
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
