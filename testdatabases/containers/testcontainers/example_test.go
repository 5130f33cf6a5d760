package testcontainers_test

import (
	"testing"

	"github.com/greenroom-dev/greenroom/testdatabases"
	"github.com/greenroom-dev/greenroom/testdatabases/containers/testcontainers"
)

// Run the suite on PostgreSQL 17 and MariaDB 11 in containers when their
// connection strings are not set (a set one is used instead).
func ExampleProvider() {
	_ = func(t *testing.T) {
		dbs := testdatabases.New(t, testdatabases.SQLite3, testdatabases.Postgres17, testdatabases.MariaDB11,
			testdatabases.WithContainerProvider(testcontainers.Provider()))
		dbs.Each(t, func(t *testing.T, db *testdatabases.DB) {
			// db.DB is the test's own database.
		})
	}
}
