package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/embedded"
	"github.com/skillvault/skillvault/internal/schema"
)

func init() {
	register("db start", "start the embedded PostgreSQL cluster", dbStart)
	register("db stop", "stop the embedded PostgreSQL cluster", dbStop)
	register("db status", "show the embedded cluster's state", dbStatus)
	register("db url", "print the app role's connection URL (--owner: the owner's)", dbURL)
	register("db verify", "check the live schema, policies and roles against the declaration", dbVerify)
	register("migrate", "create or repair the roles and bring the schema up to date", migrate)
}

// target is where the database is: embedded, or external via DATABASE_URL.
type target struct {
	emb                        *embedded.Env // nil when external
	appURL, ownerURL, adminURL string
}

func home(e *env) string {
	if h := e.getenv("SKILLVAULT_HOME"); h != "" {
		return h
	}
	return ".skillvault"
}

func embeddedEnv(e *env) *embedded.Env {
	h, _ := filepath.Abs(home(e))
	return embedded.Open(h, e.getenv("SKILLVAULT_FAST_DB") == "1", e.log)
}

// resolve finds the database: DATABASE_URL, or the embedded cluster in
// the data folder. Only the commands that set up a deployment (serve, db
// start, migrate) pass create; every other command refuses to make a
// cluster as a side effect of running in the wrong folder. A cluster that
// was stopped is started for the command and stopped again when it ends,
// so nothing is left running that was not running before.
func resolve(ctx context.Context, e *env, create bool) (*target, error) {
	if u := e.getenv("DATABASE_URL"); u != "" {
		return &target{appURL: u, ownerURL: e.getenv("SKILLVAULT_OWNER_URL"), adminURL: e.getenv("SKILLVAULT_ADMIN_URL")}, nil
	}
	emb, err := startEmbedded(ctx, e, create)
	if err != nil {
		return nil, err
	}
	t := &target{emb: emb, adminURL: emb.AdminURL()}
	if t.appURL, err = emb.AppURL(); err != nil {
		return nil, err
	}
	if t.ownerURL, err = emb.OwnerURL(); err != nil {
		return nil, err
	}
	return t, nil
}

// errNoData tells a person where the command looked for the embedded
// database and how to point it at the right one.
func errNoData(e *env) error {
	h, _ := filepath.Abs(home(e))
	return fmt.Errorf("no Skillvault data in %s; run it where you ran `make run`, or set SKILLVAULT_HOME (or DATABASE_URL for your own PostgreSQL)", h)
}

// startEmbedded starts the embedded cluster, creating it only when create
// is set, and arranges for it to be stopped when the command ends if this
// command is what started it.
func startEmbedded(ctx context.Context, e *env, create bool) (*embedded.Env, error) {
	emb := embeddedEnv(e)
	st, err := emb.Cluster().Status(ctx)
	if err != nil {
		return nil, err
	}
	if !st.Initialized && !create {
		return nil, errNoData(e)
	}
	if err := emb.Start(ctx); err != nil {
		return nil, err
	}
	if !st.Running {
		e.atExit(func() {
			// The command's context may be cancelled (Ctrl-C): stop with
			// a fresh one.
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := emb.Stop(sctx); err != nil {
				e.log.Warn("could not stop the embedded PostgreSQL", "err", err)
				return
			}
			e.log.Info("stopped the embedded PostgreSQL this command started", "data", emb.Cluster().DataDir())
		})
	}
	return emb, nil
}

func (t *target) migrate(ctx context.Context, e *env) error {
	if t.emb != nil {
		return t.emb.Migrate(ctx)
	}
	if t.adminURL == "" {
		return fmt.Errorf("set SKILLVAULT_ADMIN_URL to a superuser URL of the database to migrate it")
	}
	return schema.Migrate(ctx, t.adminURL, schema.Passwords{App: e.getenv("SKILLVAULT_APP_PASSWORD"), Owner: e.getenv("SKILLVAULT_OWNER_PASSWORD"), Resolver: e.getenv("SKILLVAULT_RESOLVER_PASSWORD")}, e.log)
}

func (t *target) owner(ctx context.Context) (*database.Owner, error) {
	if t.ownerURL == "" {
		return nil, fmt.Errorf("set SKILLVAULT_OWNER_URL to the owner role's URL (tenant administration runs as the owner)")
	}
	return database.OpenOwner(ctx, t.ownerURL)
}

// withOwner resolves the database and runs fn with an owner connection.
func withOwner(ctx context.Context, e *env, fn func(*database.Owner) int) int {
	t, err := resolve(ctx, e, false)
	if err != nil {
		return fail(e, "%v", err)
	}
	o, err := t.owner(ctx)
	if err != nil {
		return fail(e, "%v", err)
	}
	defer o.Close()
	return fn(o)
}

// required reports a usage error unless every named flag has a value.
func required(e *env, fs *flag.FlagSet, names ...string) bool {
	var missing []string
	for _, n := range names {
		if fs.Lookup(n).Value.String() == "" {
			missing = append(missing, "--"+n)
		}
	}
	if len(missing) == 0 {
		return true
	}
	verb := "are"
	if len(missing) == 1 {
		verb = "is"
	}
	fmt.Fprintf(e.stderr, "skillvault %s: %s %s required\n", fs.Name(), strings.Join(missing, " and "), verb)
	fs.Usage()
	return false
}

func dbStart(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "db start", "", "  skillvault db start && skillvault migrate")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	emb := embeddedEnv(e)
	if err := emb.Start(ctx); err != nil {
		return fail(e, "%v", err)
	}
	fmt.Fprintf(e.stdout, "PostgreSQL is running on 127.0.0.1:%d (data in %s)\nNext: skillvault migrate\n", emb.Cluster().Port(), emb.Cluster().DataDir())
	return exitOK
}

func dbStop(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "db stop", "", "")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	if err := embeddedEnv(e).Stop(ctx); err != nil {
		return fail(e, "%v", err)
	}
	fmt.Fprintln(e.stdout, "PostgreSQL stopped")
	return exitOK
}

func dbStatus(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "db status", "", "")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	st, err := embeddedEnv(e).Cluster().Status(ctx)
	if err != nil {
		return fail(e, "%v", err)
	}
	state := "stopped"
	switch {
	case !st.Initialized:
		state = "not created (skillvault db start creates it)"
	case st.Running:
		state = fmt.Sprintf("running, pid %d, port %d", st.PID, st.Port)
	}
	fmt.Fprintf(e.stdout, "embedded PostgreSQL %s: %s\ndata: %s\n", st.Version, state, st.DataDir)
	return exitOK
}

func dbURL(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "db url", "[--owner]", "  psql \"$(skillvault db url)\"")
	owner := fs.Bool("owner", false, "print the owner role's URL (migrations, tenant administration)")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	if u := e.getenv("DATABASE_URL"); u != "" {
		if *owner {
			u = e.getenv("SKILLVAULT_OWNER_URL")
		}
		fmt.Fprintln(e.stdout, u)
		return exitOK
	}
	// A URL needs no running server: it is the stored port and password.
	emb := embeddedEnv(e)
	st, err := emb.Cluster().Status(ctx)
	if err != nil {
		return fail(e, "%v", err)
	}
	if !st.Initialized {
		return fail(e, "%v", errNoData(e))
	}
	get := emb.AppURL
	if *owner {
		get = emb.OwnerURL
	}
	u, err := get()
	if err != nil {
		return fail(e, "%v", err)
	}
	fmt.Fprintln(e.stdout, u)
	if !st.Running {
		fmt.Fprintln(e.stderr, "note: the embedded PostgreSQL is stopped; start it with: skillvault db start")
	}
	return exitOK
}

func migrate(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "migrate", "", `  skillvault migrate
  DATABASE_URL=... SKILLVAULT_ADMIN_URL=postgres://postgres@db/skillvault skillvault migrate

On an external database SKILLVAULT_APP_PASSWORD and SKILLVAULT_OWNER_PASSWORD
set the roles' passwords (unset: unchanged). On a Citus coordinator (the
citus extension in the database) migrate also distributes the tables,
restores the policies Citus re-creates on its shards, repairs the workers,
and records the roles' inter-node passwords (the resolver's from
SKILLVAULT_RESOLVER_PASSWORD, else kept or made up): run it again after
adding a worker or moving shards. See deploy/citus/README.md.`)
	if ok, code := parse(fs, args); !ok {
		return code
	}
	t, err := resolve(ctx, e, true)
	if err != nil {
		return fail(e, "%v", err)
	}
	if err := t.migrate(ctx, e); err != nil {
		return fail(e, "%v", err)
	}
	fmt.Fprintln(e.stdout, "schema is up to date; next: skillvault db verify")
	return exitOK
}

func dbVerify(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "db verify", "", `  skillvault db verify || exit 1   # in CI/CD, after every migration

Reads only. Each problem is one line with its fix. On a Citus coordinator it
also checks every shard placement and every worker (policies and their
restrictive or permissive kind, FORCE, owners, grants, LEAKPROOF, the
resolver's login).`)
	if ok, code := parse(fs, args); !ok {
		return code
	}
	return withOwner(ctx, e, func(o *database.Owner) int {
		probs, err := o.Verify(ctx)
		if err != nil {
			return fail(e, "verify: %v", err)
		}
		for _, p := range probs {
			fmt.Fprintln(e.stdout, p)
		}
		if len(probs) > 0 {
			fmt.Fprintf(e.stdout, "%d problem(s): row-level security is not as declared\n", len(probs))
			return exitFail
		}
		fmt.Fprintf(e.stdout, "ok: %d tables, their policies, grants and roles are as declared\n", len(schema.Tables))
		return exitOK
	})
}
