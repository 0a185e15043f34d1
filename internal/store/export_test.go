package store

// ListStatement exposes the list statement of a sort to the plan test.
var ListStatement = listStatement

// Queries are the named statements of sql/*.sql, for the plan tests.
var Queries = queries
