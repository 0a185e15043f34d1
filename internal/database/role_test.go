package database_test

import (
	"context"
	"errors"
	"net/url"
	"testing"

	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/dbtest"
)

// The serving pool refuses any role that could bypass row-level security.
func TestOpenRefusesUnsafeRoles(t *testing.T) {
	env := dbtest.NewEmpty(t)
	ctx := context.Background()
	admin := dbtest.Connect(t, env.AdminURL)
	// Roles are cluster-wide: names unique to this database keep parallel
	// tests apart.
	bypass, member := env.Name+"_bypass", env.Name+"_member"
	for _, stmt := range []string{
		"CREATE ROLE " + bypass + " LOGIN PASSWORD 'pw' BYPASSRLS",
		"CREATE ROLE " + member + " LOGIN PASSWORD 'pw' INHERIT",
		"GRANT " + bypass + " TO " + member,
		"GRANT CONNECT ON DATABASE " + env.Name + " TO " + bypass + ", " + member,
	} {
		if _, err := admin.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		admin.Exec(ctx, "DROP ROLE IF EXISTS "+member)
		admin.Exec(ctx, "DROP ROLE IF EXISTS "+bypass)
	})
	as := func(user string) string {
		u, _ := url.Parse(env.AppURL)
		u.User = url.UserPassword(user, "pw")
		return u.String()
	}
	for name, u := range map[string]string{
		"superuser":           env.AdminURL,
		"table owner":         env.OwnerURL,
		"BYPASSRLS":           as(bypass),
		"member of BYPASSRLS": as(member),
	} {
		db, err := database.Open(ctx, u, database.Options{})
		if err == nil {
			db.Close()
			t.Errorf("%s: Open succeeded", name)
			continue
		}
		if !errors.Is(err, database.ErrUnsafeRole) {
			t.Errorf("%s: err = %v, want ErrUnsafeRole", name, err)
		}
	}
	db, err := database.Open(ctx, env.AppURL, database.Options{})
	if err != nil {
		t.Fatalf("app role refused: %v", err)
	}
	db.Close()
}
