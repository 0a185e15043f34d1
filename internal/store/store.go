// Package store holds the SQL of every tenant table, one file per entity,
// with the statements themselves in sql/*.sql. Every function takes a
// database.Q, so it runs inside a tenant scope and row-level security
// applies; nothing here can reach the pool. Every statement also names the
// scope's tenant as $tenant (which the scope binds) on every tenant table
// it reads or writes, so that a database distributed by tenant_id (Citus)
// sends it to one shard group; TestEveryStatementNamesTheTenant checks it.
package store

import (
	"bufio"
	"embed"
	"fmt"
	"io/fs"
	"strings"
)

//go:embed sql/*.sql
var sqlFiles embed.FS

// queries maps "-- name: X" to the statement below it.
var queries = func() map[string]string {
	out := map[string]string{}
	err := fs.WalkDir(sqlFiles, "sql", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := sqlFiles.ReadFile(path)
		if err != nil {
			return err
		}
		var name string
		var body strings.Builder
		flush := func() {
			if name != "" {
				out[name] = strings.TrimSpace(body.String())
			}
			body.Reset()
		}
		sc := bufio.NewScanner(strings.NewReader(string(data)))
		for sc.Scan() {
			line := sc.Text()
			if n, ok := strings.CutPrefix(strings.TrimSpace(line), "-- name:"); ok {
				flush()
				name = strings.TrimSpace(n)
				if _, dup := out[name]; dup {
					return fmt.Errorf("%s: query %s defined twice", path, name)
				}
				continue
			}
			body.WriteString(line)
			body.WriteByte('\n')
		}
		flush()
		return sc.Err()
	})
	if err != nil {
		panic(err)
	}
	return out
}()

// query returns a named statement; a missing name is a programming error
// caught by any test that touches the package.
func query(name string) string {
	q, ok := queries[name]
	if !ok {
		panic("store: no query named " + name)
	}
	return q
}
