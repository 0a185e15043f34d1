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
	n, err := limit(r)
	if err != nil {
		return err
	}
	var after string
	if _, err := cursor(r, &after); err != nil {
		return err
	}
	users, err := api.svc.ListUsers(r.Context(), a, after, n+1)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, page(users, n, func(u store.User) any { return u.Email }))
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

func (api *API) listKeys(w http.ResponseWriter, r *http.Request, a service.Actor) error {
	n, err := limit(r)
	if err != nil {
		return err
	}
	var kc keyCursor
	var c *store.TimeCursor
	if ok, err := cursor(r, &kc); err != nil {
		return err
	} else if ok {
		c = &store.TimeCursor{At: kc.At, ID: kc.ID}
	}
	keys, err := api.svc.ListKeys(r.Context(), a, r.URL.Query().Get("all") == "true", c, n+1)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, page(keys, n, func(k store.APIKey) any { return keyCursor{k.CreatedAt, k.ID} }))
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
