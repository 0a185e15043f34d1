// Package soak holds the tests that put the whole server under load,
// faults and hostile input on loopback, and check that tenants never see
// each other's data and that nothing accepted is lost:
//
//   - TestIsolationSoak: 32 concurrent clients of 16 tenants run a random
//     mix of every REST endpoint and MCP tool; every response is checked
//     against the caller's own tenant, and the counters against the events
//     the server accepted.
//   - TestIsolationSoakPgBouncer: the same through PgBouncer in
//     transaction pooling mode.
//   - TestDatabaseOutage and TestKillMidUpload: PostgreSQL stopped and
//     started under load, and the server killed during an upload.
//   - TestHostileInput: body limits, bombs, deep nesting, huge
//     frontmatter and invalid UTF-8 through the API.
//
// SKILLVAULT_SOAK_REQUESTS sets the soak's request count (default 10000;
// -short uses 3000).
package soak
