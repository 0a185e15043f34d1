package store_test

import (
	"context"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/dbtest"
	"github.com/skillvault/skillvault/internal/store"
)

var (
	positional = regexp.MustCompile(`\$([0-9]+)`)
	taskCount  = regexp.MustCompile(`Task Count: ([0-9]+)`)
)

// TestCitusStatementsRouteToOneShard plans every statement of
// internal/store/sql on a real Citus cluster, in a tenant's scope (which
// binds $tenant) with every other parameter NULL, and fails for each one
// Citus would send to more than one shard. It is the proof on the cluster
// of what TestEveryStatementNamesTheTenant checks in the text.
func TestCitusStatementsRouteToOneShard(t *testing.T) {
	dbtest.NeedCitus(t)
	env := dbtest.New(t)
	ctx := context.Background()
	tn := env.Tenant(t, "routed")
	stmts := store.Statements()
	names := make([]string, 0, len(stmts))
	for name := range stmts {
		if name != "SkillList" && name != "SkillListFilters" { // parts of the assembled list statements
			names = append(names, name)
		}
	}
	sort.Strings(names)
	checked := 0
	for _, name := range names {
		sql := stmts[name]
		if !strings.Contains(sql, database.TenantParam) {
			continue // the quota lock reads no table
		}
		args := make([]any, highestParam(sql))
		copy(args, realArgs[name])
		var plan []string
		err := env.DB.Read(ctx, database.Scope{TenantID: tn.ID, Role: "admin"}, func(q database.Q) error {
			rows, err := q.Query(ctx, "EXPLAIN (COSTS OFF) "+sql, args...)
			if err != nil {
				return err
			}
			plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return err
		})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		checked++
		text := strings.Join(plan, "\n")
		counts := taskCount.FindAllStringSubmatch(text, -1)
		// An INSERT … SELECT from unnest() is evaluated on the coordinator
		// and its rows, which all carry $tenant, go to that tenant's shard.
		pulled := strings.Contains(text, "INSERT/SELECT method: pull to coordinator") && !strings.Contains(text, "Distributed Subplan")
		if len(counts) == 0 && strings.Contains(text, "Citus") && !pulled {
			t.Errorf("%s: a Citus plan without a task count:\n%s", name, text)
		}
		for _, c := range counts {
			// 0: Citus pruned every shard (a NULL key matches none).
			if n, _ := strconv.Atoi(c[1]); n > 1 {
				t.Errorf("%s: runs on %d shards:\n%s", name, n, text)
				break
			}
		}
	}
	if checked < 80 {
		t.Fatalf("planned only %d statements", checked)
	}
}

// realArgs are parameters for statements that must not be planned with a
// NULL: Citus 13.2.2's coordinator crashes on a LEFT JOIN from a constant
// row to a table under row-level security when the joined key is a NULL
// parameter (deploy/citus/citus-defects.md, defect 3). The store never
// passes NULL there (the name and path are Go strings).
var realArgs = map[string][]any{
	"DiscoveryFile": {"some-skill", "SKILL.md"},
}

// highestParam is the highest $n of sql outside comments.
func highestParam(sql string) int {
	max := 0
	for _, line := range strings.Split(sql, "\n") {
		if i := strings.Index(line, "--"); i >= 0 {
			line = line[:i]
		}
		for _, m := range positional.FindAllStringSubmatch(line, -1) {
			if n, _ := strconv.Atoi(m[1]); n > max {
				max = n
			}
		}
	}
	return max
}
