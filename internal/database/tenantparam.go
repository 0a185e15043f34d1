package database

import (
	"strconv"
	"strings"
	"sync"
)

// TenantParam is the token a statement run in a scope writes for the
// scope's tenant, as in "WHERE s.tenant_id = $tenant". The scope binds it
// as one more positional parameter. Row-level security does not need it
// (the policies read the tenant from the transaction's setting), but a
// distributed database does: Citus routes a statement to one shard only
// when its WHERE compares the distribution column with a constant or a
// parameter, never with current_setting().
const TenantParam = "$tenant"

// PlanOnce marks a statement, anywhere in its text, whose generic plan
// serves every tenant. Such a statement, read on its own (Read), runs with
// plan_cache_mode = force_generic_plan for its implicit transaction.
//
// Why: the tenant is a parameter, and PostgreSQL plans a parameterised
// statement afresh on each execution while the plan it makes for the
// actual value looks cheaper than the generic one. For a tenant much
// larger than the average that is always so, and planning the list page
// took 0.3 ms for an execution of 0.16 ms, although the generic plan does
// the same index walk. Mark only statements whose generic plan is checked
// to be right for a tenant of any size (TestLargeTenantListWalksUpdatedIndex).
// On Citus the mark does nothing: the coordinator routes, and the workers
// plan the statement they are sent.
const PlanOnce = "/* plan once */"

// boundSQL is a statement with its tenant tokens replaced.
type boundSQL struct {
	sql      string
	binds    bool
	planOnce bool // the statement is marked with PlanOnce
}

// tenantRewrites caches bindTenantParam by statement text. Only statements
// that contain the token are stored, and those are the store's fixed
// statements, so the cache stays as small as the set of statements.
var tenantRewrites sync.Map // string → boundSQL

// bindTenant returns sql with every $tenant token replaced by $k, k one
// more than the highest positional parameter, and whether it had any. The
// rewritten text is the same for every tenant, so pgx's statement cache
// (and the server's prepared statements) serve all tenants alike.
func bindTenant(sql string) boundSQL {
	if !strings.Contains(sql, TenantParam) {
		return boundSQL{sql: sql}
	}
	if b, ok := tenantRewrites.Load(sql); ok {
		return b.(boundSQL)
	}
	b := rewriteTenantParam(sql)
	b.planOnce = strings.Contains(sql, PlanOnce)
	tenantRewrites.Store(sql, b)
	return b
}

// withTenant returns the statement and arguments to send for sql in scope
// s, and whether it is marked PlanOnce: the tenant is appended when the
// statement names it. The caller's slice is never written to.
func (s Scope) withTenant(sql string, args []any) (string, []any, bool) {
	b := bindTenant(sql)
	if !b.binds {
		return sql, args, false
	}
	return b.sql, append(args[:len(args):len(args)], s.TenantID), b.planOnce
}

// rewriteTenantParam scans sql once, skipping comments, string literals,
// quoted identifiers and dollar-quoted bodies, so that only real
// parameters count and only real tokens are replaced.
func rewriteTenantParam(sql string) boundSQL {
	highest := 0
	var tokens []int // offsets of the $tenant tokens
	for i := 0; i < len(sql); {
		switch c := sql[i]; {
		case c == '-' && strings.HasPrefix(sql[i:], "--"):
			i = skipTo(sql, i+2, "\n")
		case c == '/' && strings.HasPrefix(sql[i:], "/*"):
			i = skipTo(sql, i+2, "*/")
		case c == '\'':
			i = skipQuoted(sql, i, '\'', escapeString(sql, i))
		case c == '"':
			i = skipQuoted(sql, i, '"', false)
		case c == '$':
			j := i + 1
			for j < len(sql) && isDigit(sql[j]) {
				j++
			}
			if j > i+1 {
				n, _ := strconv.Atoi(sql[i+1 : j])
				highest = max(highest, n)
				i = j
				continue
			}
			for j < len(sql) && isIdent(sql[j]) {
				j++
			}
			switch {
			case j < len(sql) && sql[j] == '$': // a dollar-quoted body: $$…$$ or $tag$…$tag$
				tag := sql[i : j+1]
				i = skipTo(sql, j+1, tag)
			case sql[i:j] == TenantParam:
				tokens = append(tokens, i)
				i = j
			default:
				i = j
			}
		default:
			i++
		}
	}
	if len(tokens) == 0 {
		return boundSQL{sql: sql}
	}
	param := "$" + strconv.Itoa(highest+1)
	var out strings.Builder
	last := 0
	for _, at := range tokens {
		out.WriteString(sql[last:at])
		out.WriteString(param)
		last = at + len(TenantParam)
	}
	out.WriteString(sql[last:])
	return boundSQL{sql: out.String(), binds: true}
}

// skipTo returns the offset just past the next end at or after i, or the
// end of sql.
func skipTo(sql string, i int, end string) int {
	if k := strings.Index(sql[i:], end); k >= 0 {
		return i + k + len(end)
	}
	return len(sql)
}

// skipQuoted returns the offset just past the literal or identifier that
// starts at i; a doubled quote is part of it, and so is a backslash escape
// in an escape string (E'…').
func skipQuoted(sql string, i int, quote byte, backslash bool) int {
	for j := i + 1; j < len(sql); j++ {
		switch {
		case backslash && sql[j] == '\\':
			j++
		case sql[j] == quote && j+1 < len(sql) && sql[j+1] == quote:
			j++
		case sql[j] == quote:
			return j + 1
		}
	}
	return len(sql)
}

// escapeString reports whether the literal at i is an escape string (E'…'), whose
// backslashes escape.
func escapeString(sql string, i int) bool {
	return i > 0 && (sql[i-1] == 'E' || sql[i-1] == 'e') && (i == 1 || !isIdent(sql[i-2]))
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isIdent(c byte) bool {
	return c == '_' || isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
