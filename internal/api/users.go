package api

import (
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/store"
)

func (api *API) me(w http.ResponseWriter, r *http.Request, a service.Actor) error {
	u, err := api.svc.Me(r.Context(), a)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"user": u, "tenant_id": a.TenantID, "scopes": a.Scopes, "key_id": a.KeyID})
}

func (api *API) listUsers(w http.ResponseWriter, r *http.Request, a service.Actor) error {
	return list(w, r, func(after string, limit int) ([]store.User, error) {
		return api.svc.ListUsers(r.Context(), a, after, limit)
	}, func(u store.User, _ string, _ int) any { return u.Email })
}

func (api *API) createUser(w http.ResponseWriter, r *http.Request, a service.Actor) error {
	var in service.NewUser
	var body struct {
		Email string `json:"email"`
		Name  string `json:"name"`
		Role  string `json:"role"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	in = service.NewUser{Email: body.Email, Name: body.Name, Role: body.Role}
	u, err := api.svc.CreateUser(r.Context(), a, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, u)
}

func (api *API) updateUser(w http.ResponseWriter, r *http.Request, a service.Actor) error {
	id, err := pathUUID(r, "id")
	if err != nil {
		return err
	}
	var c service.UserChange
	if err := decode(w, r, &c); err != nil {
		return err
	}
	u, err := api.svc.UpdateUser(r.Context(), a, id, c)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, u)
}

type keyCursor struct {
	At time.Time `json:"t"`
	ID uuid.UUID `json:"i"`
}

// valid holds for cursors a page made: both parts are set.
func (c *keyCursor) valid() bool { return !c.At.IsZero() && c.ID != uuid.Nil }

// timeCursor is the store's form of the cursor; nil on the first page.
func (c keyCursor) timeCursor() *store.TimeCursor {
	if c.At.IsZero() {
		return nil
	}
	return &store.TimeCursor{At: c.At, ID: c.ID}
}

func (api *API) listKeys(w http.ResponseWriter, r *http.Request, a service.Actor) error {
	all := r.URL.Query().Get("all") == "true"
	return list(w, r, func(c keyCursor, limit int) ([]store.APIKey, error) {
		return api.svc.ListKeys(r.Context(), a, all, c.timeCursor(), limit)
	}, func(k store.APIKey, _ keyCursor, _ int) any { return keyCursor{k.CreatedAt, k.ID} })
}

func (api *API) createKey(w http.ResponseWriter, r *http.Request, a service.Actor) error {
	var in service.NewKey
	if err := decode(w, r, &in); err != nil {
		return err
	}
	k, err := api.svc.CreateKey(r.Context(), a, a.UserID, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, k)
}

func (api *API) revokeKey(w http.ResponseWriter, r *http.Request, a service.Actor) error {
	id, err := pathUUID(r, "id")
	if err != nil {
		return err
	}
	k, err := api.svc.RevokeKey(r.Context(), a, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, k)
}
