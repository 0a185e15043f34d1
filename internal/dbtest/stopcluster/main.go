// Command stopcluster stops the PostgreSQL cluster the tests share
// (dbtest.ClusterDir, /tmp/skillvault-test-pg unless SKILLVAULT_TEST_PG
// names another). The tests leave it running so the next run starts in
// milliseconds; `make test-db-stop` runs this.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/skillvault/skillvault/internal/dbtest"
	"github.com/skillvault/skillvault/internal/pglocal"
)

func main() {
	dir := dbtest.ClusterDir()
	if err := pglocal.Open(dir).Stop(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "stopcluster:", err)
		os.Exit(1)
	}
	fmt.Println("the test cluster in", dir, "is stopped")
}
