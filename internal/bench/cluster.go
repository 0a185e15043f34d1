package bench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5"

	"github.com/skillvault/skillvault/internal/pglocal"
	"github.com/skillvault/skillvault/internal/schema"
)

// Cluster is a private PostgreSQL cluster for one benchmark run, in fast
// mode (no fsync: the numbers measure the code, not the disk), holding one
// migrated database per data set so that "only this tenant present" and
// "a thousand tenants present" never share a table.
type Cluster struct {
	Home string // the SKILLVAULT_HOME of the run
	pg   *pglocal.Cluster
	pw   schema.Passwords
	own  bool // Home was created here and is removed by Close
}

// StartCluster creates a cluster under home (a new temporary folder when
// home is empty) and starts it.
func StartCluster(ctx context.Context, home string, log *slog.Logger) (*Cluster, error) {
	c := &Cluster{Home: home}
	var err error
	if c.pw.Owner, err = pglocal.NewPassword(); err != nil {
		return nil, err
	}
	if c.pw.App, err = pglocal.NewPassword(); err != nil {
		return nil, err
	}
	if home == "" {
		dir, err := os.MkdirTemp("", "skillvault-bench-")
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		c.Home, c.own = dir, true
	}
	// The server may run as another OS user (we may be root), which must
	// reach the folder.
	if err := os.MkdirAll(c.Home, 0o755); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	os.Chmod(c.Home, 0o755)
	c.pg = pglocal.OpenWithOptions(filepath.Join(c.Home, "pg"), pglocal.Options{Fast: true, Logger: log})
	if err := c.pg.Start(ctx); err != nil {
		c.Close(context.Background())
		return nil, err
	}
	return c, nil
}

// PG is the underlying cluster.
func (c *Cluster) PG() *pglocal.Cluster { return c.pg }

// Close stops the cluster and removes a folder StartCluster created.
func (c *Cluster) Close(ctx context.Context) error {
	var err error
	if c.pg != nil {
		err = c.pg.Stop(ctx)
	}
	if c.own {
		os.RemoveAll(c.Home)
	}
	return err
}

// Database is one migrated database of the cluster.
type Database struct {
	Name                       string
	AdminURL, OwnerURL, AppURL string
}

// CreateDatabase creates and migrates a database named name.
func (c *Cluster) CreateDatabase(ctx context.Context, name string) (Database, error) {
	conn, err := pgx.Connect(ctx, c.pg.SuperuserURL("postgres"))
	if err != nil {
		return Database{}, fmt.Errorf("bench: connect: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return Database{}, fmt.Errorf("bench: create database %s: %w", name, err)
	}
	d := Database{Name: name, AdminURL: c.pg.SuperuserURL(name),
		OwnerURL: c.pg.RoleURL(schema.OwnerRole, c.pw.Owner, name), AppURL: c.pg.RoleURL(schema.AppRole, c.pw.App, name)}
	if err := schema.Migrate(ctx, d.AdminURL, c.pw, nil); err != nil {
		return Database{}, fmt.Errorf("bench: migrate %s: %w", name, err)
	}
	return d, nil
}
