package service

import (
	"context"
	"errors"
	"net/mail"
	"strings"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/store"
)

// NewUser is what CreateUser needs.
type NewUser struct {
	Email, Name, Role string
}

func normaliseEmail(e string) (string, error) {
	e = strings.ToLower(strings.TrimSpace(e))
	addr, err := mail.ParseAddress(e)
	if err != nil || addr.Address != e || !strings.Contains(e, "@") {
		return "", invalidf("%q is not an email address", e)
	}
	return e, nil
}

// CreateUser adds a user to the actor's tenant (admins only).
func (s *Service) CreateUser(ctx context.Context, a Actor, n NewUser) (store.User, error) {
	if err := a.need("admin"); err != nil {
		return store.User{}, err
	}
	email, err := normaliseEmail(n.Email)
	if err != nil {
		return store.User{}, err
	}
	if n.Role == "" {
		n.Role = "member"
	}
	if n.Role != "admin" && n.Role != "member" {
		return store.User{}, invalidf("role must be admin or member, not %q", n.Role)
	}
	var u store.User
	err = s.db.Write(ctx, a.scope(), func(q database.Q) error {
		u, err = store.InsertUser(ctx, q, email, strings.TrimSpace(n.Name), n.Role)
		if _, dup := store.IsUniqueViolation(err); dup {
			return &Error{Kind: Conflict, Msg: "a user with email " + email + " exists in this tenant"}
		}
		if err != nil {
			return err
		}
		return s.audit(ctx, q, a, "user.create", "success", "user", u.ID.String(), map[string]any{"email": email, "role": n.Role})
	})
	return u, err
}

// ListUsers lists the tenant's users by email (admins only).
func (s *Service) ListUsers(ctx context.Context, a Actor, after string, limit int) ([]store.User, error) {
	if err := a.need("admin"); err != nil {
		return nil, err
	}
	var out []store.User
	err := s.db.Read(ctx, a.scope(), func(q database.Q) error {
		var err error
		out, err = store.ListUsers(ctx, q, after, limit)
		return err
	})
	return out, err
}

// UserByEmail finds a user (admins and system work only).
func (s *Service) UserByEmail(ctx context.Context, a Actor, email string) (store.User, error) {
	if err := a.need("admin"); err != nil {
		return store.User{}, err
	}
	var u store.User
	err := s.db.Read(ctx, a.scope(), func(q database.Q) error {
		var err error
		u, err = store.UserByEmail(ctx, q, strings.ToLower(strings.TrimSpace(email)))
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return u, notFoundf("no user %s in this tenant", email)
	}
	return u, err
}

// Me returns the acting user.
func (s *Service) Me(ctx context.Context, a Actor) (store.User, error) {
	if a.UserID == uuid.Nil {
		return store.User{}, errUnauthenticated
	}
	var u store.User
	err := s.db.Read(ctx, a.scope(), func(q database.Q) error {
		var err error
		u, err = store.UserByID(ctx, q, a.UserID)
		return err
	})
	return u, err
}

// UserChange is a partial update of a user; nil fields stay.
type UserChange struct {
	Role   *string `json:"role"`
	Active *bool   `json:"active"`
	Name   *string `json:"name"`
}

// UpdateUser changes a user's role, name or active flag (admins only). The
// last active admin can be neither demoted nor deactivated.
func (s *Service) UpdateUser(ctx context.Context, a Actor, id uuid.UUID, c UserChange) (store.User, error) {
	if err := a.need("admin"); err != nil {
		return store.User{}, err
	}
	if c.Role != nil && *c.Role != "admin" && *c.Role != "member" {
		return store.User{}, invalidf("role must be admin or member, not %q", *c.Role)
	}
	var u store.User
	authChanged := false
	err := s.db.Write(ctx, a.scope(), func(q database.Q) error {
		admins, err := store.CountActiveAdmins(ctx, q)
		if err != nil {
			return err
		}
		old, err := store.UserByID(ctx, q, id)
		if errors.Is(err, store.ErrNotFound) {
			return notFoundf("no such user")
		}
		if err != nil {
			return err
		}
		u = old
		if c.Role != nil {
			u.Role = *c.Role
		}
		if c.Active != nil {
			u.Active = *c.Active
		}
		if c.Name != nil {
			u.Name = strings.TrimSpace(*c.Name)
		}
		wasAdmin := old.Role == "admin" && old.Active
		isAdmin := u.Role == "admin" && u.Active
		if wasAdmin && !isAdmin && admins <= 1 {
			return &Error{Kind: Conflict, Msg: "this is the last active admin of the tenant: make another user admin first"}
		}
		if u, err = store.UpdateUser(ctx, q, u); err != nil {
			return err
		}
		if old.Role != u.Role || old.Active != u.Active {
			s.forgetAuth("user:" + id.String())
			authChanged = true
		}
		if old.Role != u.Role {
			if err := s.audit(ctx, q, a, "user.role_change", "success", "user", id.String(), map[string]any{"email": u.Email, "old": old.Role, "new": u.Role}); err != nil {
				return err
			}
		}
		if old.Active != u.Active {
			action := "user.deactivate"
			if u.Active {
				action = "user.activate"
			}
			if err := s.audit(ctx, q, a, action, "success", "user", id.String(), map[string]any{"email": u.Email}); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && authChanged {
		s.authChanged(ctx, "user:"+id.String())
	}
	return u, err
}
