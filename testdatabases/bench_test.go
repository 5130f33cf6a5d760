package testdatabases_test

import (
	"context"
	"fmt"
	"os"
	"strings"
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

// benchEngines are the sub-benchmarks: sqlite, the first PostgreSQL and the
// first MySQL/MariaDB engine whose variable is set (postgres15 and
// mariadb10 when none is, which then skip naming the variable).
func benchEngines() []struct {
	name string
	id   testdatabases.ID
	iso  testdatabases.Isolation
} {
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
	return []struct {
		name string
		id   testdatabases.ID
		iso  testdatabases.Isolation
	}{
		{"sqlite", testdatabases.SQLite3, testdatabases.Rollback},
		{"postgres", pgID, testdatabases.Rollback},
		{"mysql", mysqlID, testdatabases.Rollback},
		// Clone mode; on SQLite the two tiers are the same. A Clone
		// database is made in the background and dropped after use, so
		// its figure is bounded by how fast the server makes clones.
		{"sqlite-clone", testdatabases.SQLite3, testdatabases.Clone},
		{"postgres-clone", pgID, testdatabases.Clone},
		{"mysql-clone", mysqlID, testdatabases.Clone},
	}
}

// benchSet returns the Set of a sub-benchmark, or skips b when its engine
// has no connection string.
func benchSet(b *testing.B, id testdatabases.ID, iso testdatabases.Isolation) *testdatabases.Set {
	b.Helper()
	if os.Getenv(id.EnvVar()) == "" && id != testdatabases.SQLite3 {
		b.Skipf("set %s to benchmark %s", id.EnvVar(), id)
	}
	return testdatabases.New(b, id, testdatabases.WithMigrator(benchSchema), iso)
}

// isolatedOp is one operation: acquire a fresh isolated database, insert
// one row into t0 checking that the database was fresh, release it.
func isolatedOp(ctx context.Context, set *testdatabases.Set, id testdatabases.ID) error {
	db, err := set.Open(ctx, id)
	if err != nil {
		return err
	}
	defer db.Close()
	return insertFirst(ctx, db)
}

// insertFirst inserts one row into t0 and checks, in the same round trip,
// that it is the table's first: the row got id 1 (the counter was reset)
// and the table holds it alone (no row of an earlier operation is left).
func insertFirst(ctx context.Context, db *testdatabases.DB) error {
	var id, rows int64
	var err error
	switch db.Dialect {
	case testdatabases.DialectPostgres:
		// A subquery of RETURNING sees the table as it was before the insert.
		err = db.QueryRowContext(ctx, "INSERT INTO t0 (name, n) VALUES ($1, $2) RETURNING id, (SELECT count(*) FROM t0) + 1", "name", 1).Scan(&id, &rows)
	case testdatabases.DialectSQLite:
		// Here it sees the table after the insert.
		err = db.QueryRowContext(ctx, "INSERT INTO t0 (name, n) VALUES (?, ?) RETURNING id, (SELECT count(*) FROM t0)", "name", 1).Scan(&id, &rows)
	case testdatabases.DialectMySQL:
		// LAST_INSERT_ID() is what Result.LastInsertId reports.
		err = queryMulti(ctx, db, "INSERT INTO t0 (name, n) VALUES (?, ?); SELECT LAST_INSERT_ID(), COUNT(*) FROM t0", []any{"name", 1}, &id, &rows)
	}
	if err != nil {
		return fmt.Errorf("inserting into t0: %w", err)
	}
	if id != 1 || rows != 1 {
		return fmt.Errorf("the inserted row got id %d and t0 holds %d rows; want id 1 and 1 row: the database was not fresh", id, rows)
	}
	return nil
}

// queryMulti runs a multi-statement query and scans the one row of its
// result sets (those of other statements have no rows).
func queryMulti(ctx context.Context, db *testdatabases.DB, query string, args []any, dest ...any) error {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	n := 0
	for {
		for rows.Next() {
			n++
			if err := rows.Scan(dest...); err != nil {
				return err
			}
		}
		if !rows.NextResultSet() {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if n != 1 {
		return fmt.Errorf("%d rows, want 1", n)
	}
	return nil
}

// BenchmarkIsolatedDatabase: acquire a fresh isolated database with the
// schema above, insert one row (checking that it gets id 1 in an empty
// table), release it; one operation at a time. In Rollback mode (sqlite,
// postgres, mysql) and in Clone mode (sqlite-clone, postgres-clone,
// mysql-clone).
func BenchmarkIsolatedDatabase(b *testing.B) {
	for _, c := range benchEngines() {
		b.Run(c.name, func(b *testing.B) {
			set := benchSet(b, c.id, c.iso)
			ctx := context.Background()
			// Warm up outside the timer: the template is built and the pool
			// is filled once per process, not per operation.
			if err := isolatedOp(ctx, set, c.id); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := isolatedOp(ctx, set, c.id); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkIsolatedDatabaseParallel is BenchmarkIsolatedDatabase with the
// operations run by GOMAXPROCS goroutines at once (b.RunParallel), as
// parallel tests of one package would: ns/op is wall time divided by all
// operations, so it is below the sequential figure when operations overlap.
func BenchmarkIsolatedDatabaseParallel(b *testing.B) {
	for _, c := range benchEngines() {
		b.Run(c.name, func(b *testing.B) {
			set := benchSet(b, c.id, c.iso)
			ctx := context.Background()
			if err := isolatedOp(ctx, set, c.id); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := isolatedOp(ctx, set, c.id); err != nil {
						b.Error(err) // Fatal must not be called from this goroutine
						return
					}
				}
			})
		})
	}
}

// The benchmarks' check is not vacuous: a second insert into the same
// database fails it, on every engine.
func TestInsertFirstDetectsAUsedDatabase(t *testing.T) {
	t.Parallel()
	set := testdatabases.New(t, testdatabases.WithMigrator(benchSchema))
	set.Each(t, func(t *testing.T, db *testdatabases.DB) {
		ctx := context.Background()
		if err := insertFirst(ctx, db); err != nil {
			t.Fatalf("first insert: %v", err)
		}
		err := insertFirst(ctx, db)
		if err == nil || !strings.Contains(err.Error(), "got id 2 and t0 holds 2 rows") {
			t.Fatalf("second insert = %v, want the check to report id 2 and 2 rows", err)
		}
	})
}
