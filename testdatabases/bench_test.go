package testdatabases_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/greenroom-dev/greenroom/testdatabases"
)

// benchSchema is the schema: tables t0..t9, each with an
// auto-increment integer primary key id, name varchar(255) not null,
// n integer, and an index on name.
var benchSchema = func() testdatabases.Migrator {
	m := map[testdatabases.Dialect][]string{}
	for i := 0; i < 10; i++ {
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

// BenchmarkIsolatedDatabase: acquire a fresh isolated database with the
// schema above, insert one row, release it; in Rollback mode (sqlite,
// postgres, mysql) and in Clone mode (sqlite-clone, postgres-clone,
// mysql-clone; on SQLite the two are the same). A Clone database is made
// in the background and dropped after use, so its figure is bounded by how
// fast the server makes clones.
func BenchmarkIsolatedDatabase(b *testing.B) {
	mysqlID := testdatabases.MariaDB10
	for _, id := range []testdatabases.ID{testdatabases.MySQL8, testdatabases.MariaDB10, testdatabases.MariaDB11} {
		if os.Getenv(id.EnvVar()) != "" {
			mysqlID = id
			break
		}
	}
	pgID := testdatabases.Postgres15
	for _, id := range []testdatabases.ID{testdatabases.Postgres13, testdatabases.Postgres14, testdatabases.Postgres15, testdatabases.Postgres16, testdatabases.Postgres17, testdatabases.Postgres18} {
		if os.Getenv(id.EnvVar()) != "" {
			pgID = id
			break
		}
	}
	for _, c := range []struct {
		name string
		id   testdatabases.ID
		iso  testdatabases.Isolation
	}{
		{"sqlite", testdatabases.SQLite3, testdatabases.Rollback},
		{"postgres", pgID, testdatabases.Rollback},
		{"mysql", mysqlID, testdatabases.Rollback},
		{"sqlite-clone", testdatabases.SQLite3, testdatabases.Clone},
		{"postgres-clone", pgID, testdatabases.Clone},
		{"mysql-clone", mysqlID, testdatabases.Clone},
	} {
		b.Run(c.name, func(b *testing.B) {
			set := testdatabases.New(b, c.id, testdatabases.WithMigrator(benchSchema), c.iso)
			ctx := context.Background()
			// Warm up outside the timer: the template is built and the pool
			// is filled once per process, not per operation.
			if os.Getenv(c.id.EnvVar()) == "" && c.id != testdatabases.SQLite3 {
				b.Skipf("set %s to benchmark %s", c.id.EnvVar(), c.id)
			}
			op := func() {
				db, err := set.Open(ctx, c.id)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := db.ExecContext(ctx, insertSQL(db.Dialect), "name", 1); err != nil {
					b.Fatal(err)
				}
				db.Close()
			}
			op()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				op()
			}
		})
	}
}

func insertSQL(d testdatabases.Dialect) string {
	if d == testdatabases.DialectPostgres {
		return "INSERT INTO t0 (name, n) VALUES ($1, $2)"
	}
	return "INSERT INTO t0 (name, n) VALUES (?, ?)"
}
