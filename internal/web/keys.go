package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/store"
)

func (wb *Web) myKeys(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	return wb.renderKeys(w, r, c, http.StatusOK, nil, "")
}

func (wb *Web) renderKeys(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, created *service.CreatedKey, formErr string) error {
	keys, err := wb.svc.ListKeys(r.Context(), c.A, false, nil, 200)
	if err != nil {
		return err
	}
	grants, err := wb.svc.ListGrants(r.Context(), c.A, false, 200)
	if err != nil {
		return err
	}
	wb.render(w, r, c, status, "keys", "API keys", map[string]any{"Keys": keys, "Grants": grants, "Created": created, "Error": formErr, "Admin": c.admin()})
	return nil
}

func (wb *Web) createKey(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	n := service.NewKey{Name: strings.TrimSpace(r.PostFormValue("name")), Scopes: r.PostForm["scopes"]}
	if d := r.PostFormValue("expires_in_days"); d != "" {
		days, err := strconv.Atoi(d)
		if err != nil {
			return wb.renderKeys(w, r, c, http.StatusBadRequest, nil, "Expiry must be a number of days.")
		}
		n.ExpiresInDays = &days
	}
	k, err := wb.svc.CreateKey(r.Context(), c.A, c.A.UserID, n)
	if err != nil {
		if e, ok := service.AsError(err); ok && e.Kind != service.Internal {
			return wb.renderKeys(w, r, c, http.StatusBadRequest, nil, e.Msg)
		}
		return err
	}
	// The secret is in this response only: it is never stored or shown again.
	return wb.renderKeys(w, r, c, http.StatusCreated, &k, "")
}

// findKey returns a key the user may see: their own, or any of the tenant
// for an admin. Others, and other tenants' keys, are not found.
func (wb *Web) findKey(r *http.Request, c *reqCtx) (store.APIKey, error) {
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		return store.APIKey{}, &service.Error{Kind: service.NotFound, Msg: "no such key"}
	}
	keys, err := wb.svc.ListKeys(r.Context(), c.A, c.admin(), nil, 1000)
	if err != nil {
		return store.APIKey{}, err
	}
	for _, k := range keys {
		if k.ID == id {
			return k, nil
		}
	}
	return store.APIKey{}, &service.Error{Kind: service.NotFound, Msg: "no such key"}
}

func (wb *Web) keyPage(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	k, err := wb.findKey(r, c)
	if err != nil {
		return err
	}
	wb.render(w, r, c, http.StatusOK, "key", "API key "+k.Prefix, map[string]any{"Key": k})
	return nil
}

func (wb *Web) revokeKey(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		return &service.Error{Kind: service.NotFound, Msg: "no such key"}
	}
	if _, err := wb.svc.RevokeKey(r.Context(), c.A, id); err != nil {
		return err
	}
	http.Redirect(w, r, "/me/keys?revoked=1", http.StatusSeeOther)
	return nil
}
