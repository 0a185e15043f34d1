package schema

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations are the goose migration files, embedded in the binary.
var Migrations, _ = fs.Sub(migrationFiles, "migrations")

// Passwords are the login passwords the migrator gives the owner and app
// roles. An empty password leaves an existing role's password unchanged.
type Passwords struct {
	Owner string
	App   string
	// Resolver is the resolver role's password between Citus nodes (it
	// never logs in to the coordinator); empty keeps the recorded one, or
	// makes one up.
	Resolver string
}

// Migrate brings a database to the current schema. adminURL must connect as
// a superuser of that database (only a superuser may create a BYPASSRLS
// role): it creates or repairs the three roles, runs the goose migrations
// as the owner, applies the policy SQL generated from Tables, and hands the
// look-up functions to the resolver role.
func Migrate(ctx context.Context, adminURL string, pw Passwords, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgx.ParseConfig(adminURL)
	if err != nil {
		return fmt.Errorf("migrate: parse admin URL: %w", err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("migrate: connect as admin: %w", err)
	}
	defer conn.Close(ctx)

	var super bool
	if err := conn.QueryRow(ctx, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&super); err != nil {
		return fmt.Errorf("migrate: check admin role: %w", err)
	}
	if !super {
		return errors.New("migrate: the admin connection must be a superuser (it creates the BYPASSRLS resolver role); set SKILLVAULT_ADMIN_URL")
	}
	citus, err := CitusVersion(ctx, conn)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := ensureRoles(ctx, conn, pw, citus != ""); err != nil {
		return err
	}
	dbName := pgx.Identifier{cfg.Database}.Sanitize()
	// One statement per Exec: Citus cannot forward several at once.
	for _, stmt := range []string{
		"ALTER SCHEMA public OWNER TO " + OwnerRole,
		fmt.Sprintf("GRANT CREATE, CONNECT, TEMPORARY ON DATABASE %s TO %s", dbName, OwnerRole),
		fmt.Sprintf("GRANT CONNECT ON DATABASE %s TO %s", dbName, AppRole),
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("migrate: hand schema to owner: %w", err)
		}
	}
	if citus != "" {
		log.Info("citus detected: the tables are distributed and the workers repaired after the migrations", "citus", citus)
		if err := prepareCitus(ctx, conn, pw); err != nil {
			return err
		}
	}
	// Functions that exist already must be the owner's again, or the
	// migration running as owner could not replace them.
	if err := setLookupOwner(ctx, conn, OwnerRole, true); err != nil {
		return err
	}

	// Migrations run as the owner so that every object they create is the
	// owner's; skillvault.migrating lets them touch the audit log.
	ownerCfg := cfg.Copy()
	ownerCfg.RuntimeParams["role"] = OwnerRole
	ownerCfg.RuntimeParams["skillvault.migrating"] = "on"
	db := stdlib.OpenDB(*ownerCfg)
	defer db.Close()
	db.SetMaxOpenConns(1)
	provider, err := goose.NewProvider(goose.DialectPostgres, db, Migrations)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	results, err := provider.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate: apply migrations: %w", err)
	}
	for _, r := range results {
		log.Info("applied migration", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	for _, stmt := range PolicyStatements() {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("migrate: apply policies: %s: %w", firstLine(stmt), err)
		}
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf("REVOKE ALL ON goose_db_version FROM %s, PUBLIC", AppRole)); err != nil {
		return fmt.Errorf("migrate: protect goose table: %w", err)
	}
	if err := setLookupOwner(ctx, conn, ResolverRole, false); err != nil {
		return err
	}
	if citus != "" {
		if err := finishCitus(ctx, conn, pw, log); err != nil {
			return err
		}
	}
	// Under row-level security PostgreSQL uses an operator in an index
	// condition only if its function is LEAKPROOF (it runs before the
	// policies' filters). The text-search match is not marked so, which
	// makes keyword search read every row of the tenant instead of its GIN
	// index. It has no side effects and raises no error on valid input, so
	// nothing about rows the policies hide can escape through it.
	if _, err := conn.Exec(ctx, superuserSQL); err != nil {
		return fmt.Errorf("migrate: mark the text-search match leakproof: %w", err)
	}
	// Vectors of a retired builtin embedder are queued again, so search
	// keeps working after an upgrade without a manual reindex: the worker
	// re-embeds them with the current model. This crosses tenants, which
	// only the superuser may; it touches no row twice (the new vectors
	// carry the new model's name).
	tag, err := conn.Exec(ctx, requeueRetiredSQL)
	if err != nil {
		return fmt.Errorf("migrate: queue vectors of retired embedders: %w", err)
	}
	if n := tag.RowsAffected(); n > 0 {
		log.Info("queued vectors of a retired builtin embedder for re-embedding", "skills", n)
	}
	return nil
}

// requeueRetiredSQL marks for embedding every vector of a builtin model
// that is no longer the builtin embedder (embed.BuiltinModel).
const requeueRetiredSQL = `UPDATE skill_embeddings
SET state = 'pending', attempts = 0, last_error = '', next_attempt_at = now(), updated_at = now()
WHERE model IN ('builtin') AND state <> 'pending'`

func setLookupOwner(ctx context.Context, conn *pgx.Conn, role string, ifExists bool) error {
	for _, f := range Lookups {
		name := f[:strings.IndexByte(f, '(')]
		if ifExists {
			var n int
			if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_proc WHERE proname = $1 AND pronamespace = 'public'::regnamespace", name).Scan(&n); err != nil {
				return fmt.Errorf("migrate: find %s: %w", name, err)
			}
			if n == 0 {
				continue
			}
		}
		if _, err := conn.Exec(ctx, fmt.Sprintf("ALTER FUNCTION public.%s OWNER TO %s", f, role)); err != nil {
			return fmt.Errorf("migrate: give %s to %s: %w", f, role, err)
		}
	}
	return nil
}

// ensureRoles creates the roles or repairs their attributes, so a role that
// someone granted SUPERUSER or BYPASSRLS by hand is put right.
//
// On Citus, role changes on the coordinator reach the workers, except the
// resolver's once it exists: it logs in on the workers only (finishCitus),
// and a NOLOGIN passed on would break the look-ups until migrate ends.
func ensureRoles(ctx context.Context, conn *pgx.Conn, pw Passwords, citus bool) error {
	type role struct {
		name, attrs, password string
	}
	roles := []role{
		{OwnerRole, "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION", pw.Owner},
		{AppRole, "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION NOINHERIT", pw.App},
		{ResolverRole, "NOLOGIN NOSUPERUSER BYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION", ""},
	}
	for _, r := range roles {
		var exists bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", r.name).Scan(&exists); err != nil {
			return fmt.Errorf("migrate: look up role %s: %w", r.name, err)
		}
		stmt := "ALTER ROLE "
		if !exists {
			stmt = "CREATE ROLE "
		}
		stmt += r.name + " " + r.attrs
		if r.password != "" {
			stmt += " PASSWORD " + quoteLiteral(r.password)
		}
		if citus && exists && r.name == ResolverRole {
			stmt = "BEGIN; SET LOCAL citus.enable_alter_role_propagation = off; " + stmt + "; COMMIT"
		}
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("migrate: %s role %s: %w", strings.Fields(stmt)[0], r.name, err)
		}
	}
	// The app role must not be able to become any other role.
	rows, err := conn.Query(ctx, `SELECT r.rolname FROM pg_auth_members m
		JOIN pg_roles r ON r.oid = m.roleid WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = $1)`, AppRole)
	if err != nil {
		return fmt.Errorf("migrate: list app role memberships: %w", err)
	}
	granted, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("migrate: list app role memberships: %w", err)
	}
	for _, g := range granted {
		if _, err := conn.Exec(ctx, fmt.Sprintf("REVOKE %s FROM %s", pgx.Identifier{g}.Sanitize(), AppRole)); err != nil {
			return fmt.Errorf("migrate: revoke %s from app role: %w", g, err)
		}
	}
	return nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// superuserSQL runs as the superuser after the migrations (see Migrate).
const superuserSQL = "ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) LEAKPROOF"

// Fingerprint changes whenever what Migrate does changes: the migrations,
// the generated policy SQL and the superuser statements. Test templates
// are named after it.
func Fingerprint() string {
	h := sha256.New()
	fs.WalkDir(Migrations, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(Migrations, p)
			h.Write([]byte(p))
			h.Write(b)
		}
		return nil
	})
	h.Write([]byte(PolicySQL()))
	h.Write([]byte(superuserSQL))
	return hex.EncodeToString(h.Sum(nil))[:12]
}
