package store_test

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/skillvault/skillvault/internal/schema"
	"github.com/skillvault/skillvault/internal/store"
)

// TestEveryStatementNamesTheTenant walks every statement of sql/*.sql and
// fails for each reference to a tenant table (FROM, JOIN, UPDATE, INSERT
// INTO, DELETE FROM, USING) that does not name the scope's tenant: on
// Citus a statement reaches one shard group only when its WHERE compares
// the distribution column with a parameter, and row-level security's
// current_setting() does not count. A reference is routed when
//   - a top-level conjunct of its WHERE or ON says alias.tenant_id = $tenant
//     (or tenant_id = $tenant, unqualified, when it is the only tenant
//     table of its SELECT), or
//   - one says alias.tenant_id = other.tenant_id of a routed reference
//     (a co-located join or correlated sub-select);
//
// and an INSERT gives tenant_id as $tenant. The tenants table itself is
// keyed by id. The tables come from schema.Tables, so a new table is
// checked as soon as it is declared.
func TestEveryStatementNamesTheTenant(t *testing.T) {
	tables := tenantTables()
	stmts := store.Statements()
	names := make([]string, 0, len(stmts))
	for name := range stmts {
		names = append(names, name)
	}
	sort.Strings(names)
	checked := 0
	for _, name := range names {
		problems, refs := checkTenantRouting(stmts[name], tables)
		checked += refs
		for _, p := range problems {
			t.Errorf("%s: %s", name, p)
		}
	}
	if checked < 50 {
		t.Fatalf("found only %d tenant table references in %d statements; the walker is broken", checked, len(stmts))
	}
}

// TestTenantRoutingCheckFails proves the check can fail: each statement
// here misses the tenant somewhere, and the check names the table.
func TestTenantRoutingCheckFails(t *testing.T) {
	tables := tenantTables()
	bad := []struct{ sql, want string }{
		{"SELECT id FROM users WHERE id = $1", "users"},
		{"SELECT 1 FROM skills s JOIN users u ON u.id = s.author_id WHERE s.tenant_id = $tenant", "users (alias u)"},
		{"SELECT 1 FROM skills s WHERE s.tenant_id = $tenant OR s.id = $1", "skills (alias s)"},
		{"SELECT 1 FROM skills s WHERE s.id = $1 AND (s.tenant_id = $tenant OR true)", "skills (alias s)"},
		{"SELECT (SELECT email FROM users WHERE id = s.author_id) FROM skills s WHERE s.tenant_id = $tenant", "users"},
		{"SELECT 1 FROM skills WHERE tenant_id = $tenant UNION ALL SELECT 1 FROM skills", "skills"},
		{"SELECT 1 FROM skills s JOIN users u ON u.id = s.author_id WHERE tenant_id = $tenant", "skills (alias s)"},
		{"UPDATE skills SET title = $1 WHERE id = $2", "skills"},
		{"DELETE FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM skill_version_files f WHERE f.sha256 = b.sha256) AND b.tenant_id = $tenant", "skill_version_files (alias f)"},
		{"INSERT INTO users (tenant_id, email) VALUES (current_setting('app.current_tenant_id')::uuid, $1)", "users"},
		{"INSERT INTO users (email, tenant_id) VALUES ($tenant, $1)", "users"},
		{"INSERT INTO usage_events (tenant_id, event) SELECT $1, e FROM unnest($2::text[]) e", "usage_events"},
		{"SELECT 1 FROM tenants t WHERE t.id = $1", "tenants (alias t)"},
		{"SELECT 1 FROM skills s JOIN skill_versions s ON s.tenant_id = s.tenant_id WHERE s.tenant_id = $tenant", "alias s"},
		{"SELECT 1 FROM skills s, users u WHERE s.tenant_id = $tenant", "users (alias u)"},
		{"WITH x AS (SELECT id FROM api_keys) SELECT 1 FROM skills WHERE tenant_id = $tenant", "api_keys"},
	}
	good := []string{
		"SELECT 1 FROM skills WHERE tenant_id = $tenant",
		"SELECT 1 FROM skills s JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.author_id WHERE s.tenant_id = $tenant::uuid",
		"SELECT 1 FROM web_sessions s JOIN tenants t ON t.id = s.tenant_id WHERE s.tenant_id = $tenant",
		"INSERT INTO users (tenant_id, email) VALUES ($tenant, $1)",
		"UPDATE skills SET title = $1 WHERE tenant_id = $tenant AND id = $2",
	}
	assertCheck(t, func(sql string) []string { p, _ := checkTenantRouting(sql, tables); return p }, bad, good)
}

// assertCheck proves a statement check both ways: it names want among the
// problems of each bad statement, and finds none in the good ones.
func assertCheck(t *testing.T, check func(sql string) []string, bad []struct{ sql, want string }, good []string) {
	t.Helper()
	for _, c := range bad {
		problems := check(c.sql)
		if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, c.want) }) {
			t.Errorf("%s\n  problems %q, want one naming %q", c.sql, problems, c.want)
		}
	}
	for _, sql := range good {
		if problems := check(sql); len(problems) > 0 {
			t.Errorf("%s\n  is right, but the check says %q", sql, problems)
		}
	}
}

// tenantTables maps each declared table to its tenant column: tenant_id,
// or id for the tenants table itself (DESIGN.md §1: every tenant-scoped
// row carries tenant_id; tenants is the one global table).
func tenantTables() map[string]string {
	out := map[string]string{}
	for _, tb := range schema.Tables {
		out[tb.Name] = "tenant_id"
		if tb.Name == "tenants" {
			out[tb.Name] = "id"
		}
	}
	return out
}

// node is a token or a parenthesised group; a group that starts with
// SELECT, WITH or VALUES is a sub-query with its own clauses.
type node struct {
	tok   string
	kids  []node
	group bool
}

func (n node) query() bool {
	return n.group && len(n.kids) > 0 && slices.Contains([]string{"select", "with", "values"}, n.kids[0].tok)
}

// tokenize splits sql into lower-cased words, parameters and punctuation,
// dropping comments and the text of literals; $tenant::uuid is $tenant.
func tokenize(sql string) []string {
	var out []string
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case strings.HasPrefix(sql[i:], "--"):
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
		case c == '\'':
			for i++; i < len(sql) && (sql[i] != '\'' || strings.HasPrefix(sql[i:], "''")); i++ {
				if sql[i] == '\'' {
					i++
				}
			}
			i++
			out = append(out, "'")
		case c == '$' || c == '_' || isWord(c):
			j := i + 1
			for j < len(sql) && (sql[j] == '_' || isWord(sql[j])) {
				j++
			}
			out = append(out, strings.ToLower(sql[i:j]))
			i = j
		case c == ':' && strings.HasPrefix(sql[i:], "::"):
			out = append(out, "::")
			i += 2
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		default:
			out = append(out, string(c))
			i++
		}
	}
	var norm []string
	for i := 0; i < len(out); i++ {
		norm = append(norm, out[i])
		if out[i] == "$tenant" && i+2 < len(out) && out[i+1] == "::" && out[i+2] == "uuid" {
			i += 2
		}
	}
	return norm
}

func isWord(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' }

// parse builds the group tree of tokens.
func parse(toks []string) node {
	root := node{group: true}
	stack := []*node{&root}
	for _, tk := range toks {
		top := stack[len(stack)-1]
		switch tk {
		case "(":
			top.kids = append(top.kids, node{group: true})
			stack = append(stack, &top.kids[len(top.kids)-1])
		case ")":
			if len(stack) > 1 {
				stack = stack[:len(stack)-1]
			}
		default:
			top.kids = append(top.kids, node{tok: tk})
		}
	}
	return root
}

// item is one token of a query's own text, with its parenthesis depth
// inside the query; sub-queries are left out (they are queries of their own).
type item struct {
	tok   string
	depth int
}

// flatten returns the text of the query n and the sub-queries within it.
func flatten(n node) (own []item, subs []node) {
	var walk func(kids []node, depth int)
	walk = func(kids []node, depth int) {
		for _, k := range kids {
			switch {
			case k.query():
				subs = append(subs, k)
				own = append(own, item{"(subquery)", depth})
			case k.group:
				own = append(own, item{"(", depth})
				walk(k.kids, depth+1)
				own = append(own, item{")", depth})
			default:
				own = append(own, item{k.tok, depth})
			}
		}
	}
	walk(n.kids, 0)
	return own, subs
}

// arms splits a query's text at UNION, INTERSECT and EXCEPT: each arm has
// its own FROM.
func arms(own []item) [][]item {
	var out [][]item
	start := 0
	for i, it := range own {
		if it.depth == 0 && (it.tok == "union" || it.tok == "intersect" || it.tok == "except") {
			out = append(out, own[start:i])
			start = i + 1
		}
	}
	return append(out, own[start:])
}

type ref struct {
	table, alias string
	insert       bool
}

// notAlias are the words that may follow a table name without being its alias.
var notAlias = map[string]bool{"where": true, "join": true, "left": true, "right": true, "inner": true, "full": true,
	"cross": true, "on": true, "set": true, "order": true, "group": true, "limit": true, "offset": true, "for": true,
	"returning": true, "union": true, "using": true, "values": true, "select": true, "having": true, "window": true,
	"except": true, "intersect": true, "natural": true, "lateral": true, "default": true}

// conjunctEnd are the words that may follow a top-level conjunct.
var conjunctEnd = map[string]bool{"and": true, "where": true, "join": true, "left": true, "right": true, "inner": true,
	"full": true, "cross": true, "order": true, "group": true, "limit": true, "offset": true, "for": true,
	"returning": true, "having": true, "window": true, ";": true}

// armFacts is what one arm of a query says about tenant routing.
type armFacts struct {
	refs     []ref
	problems []string // of the arm itself
	direct   []string // qualified aliases compared with $tenant
	bare     []string // unqualified columns compared with $tenant
	edges    [][2]string
}

// readArm finds the table references and the tenant conjuncts of an arm.
func readArm(arm []item, tables map[string]string) armFacts {
	var f armFacts
	tok := func(i int) string {
		if i < 0 || i >= len(arm) {
			return ""
		}
		return arm[i].tok
	}
	for i := 0; i < len(arm); i++ {
		w := arm[i].tok
		if _, ok := tables[w]; ok && tok(i+1) != "." && tok(i-1) != "." && tok(i-1) != "as" {
			prev := tok(i - 1)
			if !slices.Contains([]string{"from", "join", "update", "into", "using", ","}, prev) ||
				prev == "update" && slices.Contains([]string{"for", "do", "key"}, tok(i-2)) {
				f.problems = append(f.problems, fmt.Sprintf("mentions %s where the check cannot tell how it is used", w))
				continue
			}
			if prev == "," && !commaFrom(arm, i) {
				f.problems = append(f.problems, fmt.Sprintf("mentions %s after a comma outside a FROM list", w))
				continue
			}
			r := ref{table: w, alias: w, insert: prev == "into"}
			j := i + 1
			if tok(j) == "as" {
				j++
			}
			if a := tok(j); a != "" && !notAlias[a] && isName(a) && !r.insert {
				r.alias = a
			}
			f.refs = append(f.refs, r)
			if r.insert {
				if p := insertValue(arm, i); p != "" {
					f.problems = append(f.problems, fmt.Sprintf("inserts into %s %s", w, p))
				}
			}
			continue
		}
		// A top-level conjunct: [WHERE|ON|AND] lhs = rhs [AND|clause end].
		if arm[i].depth != 0 || tok(i+1) != "=" || !slices.Contains([]string{"where", "on", "and"}, leftStart(arm, i)) {
			continue
		}
		lhs, _ := operand(arm, i, -1)
		rhs, ri := operand(arm, i+2, +1)
		if end := tok(ri + 1); end != "" && !conjunctEnd[end] {
			continue
		}
		switch {
		case rhs == "$tenant" || lhs == "$tenant":
			other := lhs
			if lhs == "$tenant" {
				other = rhs
			}
			if a, col, ok := strings.Cut(other, "."); ok {
				f.direct = append(f.direct, a+"."+col)
			} else {
				f.bare = append(f.bare, other)
			}
		case strings.Contains(lhs, ".") && strings.Contains(rhs, "."):
			f.edges = append(f.edges, [2]string{lhs, rhs})
		}
		i = ri
	}
	return f
}

// leftStart returns the word before the operand that ends at i.
func leftStart(arm []item, i int) string {
	if i >= 2 && arm[i-1].tok == "." {
		i -= 2
	}
	if i == 0 {
		return ""
	}
	return arm[i-1].tok
}

// operand reads a name or alias.name at i (dir -1: ending at i; +1:
// starting at i) and returns it with the index of its far end.
func operand(arm []item, i, dir int) (string, int) {
	at := func(k int) string {
		if k < 0 || k >= len(arm) {
			return ""
		}
		return arm[k].tok
	}
	if dir < 0 {
		if at(i-1) == "." {
			return at(i-2) + "." + at(i), i - 2
		}
		return at(i), i
	}
	if at(i+1) == "." {
		return at(i) + "." + at(i+2), i + 2
	}
	return at(i), i
}

// commaFrom reports whether the comma before i separates FROM items.
func commaFrom(arm []item, i int) bool {
	for k := i - 1; k >= 0; k-- {
		if arm[k].depth != arm[i].depth {
			continue
		}
		switch arm[k].tok {
		case "from":
			return true
		case "select", "where", "set", "returning", "on", "order", "group", "values", "into":
			return false
		}
	}
	return false
}

func isName(s string) bool {
	return s != "" && (s[0] == '_' || 'a' <= s[0] && s[0] <= 'z') && !strings.HasPrefix(s, "$")
}

// insertValue checks that INSERT INTO (at i) gives tenant_id as $tenant:
// the value in tenant_id's position of VALUES (…) or of the SELECT list.
func insertValue(arm []item, i int) string {
	if i+1 >= len(arm) || arm[i+1].tok != "(" {
		return "without a column list"
	}
	cols, k := split(arm, i+2, arm[i+1].depth+1)
	pos := slices.IndexFunc(cols, func(c []string) bool { return len(c) == 1 && c[0] == "tenant_id" })
	if pos < 0 {
		return "without tenant_id"
	}
	k++ // past ")"
	var vals [][]string
	switch {
	case k < len(arm) && arm[k].tok == "values" && k+1 < len(arm) && arm[k+1].tok == "(":
		vals, _ = split(arm, k+2, arm[k+1].depth+1)
	case k < len(arm) && arm[k].tok == "select":
		vals, _ = split(arm, k+1, arm[k].depth)
	default:
		return "from neither VALUES nor SELECT"
	}
	if pos >= len(vals) || !slices.Equal(vals[pos], []string{"$tenant"}) {
		return "with tenant_id not given as $tenant"
	}
	return ""
}

// split reads comma-separated expressions at depth from i to the end of
// the list (its closing parenthesis, or FROM, ON, WHERE or RETURNING at
// that depth), and
// returns them with the index where the list ends.
func split(arm []item, i, depth int) ([][]string, int) {
	var out [][]string
	var cur []string
	for ; i < len(arm); i++ {
		it := arm[i]
		if it.depth < depth || it.depth == depth && slices.Contains([]string{"from", "on", "returning", "where"}, it.tok) {
			break
		}
		if it.depth == depth && it.tok == "," {
			out = append(out, cur)
			cur = nil
			continue
		}
		cur = append(cur, it.tok)
	}
	return append(out, cur), i
}

// checkTenantRouting returns the problems of one statement and how many
// tenant table references it has.
func checkTenantRouting(sql string, tables map[string]string) ([]string, int) {
	var problems []string
	var reads []ref        // every reference but INSERT targets
	bare := map[int]bool{} // reads routed by an unqualified condition of their own SELECT
	anchored := map[string]bool{}
	var edges [][2]string
	var walk func(n node)
	walk = func(n node) {
		own, subs := flatten(n)
		for _, arm := range arms(own) {
			f := readArm(arm, tables)
			problems = append(problems, f.problems...)
			edges = append(edges, f.edges...)
			for _, d := range f.direct {
				anchored[d] = true
			}
			var mine []ref
			for _, r := range f.refs {
				if !r.insert {
					mine = append(mine, r)
				}
			}
			if len(mine) == 1 && slices.Contains(f.bare, tables[mine[0].table]) {
				bare[len(reads)] = true
			}
			reads = append(reads, mine...)
		}
		for _, s := range subs {
			walk(s)
		}
	}
	walk(parse(tokenize(sql)))
	// A qualified condition names an alias, so it must name one table.
	uses := map[string]int{}
	for _, r := range reads {
		uses[r.alias]++
	}
	column := func(r ref) string { return r.alias + "." + tables[r.table] }
	isKey := map[string]bool{}
	for i, r := range reads {
		if uses[r.alias] == 1 {
			isKey[column(r)] = true
			if bare[i] {
				anchored[column(r)] = true
			}
		}
	}
	// Only the tenant columns count: a condition on any other column routes
	// nothing. Routing then spreads along co-located joins.
	edges = slices.DeleteFunc(edges, func(e [2]string) bool { return !isKey[e[0]] || !isKey[e[1]] })
	for changed := true; changed; {
		changed = false
		for _, e := range edges {
			for _, p := range [][2]string{e, {e[1], e[0]}} {
				if anchored[p[0]] && !anchored[p[1]] {
					anchored[p[1]] = true
					changed = true
				}
			}
		}
	}
	for i, r := range reads {
		name := r.table
		if r.alias != r.table {
			name += " (alias " + r.alias + ")"
		}
		switch {
		case bare[i] || uses[r.alias] == 1 && anchored[column(r)]:
		case uses[r.alias] > 1:
			problems = append(problems, fmt.Sprintf("%s is not routed: alias %s names %d tables; give each reference its own alias",
				name, r.alias, uses[r.alias]))
		default:
			problems = append(problems, fmt.Sprintf("%s is not routed: no %s = $tenant, and no join on %s to a routed table",
				name, column(r), column(r)))
		}
	}
	return problems, len(reads)
}

// TestStatementsAreCitusSafe walks every statement for the forms Citus
// refuses or mishandles on distributed tables (issue 12, point 5), each of
// which has a form that is as right on plain PostgreSQL: an INSERT … SELECT
// without RETURNING or ON CONFLICT (Citus inserts with COPY, which
// row-level security refuses); a time or volatile function inside ON
// CONFLICT DO UPDATE, or inside CASE, coalesce or any other call in an
// UPDATE's SET (pass the time from Go); a volatile function anywhere in an
// UPDATE's SET; a sub-select of zero columns (write SELECT 1).
func TestStatementsAreCitusSafe(t *testing.T) {
	stmts := store.Statements()
	names := make([]string, 0, len(stmts))
	for name := range stmts {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, p := range citusProblems(stmts[name]) {
			t.Errorf("%s: %s", name, p)
		}
	}
}

// TestCitusSafeCheckFails proves the check can fail.
func TestCitusSafeCheckFails(t *testing.T) {
	bad := []struct{ sql, want string }{
		{"INSERT INTO usage_events (tenant_id, event) SELECT $tenant::uuid, e FROM unnest($1::text[]) e", "RETURNING"},
		{"INSERT INTO ratings (tenant_id, stars) VALUES ($tenant, $1) ON CONFLICT (tenant_id) DO UPDATE SET updated_at = now()", "now"},
		{"INSERT INTO ratings (tenant_id, stars) VALUES ($tenant, $1) ON CONFLICT (tenant_id) DO UPDATE SET stars = 1 WHERE ratings.updated_at < now()", "now"},
		{"UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE tenant_id = $tenant", "now"},
		{"UPDATE skills SET published_at = CASE WHEN $1 THEN now() ELSE published_at END WHERE tenant_id = $tenant", "now"},
		{"UPDATE skills SET title = md5(random()::text) WHERE tenant_id = $tenant", "random"},
		{"SELECT count(*) FROM (SELECT FROM skills WHERE tenant_id = $tenant LIMIT 5) x", "zero columns"},
		{"SELECT 1 WHERE EXISTS (SELECT FROM skills WHERE tenant_id = $tenant)", "zero columns"},
	}
	good := []string{
		"INSERT INTO usage_events (tenant_id, event) SELECT $tenant::uuid, e FROM unnest($1::text[]) e RETURNING id",
		"INSERT INTO blobs (tenant_id, sha256) SELECT $tenant::uuid, s FROM unnest($1::text[]) s ON CONFLICT (tenant_id, sha256) DO NOTHING",
		"UPDATE skill_embeddings SET next_attempt_at = now() + make_interval(secs => least(3600, attempts)), updated_at = now() WHERE tenant_id = $tenant",
		"INSERT INTO ratings (tenant_id, stars) VALUES ($tenant, $1) ON CONFLICT (tenant_id) DO UPDATE SET updated_at = $2",
		"SELECT 1 FROM skills WHERE tenant_id = $tenant AND created_at < now() FOR UPDATE",
	}
	assertCheck(t, citusProblems, bad, good)
}

// Functions Citus will not run on a shard inside the forms above: the time
// functions (stable, but Citus evaluates them only where they stand alone)
// and the volatile ones.
var (
	timeFuncs = map[string]bool{"now": true, "current_timestamp": true, "statement_timestamp": true,
		"transaction_timestamp": true, "localtimestamp": true, "current_date": true, "current_time": true, "localtime": true}
	volatileFuncs = map[string]bool{"random": true, "gen_random_uuid": true, "clock_timestamp": true, "timeofday": true,
		"nextval": true, "setseed": true}
)

// citusProblems returns the Citus-unsafe forms of one statement.
func citusProblems(sql string) []string {
	var problems []string
	var walk func(n node)
	walk = func(n node) {
		own, subs := flatten(n)
		for _, arm := range arms(own) {
			problems = append(problems, armCitusProblems(arm)...)
		}
		for _, s := range subs {
			if len(s.kids) > 1 && s.kids[0].tok == "select" && s.kids[1].tok == "from" {
				problems = append(problems, "a sub-select of zero columns (SELECT FROM …); write SELECT 1 FROM …")
			}
			walk(s)
		}
	}
	walk(parse(tokenize(sql)))
	return problems
}

func armCitusProblems(arm []item) []string {
	var problems []string
	at := func(i int) string {
		if i < 0 || i >= len(arm) {
			return ""
		}
		return arm[i].tok
	}
	top := func(words ...string) int {
		for i, it := range arm {
			if it.depth == 0 && slices.Contains(words, it.tok) {
				return i
			}
		}
		return -1
	}
	if top("insert") >= 0 && top("select") >= 0 && top("returning") < 0 && top("conflict") < 0 {
		problems = append(problems, "INSERT … SELECT without RETURNING or ON CONFLICT: Citus would insert with COPY, which row-level security refuses")
	}
	for i, it := range arm {
		if it.depth != 0 {
			continue
		}
		switch {
		case it.tok == "do" && at(i+1) == "update":
			// ON CONFLICT DO UPDATE SET … [WHERE …]
			for k := i + 2; k < len(arm) && !(arm[k].depth == 0 && arm[k].tok == "returning"); k++ {
				if timeFuncs[arm[k].tok] || volatileFuncs[arm[k].tok] {
					problems = append(problems, fmt.Sprintf("%s() in ON CONFLICT DO UPDATE; pass the value from Go", arm[k].tok))
				}
			}
		case it.tok == "set" && top("update") >= 0 && top("update") < i && top("do") < 0:
			// UPDATE … SET … until FROM, WHERE or RETURNING.
			cases := 0
			for k := i + 1; k < len(arm); k++ {
				w, d := arm[k].tok, arm[k].depth
				if d == 0 && (w == "from" || w == "where" || w == "returning") {
					break
				}
				switch {
				case w == "case":
					cases++
				case w == "end" && cases > 0:
					cases--
				case volatileFuncs[w]:
					problems = append(problems, fmt.Sprintf("%s() in an UPDATE's SET; pass the value from Go", w))
				case timeFuncs[w] && (cases > 0 || d > 0):
					problems = append(problems, fmt.Sprintf("%s() inside CASE or a call in an UPDATE's SET; pass the time from Go", w))
				}
			}
		}
	}
	return problems
}
