// Package embedded is Skillvault's default deployment: a private
// PostgreSQL cluster under $SKILLVAULT_HOME/pg, one database in it, and the
// passwords of the owner and app roles in $SKILLVAULT_HOME/secrets.json.
package embedded

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5"

	"github.com/skillvault/skillvault/internal/pglocal"
	"github.com/skillvault/skillvault/internal/schema"
)

// DBName is the database the embedded default uses.
const DBName = "skillvault"

// Env is an embedded deployment kept in one home folder.
type Env struct {
	home    string
	cluster *pglocal.Cluster
	log     *slog.Logger
}

// Open returns the deployment in home; nothing happens until Start.
func Open(home string, fast bool, log *slog.Logger) *Env {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Env{home: home, log: log,
		cluster: pglocal.OpenWithOptions(filepath.Join(home, "pg"), pglocal.Options{Fast: fast, Logger: log})}
}

// Cluster is the PostgreSQL cluster of the deployment.
func (e *Env) Cluster() *pglocal.Cluster { return e.cluster }

type secrets struct {
	OwnerPassword string `json:"owner_password"`
	AppPassword   string `json:"app_password"`
}

func (e *Env) secretsPath() string { return filepath.Join(e.home, "secrets.json") }

// loadSecrets reads the role passwords, generating them on first use.
func (e *Env) loadSecrets() (secrets, error) {
	var s secrets
	data, err := os.ReadFile(e.secretsPath())
	if err == nil {
		if err := json.Unmarshal(data, &s); err != nil {
			return s, fmt.Errorf("embedded: read %s: %w", e.secretsPath(), err)
		}
		return s, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return s, fmt.Errorf("embedded: %w", err)
	}
	if s.OwnerPassword, err = pglocal.NewPassword(); err != nil {
		return s, err
	}
	if s.AppPassword, err = pglocal.NewPassword(); err != nil {
		return s, err
	}
	data, _ = json.MarshalIndent(s, "", "  ")
	if err := os.MkdirAll(e.home, 0o755); err != nil {
		return s, fmt.Errorf("embedded: %w", err)
	}
	tmp := e.secretsPath() + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return s, fmt.Errorf("embedded: write secrets: %w", err)
	}
	return s, os.Rename(tmp, e.secretsPath())
}

// Start starts the cluster (creating it on first use) and makes sure the
// database exists. It does not migrate.
func (e *Env) Start(ctx context.Context) error {
	if err := e.cluster.Start(ctx); err != nil {
		return err
	}
	if _, err := e.loadSecrets(); err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, e.cluster.SuperuserURL("postgres"))
	if err != nil {
		return fmt.Errorf("embedded: connect: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", DBName).Scan(&exists); err != nil {
		return fmt.Errorf("embedded: %w", err)
	}
	if !exists {
		e.log.Info("creating database", "name", DBName)
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+DBName); err != nil {
			return fmt.Errorf("embedded: create database: %w", err)
		}
	}
	return nil
}

// Stop stops the cluster.
func (e *Env) Stop(ctx context.Context) error { return e.cluster.Stop(ctx) }

// Migrate creates or repairs the roles and brings the schema up to date.
func (e *Env) Migrate(ctx context.Context) error {
	s, err := e.loadSecrets()
	if err != nil {
		return err
	}
	return schema.Migrate(ctx, e.AdminURL(), schema.Passwords{Owner: s.OwnerPassword, App: s.AppPassword}, e.log)
}

// AdminURL connects as the cluster's superuser (migrations only).
func (e *Env) AdminURL() string { return e.cluster.SuperuserURL(DBName) }

// OwnerURL connects as the schema owner.
func (e *Env) OwnerURL() (string, error) {
	s, err := e.loadSecrets()
	return e.cluster.RoleURL(schema.OwnerRole, s.OwnerPassword, DBName), err
}

// AppURL connects as the app role, the only role that serves requests.
func (e *Env) AppURL() (string, error) {
	s, err := e.loadSecrets()
	return e.cluster.RoleURL(schema.AppRole, s.AppPassword, DBName), err
}
