package store

// ListStatement exposes the list statement of a sort to the plan test.
var ListStatement = listStatement
