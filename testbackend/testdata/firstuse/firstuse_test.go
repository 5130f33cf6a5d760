// Package firstuse is the test binary of BenchmarkFirstUse (package
// testbackend): one test per first use, run alone in a fresh process, that
// prints how long its first use took in the process.
package firstuse

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/examples/todo"
	"github.com/greenroom-dev/greenroom/testbackend"
	"github.com/greenroom-dev/greenroom/testdatabases"
)

// schema is BenchmarkIsolatedDatabase's: ten tables t0..t9, each with an
// auto-increment primary key, a name with an index and a number.
var schema = func() testdatabases.Migrator {
	m := map[testdatabases.Dialect][]string{}
	for i := range 10 {
		m[testdatabases.DialectSQLite] = append(m[testdatabases.DialectSQLite],
			fmt.Sprintf("CREATE TABLE t%d (id INTEGER PRIMARY KEY AUTOINCREMENT, name VARCHAR(255) NOT NULL, n INTEGER)", i),
			fmt.Sprintf("CREATE INDEX t%d_name ON t%d (name)", i, i))
		m[testdatabases.DialectPostgres] = append(m[testdatabases.DialectPostgres],
			fmt.Sprintf("CREATE TABLE t%d (id SERIAL PRIMARY KEY, name VARCHAR(255) NOT NULL, n INTEGER)", i),
			fmt.Sprintf("CREATE INDEX t%d_name ON t%d (name)", i, i))
		m[testdatabases.DialectMySQL] = append(m[testdatabases.DialectMySQL],
			fmt.Sprintf("CREATE TABLE t%d (id INTEGER AUTO_INCREMENT PRIMARY KEY, name VARCHAR(255) NOT NULL, n INTEGER, INDEX t%d_name (name))", i, i))
	}
	return testdatabases.SQL(m)
}()

// report prints the time since start for the benchmark to read.
func report(start time.Time) {
	fmt.Printf("greenroom-first-use-ns %d\n", time.Since(start).Nanoseconds())
}

// database takes the process's first isolated database of id and inserts
// a row.
func database(t *testing.T, id testdatabases.ID) {
	start := time.Now()
	db := testdatabases.New(t, id, testdatabases.WithMigrator(schema)).Init(t, id)
	q := "INSERT INTO t0 (name, n) VALUES (?, ?)"
	if db.Dialect == testdatabases.DialectPostgres {
		q = "INSERT INTO t0 (name, n) VALUES ($1, $2)"
	}
	if _, err := db.ExecContext(context.Background(), q, "first", 1); err != nil {
		t.Fatal(err)
	}
	report(start)
}

// server returns the first of ids whose connection string is set.
func server(t *testing.T, ids ...testdatabases.ID) testdatabases.ID {
	for _, id := range ids {
		if os.Getenv(id.EnvVar()) != "" {
			return id
		}
	}
	t.Skipf("set one of the connection strings of %v", ids)
	return ""
}

func TestSQLite(t *testing.T) { database(t, testdatabases.SQLite3) }

func TestPostgres(t *testing.T) {
	database(t, server(t, testdatabases.Postgres13, testdatabases.Postgres14, testdatabases.Postgres15,
		testdatabases.Postgres16, testdatabases.Postgres17, testdatabases.Postgres18))
}

func TestMySQL(t *testing.T) {
	database(t, server(t, testdatabases.MySQL8, testdatabases.MariaDB10, testdatabases.MariaDB11))
}

// TestBackend starts the todo plugin, whose mock SQLite database is
// migrated, and serves one request.
func TestBackend(t *testing.T) {
	start := time.Now()
	tb := testbackend.Start(t, todo.Plugin)
	tb.Get("/api/todo/todos").AsUser("user:default/alice").Do(t).ExpectStatus(t, http.StatusOK)
	report(start)
}
