package store

import "fmt"

// ListStatement exposes the list statement of a sort to the plan test.
var ListStatement = listStatement

// Statements are the named statements of sql/*.sql, and the list
// statements assembled from two of them, by name.
func Statements() map[string]string {
	out := map[string]string{}
	for name, sql := range queries {
		out[name] = sql
	}
	for k := range listStatements {
		out[fmt.Sprintf("SkillList(sort %s, filtered %v)", k.sort, k.filtered)] = listStatement(k.sort, k.filtered, 0)
		if !k.filtered {
			out[fmt.Sprintf("SkillList(sort %s, first page)", k.sort)] = listStatement(k.sort, false, 30)
		}
	}
	return out
}

// Queries are the named statements of sql/*.sql, for the plan tests.
var Queries = queries
