// Package archtest holds tests about the shape of the code base.
package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The database layer: the only packages that may open connections or hold
// a pool. Everything else reaches tenant data through database.Scope.
var databaseLayer = []string{
	"internal/database/",
	"internal/schema/",
	"internal/pglocal/",
	"internal/embedded/",
	"internal/dbtest/",
	"internal/bench/", // measures unscoped and naive queries on purpose
}

var forbiddenImports = map[string]string{
	"github.com/jackc/pgx/v5/pgxpool": "holds a connection pool",
	"github.com/jackc/pgx/v5/stdlib":  "opens database/sql connections",
	"database/sql":                    "opens connections",
	"github.com/lib/pq":               "opens connections",
}

var forbiddenCalls = map[string]bool{"Connect": true, "ConnectConfig": true, "ConnectWithOptions": true}

func repoRoot(t *testing.T) string {
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}

// walkGo parses every Go file of the repository that keep accepts (by
// its slash-separated path from the root) and hands it to fn.
func walkGo(t *testing.T, keep func(rel string) bool, fn func(rel string, f *ast.File)) {
	t.Helper()
	root := repoRoot(t)
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" || d.Name() == ".skillvault") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if !keep(rel) {
			return nil
		}
		checked++
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		fn(rel, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatal("no Go files were checked")
	}
}

func TestOnlyTheDatabaseLayerConnects(t *testing.T) {
	outside := func(rel string) bool {
		for _, p := range databaseLayer {
			if strings.HasPrefix(rel, p) {
				return false
			}
		}
		return true
	}
	walkGo(t, outside, func(rel string, f *ast.File) {
		pgxName := ""
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if why, bad := forbiddenImports[p]; bad {
				t.Errorf("%s imports %s, which %s: only the database layer may (use database.Scope)", rel, p, why)
			}
			if p == "github.com/jackc/pgx/v5" {
				pgxName = "pgx"
				if imp.Name != nil {
					pgxName = imp.Name.Name
				}
			}
		}
		if pgxName == "" {
			return
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == pgxName && forbiddenCalls[sel.Sel.Name] {
				t.Errorf("%s calls pgx.%s: only the database layer may open connections", rel, sel.Sel.Name)
			}
			return true
		})
	})
}
