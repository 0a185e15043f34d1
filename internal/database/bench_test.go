package database_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/dbtest"
)

const benchSkills = 1000

// benchWorld: 10 tenants with benchSkills skills each.
func benchWorld(b *testing.B) (*dbtest.Env, []uuid.UUID) {
	env := dbtest.New(b)
	ctx := context.Background()
	owner, err := database.OpenOwner(ctx, env.OwnerURL)
	if err != nil {
		b.Fatal(err)
	}
	defer owner.Close()
	var tenants []uuid.UUID
	for i := range 10 {
		tn, err := owner.CreateTenant(ctx, database.NewTenant{Slug: fmt.Sprintf("bench-%d", i)})
		if err != nil {
			b.Fatal(err)
		}
		tenants = append(tenants, tn.ID)
		err = env.DB.Write(ctx, database.Scope{TenantID: tn.ID}, func(q database.Q) error {
			if _, err := q.Exec(ctx, "INSERT INTO users (tenant_id, email) VALUES ($1, 'u@example.com')", tn.ID); err != nil {
				return err
			}
			_, err := q.Exec(ctx, `INSERT INTO skills (tenant_id, name, description, author_id, body)
				SELECT $1, 'skill-' || g, 'Description of skill ' || g, u.id, repeat('body ', 50)
				FROM generate_series(1, $2::int) g, users u`, tn.ID, benchSkills)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return env, tenants
}

const pointRead = "SELECT id, name, description, status, rating_count FROM skills WHERE name = $1"

type skillRow struct {
	id                        uuid.UUID
	name, description, status string
	ratings                   int
}

func scanSkill(r pgx.Row) error {
	var s skillRow
	return r.Scan(&s.id, &s.name, &s.description, &s.status, &s.ratings)
}

// BenchmarkPointRead compares a point read of a skill by name:
//   - owner-no-rls: the same SQL as a superuser (RLS does not apply) with an
//     explicit tenant_id filter, the floor any scope is measured against;
//   - naive-scope: BEGIN, set_config, query, COMMIT (four round trips);
//   - scope: database.Read (setting pipelined with the query, one round trip).
//
// Each runs on one connection and on eight concurrent connections.
func BenchmarkPointRead(b *testing.B) {
	env, tenants := benchWorld(b)
	ctx := context.Background()
	for _, conns := range []int{1, 8} {
		admin, err := pgxpool.New(ctx, env.AdminURL+fmt.Sprintf("&pool_max_conns=%d", conns))
		if err != nil {
			b.Fatal(err)
		}
		app, err := pgxpool.New(ctx, env.AppURL+fmt.Sprintf("&pool_max_conns=%d", conns))
		if err != nil {
			b.Fatal(err)
		}
		db, err := database.Open(ctx, env.AppURL, database.Options{MaxConns: int32(conns)})
		if err != nil {
			b.Fatal(err)
		}
		name := func(i int) (uuid.UUID, string) {
			return tenants[i%len(tenants)], fmt.Sprintf("skill-%d", 1+i%benchSkills)
		}
		variants := []struct {
			name string
			read func(i int) error
		}{
			{"owner-no-rls", func(i int) error {
				t, n := name(i)
				return scanSkill(admin.QueryRow(ctx, pointRead+" AND tenant_id = $2", n, t))
			}},
			{"naive-scope", func(i int) error {
				t, n := name(i)
				tx, err := app.Begin(ctx)
				if err != nil {
					return err
				}
				defer tx.Rollback(ctx)
				if _, err := tx.Exec(ctx, "SELECT set_config('app.current_tenant_id', $1, true)", t.String()); err != nil {
					return err
				}
				if err := scanSkill(tx.QueryRow(ctx, pointRead, n)); err != nil {
					return err
				}
				return tx.Commit(ctx)
			}},
			{"scope", func(i int) error {
				t, n := name(i)
				return db.Read(ctx, database.Scope{TenantID: t}, func(q database.Q) error {
					return scanSkill(q.QueryRow(ctx, pointRead, n))
				})
			}},
		}
		for _, v := range variants {
			b.Run(fmt.Sprintf("%s/conns=%d", v.name, conns), func(b *testing.B) {
				if conns == 1 {
					for i := 0; b.Loop(); i++ {
						if err := v.read(i); err != nil {
							b.Fatal(err)
						}
					}
					return
				}
				b.SetParallelism((conns + 1) / 2) // GOMAXPROCS is 2 here
				b.RunParallel(func(pb *testing.PB) {
					for i := 0; pb.Next(); i++ {
						if err := v.read(i); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
		admin.Close()
		app.Close()
		db.Close()
	}
}
