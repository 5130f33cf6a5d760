package testdatabases_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/greenroom-dev/greenroom/testdatabases"
)

// schema used by the isolation tests: a parent/child pair with a foreign
// key, plus seeded data the tests may change.
var isoSchema = testdatabases.SQL(map[testdatabases.Dialect][]string{
	testdatabases.DialectSQLite: {
		"CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, name VARCHAR(255) NOT NULL, n INTEGER)",
		"CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, item_id INTEGER NOT NULL REFERENCES items(id), body TEXT)",
		"CREATE TABLE kinds (id INTEGER PRIMARY KEY AUTOINCREMENT, name VARCHAR(50) NOT NULL)",
		"INSERT INTO kinds (name) VALUES ('a'), ('b')",
	},
	testdatabases.DialectPostgres: {
		"CREATE TABLE items (id SERIAL PRIMARY KEY, name VARCHAR(255) NOT NULL, n INTEGER)",
		"CREATE TABLE notes (id SERIAL PRIMARY KEY, item_id INTEGER NOT NULL REFERENCES items(id), body TEXT)",
		"CREATE TABLE kinds (id SERIAL PRIMARY KEY, name VARCHAR(50) NOT NULL)",
		"INSERT INTO kinds (name) VALUES ('a'), ('b')",
	},
	testdatabases.DialectMySQL: {
		"CREATE TABLE items (id INTEGER AUTO_INCREMENT PRIMARY KEY, name VARCHAR(255) NOT NULL, n INTEGER)",
		"CREATE TABLE notes (id INTEGER AUTO_INCREMENT PRIMARY KEY, item_id INTEGER NOT NULL, body TEXT, FOREIGN KEY (item_id) REFERENCES items(id))",
		"CREATE TABLE kinds (id INTEGER AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50) NOT NULL)",
		"INSERT INTO kinds (name) VALUES ('a'), ('b')",
	},
})

// plainSchema is isoSchema without the foreign key. On MySQL/MariaDB its
// tables are shadowed by TEMPORARY copies in each pooled session (the fast
// path for AUTO_INCREMENT counters); isoSchema's foreign key keeps the base
// tables. The isolation tests run on both.
var plainSchema = testdatabases.SQL(map[testdatabases.Dialect][]string{
	testdatabases.DialectSQLite: {
		"CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, name VARCHAR(255) NOT NULL, n INTEGER)",
		"CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, item_id INTEGER NOT NULL, body TEXT)",
		"CREATE TABLE kinds (id INTEGER PRIMARY KEY AUTOINCREMENT, name VARCHAR(50) NOT NULL)",
		"INSERT INTO kinds (name) VALUES ('a'), ('b')",
	},
	testdatabases.DialectPostgres: {
		"CREATE TABLE items (id SERIAL PRIMARY KEY, name VARCHAR(255) NOT NULL, n INTEGER)",
		"CREATE TABLE notes (id SERIAL PRIMARY KEY, item_id INTEGER NOT NULL, body TEXT)",
		"CREATE TABLE kinds (id SERIAL PRIMARY KEY, name VARCHAR(50) NOT NULL)",
		"INSERT INTO kinds (name) VALUES ('a'), ('b')",
	},
	testdatabases.DialectMySQL: {
		"CREATE TABLE items (id INTEGER AUTO_INCREMENT PRIMARY KEY, name VARCHAR(255) NOT NULL, n INTEGER)",
		"CREATE TABLE notes (id INTEGER AUTO_INCREMENT PRIMARY KEY, item_id INTEGER NOT NULL, body TEXT)",
		"CREATE TABLE kinds (id INTEGER AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50) NOT NULL)",
		"INSERT INTO kinds (name) VALUES ('a'), ('b')",
	},
})

// eachSchema runs f once per isolation schema in Rollback mode, in
// subtests "fk" and "plain", and once in Clone mode ("clone").
func eachSchema(t *testing.T, f func(t *testing.T, set *testdatabases.Set)) {
	t.Helper()
	for _, sc := range []struct {
		name string
		m    testdatabases.Migrator
		iso  testdatabases.Isolation
	}{{"fk", isoSchema, testdatabases.Rollback}, {"plain", plainSchema, testdatabases.Rollback}, {"clone", isoSchema, testdatabases.Clone}} {
		t.Run(sc.name, func(t *testing.T) {
			f(t, testdatabases.New(t, testdatabases.WithMigrator(sc.m), sc.iso))
		})
	}
}

// q rewrites ? placeholders to $n for PostgreSQL.
func q(db *testdatabases.DB, s string) string {
	if db.Dialect != testdatabases.DialectPostgres {
		return s
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func mustExec(t testing.TB, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, d *testdatabases.DB, s string, args ...any) sql.Result {
	t.Helper()
	r, err := db.ExecContext(context.Background(), q(d, s), args...)
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return r
}

func count(t testing.TB, db *testdatabases.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// insertID inserts an item and returns its generated id.
func insertID(t testing.TB, db *testdatabases.DB, name string) int64 {
	t.Helper()
	if db.Dialect == testdatabases.DialectPostgres {
		var id int64
		if err := db.QueryRow("INSERT INTO items (name, n) VALUES ($1, 1) RETURNING id", name).Scan(&id); err != nil {
			t.Fatalf("insert: %v", err)
		}
		return id
	}
	r := mustExec(t, db.DB, db, "INSERT INTO items (name, n) VALUES (?, 1)", name)
	id, err := r.LastInsertId()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func columns(t testing.TB, db *testdatabases.DB, table string) string {
	t.Helper()
	rows, err := db.Query("SELECT * FROM " + table + " WHERE 1 = 0")
	if err != nil {
		t.Fatalf("columns of %s: %v", table, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatalf("columns of %s: %v", table, err)
	}
	return strings.Join(cols, ",")
}

// tableExists reports whether table exists, by querying it (a catalog
// query would take MySQL's shadowed sessions off their fast path). An
// error other than "no such table" fails t.
func tableExists(t testing.TB, db *testdatabases.DB, table string) bool {
	t.Helper()
	rows, err := db.Query("SELECT * FROM " + table + " WHERE 1 = 0")
	if err == nil {
		rows.Close()
		return true
	}
	var pe *pgconn.PgError
	var me *mysql.MySQLError
	switch {
	case errors.As(err, &pe) && pe.Code == "42P01": // undefined_table
	case errors.As(err, &me) && me.Number == 1146: // ER_NO_SUCH_TABLE
	case db.Dialect == testdatabases.DialectSQLite && strings.Contains(err.Error(), "no such table"):
	default:
		t.Fatalf("does table %s exist: %v", table, err)
	}
	return false
}

// checkPristine asserts the database is exactly the migrated template.
func checkPristine(t testing.TB, db *testdatabases.DB) {
	t.Helper()
	if n := count(t, db, "items"); n != 0 {
		t.Errorf("items has %d rows from another test", n)
	}
	if n := count(t, db, "notes"); n != 0 {
		t.Errorf("notes has %d rows from another test", n)
	}
	if n := count(t, db, "kinds"); n != 2 {
		t.Errorf("kinds has %d rows, want the 2 seeded", n)
	}
	if got := columns(t, db, "items"); got != "id,name,n" {
		t.Errorf("items columns = %s, want id,name,n (schema change leaked)", got)
	}
	if tableExists(t, db, "extra") {
		t.Errorf("table extra from another test exists")
	}
}

// dirty does everything a test may do that must not leak.
func dirty(t testing.TB, db *testdatabases.DB, tag string) {
	t.Helper()
	id := insertID(t, db, tag)
	if id != 1 {
		t.Errorf("first generated id = %d, want 1 (counter leaked from another test)", id)
	}
	mustExec(t, db.DB, db, "INSERT INTO notes (item_id, body) VALUES (?, ?)", id, tag)
	mustExec(t, db.DB, db, "UPDATE kinds SET name = ? WHERE id = 1", tag)
	mustExec(t, db.DB, db, "DELETE FROM kinds WHERE id = 2")
	mustExec(t, db.DB, db, "INSERT INTO kinds (name) VALUES (?)", tag)
	if id2 := insertID(t, db, tag+"2"); id2 != 2 {
		t.Errorf("second generated id = %d, want 2", id2)
	}
	if db.Dialect == testdatabases.DialectPostgres {
		// setval with is_called false leaves pg_sequence_last_value
		// NULL, as on a sequence never used: the reset must still see
		// that it moved (fixtures.Load does this after explicit ids).
		var v int64
		if err := db.QueryRow("SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence('items', 'id'), 100, false)").Scan(&v); err != nil {
			t.Fatal(err)
		}
	}
}

func TestIsolationSequential(t *testing.T) {
	eachSchema(t, func(t *testing.T, set *testdatabases.Set) {
		for _, id := range set.IDs() {
			t.Run(string(id), func(t *testing.T) {
				for i := 0; i < 6; i++ {
					t.Run(fmt.Sprint(i), func(t *testing.T) {
						db := set.Init(t, id)
						checkPristine(t, db)
						dirty(t, db, fmt.Sprint("seq", i))
					})
				}
			})
		}
	})
}

func TestIsolationParallel(t *testing.T) {
	eachSchema(t, func(t *testing.T, set *testdatabases.Set) {
		for _, id := range set.IDs() {
			t.Run(string(id), func(t *testing.T) {
				for i := 0; i < 8; i++ {
					t.Run(fmt.Sprint(i), func(t *testing.T) {
						t.Parallel()
						db := set.Init(t, id)
						checkPristine(t, db)
						dirty(t, db, fmt.Sprint("par", i))
						if n := count(t, db, "items"); n != 2 {
							t.Errorf("items = %d, want this test's 2 rows only", n)
						}
					})
				}
			})
		}
	})
}

func TestSchemaChangesAreIsolated(t *testing.T) {
	eachSchema(t, func(t *testing.T, set *testdatabases.Set) {
		set.Each(t, func(t *testing.T, db *testdatabases.DB) {
			for i := 0; i < 4; i++ {
				t.Run(fmt.Sprint(i), func(t *testing.T) {
					db := set.Init(t, db.ID)
					checkPristine(t, db)
					insertID(t, db, "before ddl")
					mustExec(t, db.DB, db, "CREATE TABLE extra (id INTEGER PRIMARY KEY, v VARCHAR(10))")
					mustExec(t, db.DB, db, "INSERT INTO extra (id, v) VALUES (1, 'x')")
					mustExec(t, db.DB, db, "ALTER TABLE items ADD COLUMN added INTEGER")
					mustExec(t, db.DB, db, "DROP TABLE notes")
					// The test still sees its own work after the DDL.
					if n := count(t, db, "items"); n != 1 {
						t.Errorf("items = %d after DDL, want 1", n)
					}
					if db.Isolation == testdatabases.Clone && db.Dialect == testdatabases.DialectPostgres {
						// As in production with pgx: a statement cached on a
						// connection before ALTER TABLE fails once there with
						// "cached plan must not change result type", and pgx
						// prepares it anew on the next call.
						rows, err := db.Query("SELECT * FROM items WHERE 1 = 0")
						if err == nil {
							rows.Close()
						} else if !strings.Contains(err.Error(), "cached plan must not change result type") {
							t.Fatal(err)
						}
					}
					if got := columns(t, db, "items"); got != "id,name,n,added" {
						t.Errorf("columns = %s", got)
					}
					if id := insertID(t, db, "after ddl"); id != 2 {
						t.Errorf("id after DDL = %d, want 2", id)
					}
				})
			}
		})
	})
}

func TestPluginTransactions(t *testing.T) {
	eachSchema(t, func(t *testing.T, set *testdatabases.Set) {
		set.Each(t, func(t *testing.T, db *testdatabases.DB) {
			ctx := context.Background()
			// Commit is visible.
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			mustExec(t, tx, db, "INSERT INTO items (name) VALUES (?)", "committed")
			if err := tx.Commit(); err != nil {
				t.Fatalf("commit: %v", err)
			}
			// Rollback is not.
			tx, err = db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			mustExec(t, tx, db, "INSERT INTO items (name) VALUES (?)", "rolled back")
			var inTx int
			if err := tx.QueryRow("SELECT COUNT(*) FROM items").Scan(&inTx); err != nil || inTx != 2 {
				t.Errorf("inside tx count = %d, %v; want 2", inTx, err)
			}
			if err := tx.Rollback(); err != nil {
				t.Fatalf("rollback: %v", err)
			}
			if n := count(t, db, "items"); n != 1 {
				t.Errorf("items = %d after commit+rollback, want 1", n)
			}
			// A failed statement inside a transaction, then rollback.
			tx, err = db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec("INSERT INTO no_such_table VALUES (1)"); err == nil {
				t.Error("insert into missing table succeeded")
			}
			if err := tx.Rollback(); err != nil {
				t.Errorf("rollback after error: %v", err)
			}
			// A failed statement outside a transaction does not break the next.
			if _, err := db.Exec("SELECT * FROM no_such_table"); err == nil {
				t.Error("select from missing table succeeded")
			}
			if n := count(t, db, "items"); n != 1 {
				t.Errorf("items = %d after a failed statement, want 1", n)
			}
			// Tx done twice.
			tx, err = db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatalf("commit: %v", err)
			}
			if err := tx.Commit(); !errors.Is(err, sql.ErrTxDone) {
				t.Errorf("second commit = %v, want ErrTxDone", err)
			}
			// Rows of a transaction are read before it ends.
			tx, err = db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := tx.Query("SELECT name FROM items")
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for rows.Next() {
				var n string
				if err := rows.Scan(&n); err != nil {
					t.Fatal(err)
				}
				names = append(names, n)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			rows.Close()
			if err := tx.Commit(); err != nil {
				t.Fatalf("commit: %v", err)
			}
			if len(names) != 1 || names[0] != "committed" {
				t.Errorf("names = %v", names)
			}
		})
	})
}

func TestConcurrentConnections(t *testing.T) {
	eachSchema(t, func(t *testing.T, set *testdatabases.Set) {
		set.Each(t, func(t *testing.T, db *testdatabases.DB) {
			ctx := context.Background()
			const workers, each = 6, 15
			var wg sync.WaitGroup
			errs := make(chan error, workers*each)
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					for i := 0; i < each; i++ {
						if i%3 == 0 {
							tx, err := db.BeginTx(ctx, nil)
							if err != nil {
								errs <- err
								continue
							}
							if _, err := tx.Exec(q(db, "INSERT INTO items (name, n) VALUES (?, ?)"), "tx", w); err != nil {
								errs <- err
								_ = tx.Rollback()
								continue
							}
							if err := tx.Commit(); err != nil {
								errs <- err
							}
							continue
						}
						if _, err := db.ExecContext(ctx, q(db, "INSERT INTO items (name, n) VALUES (?, ?)"), "plain", w); err != nil {
							errs <- err
						}
						var n int
						if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM items").Scan(&n); err != nil {
							errs <- err
						}
					}
				}(w)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if n := count(t, db, "items"); n != workers*each {
				t.Errorf("items = %d, want %d", n, workers*each)
			}
			// Two pinned connections see each other's committed work.
			c1, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer c1.Close()
			c2, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer c2.Close()
			mustExec(t, c1, db, "INSERT INTO items (name) VALUES (?)", "c1")
			var n int
			if err := c2.QueryRowContext(ctx, "SELECT COUNT(*) FROM items WHERE name = 'c1'").Scan(&n); err != nil || n != 1 {
				t.Errorf("c2 sees %d rows of c1 (%v), want 1", n, err)
			}
			// Nested reads while iterating (a second query per row).
			rows, err := db.QueryContext(ctx, "SELECT id FROM items ORDER BY id LIMIT 3")
			if err != nil {
				t.Fatal(err)
			}
			read := 0
			for rows.Next() {
				var id int
				if err := rows.Scan(&id); err != nil {
					t.Fatal(err)
				}
				var name string
				if err := db.QueryRowContext(ctx, q(db, "SELECT name FROM items WHERE id = ?"), id).Scan(&name); err != nil {
					t.Errorf("nested query: %v", err)
				}
				read++
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			rows.Close()
			if read != 3 {
				t.Errorf("iterated %d rows, want 3", read)
			}
		})
	})
}

func TestConnectionStringWritesAreIsolated(t *testing.T) {
	eachSchema(t, func(t *testing.T, set *testdatabases.Set) {
		for _, id := range set.IDs() {
			t.Run(string(id), func(t *testing.T) {
				for i := 0; i < 3; i++ {
					t.Run(fmt.Sprint(i), func(t *testing.T) {
						db := set.Init(t, id)
						checkPristine(t, db)
						insertID(t, db, "via db")
						drv, dsn := db.DriverDSN()
						other, err := sql.Open(drv, dsn)
						if err != nil {
							t.Fatal(err)
						}
						defer other.Close()
						var n int
						if err := other.QueryRow("SELECT COUNT(*) FROM items").Scan(&n); err != nil || n != 1 {
							t.Errorf("other connection sees %d items (%v), want the test's 1", n, err)
						}
						if _, err := other.Exec(q(db, "INSERT INTO items (name, n) VALUES (?, 2)"), "via dsn"); err != nil {
							t.Fatal(err)
						}
						if n := count(t, db, "items"); n != 2 {
							t.Errorf("db sees %d items, want 2", n)
						}
						name := db.Name()
						if !strings.Contains(db.ConnectionString(), name[strings.LastIndex(name, "/")+1:]) {
							t.Errorf("connection string %q does not name the database %q", db.ConnectionString(), name)
						}
					})
				}
			})
		}
	})
}

func TestTransactionControlText(t *testing.T) {
	eachSchema(t, func(t *testing.T, set *testdatabases.Set) {
		for _, id := range set.IDs() {
			t.Run(string(id), func(t *testing.T) {
				for i := 0; i < 3; i++ {
					t.Run(fmt.Sprint(i), func(t *testing.T) {
						db := set.Init(t, id)
						checkPristine(t, db)
						ctx := context.Background()
						c, err := db.Conn(ctx)
						if err != nil {
							t.Fatal(err)
						}
						defer c.Close()
						mustExec(t, c, db, "BEGIN")
						mustExec(t, c, db, "INSERT INTO items (name) VALUES (?)", "x")
						mustExec(t, c, db, "ROLLBACK")
						mustExec(t, c, db, "INSERT INTO items (name) VALUES (?)", "kept")
						var n int
						if err := c.QueryRowContext(ctx, "SELECT COUNT(*) FROM items").Scan(&n); err != nil || n != 1 {
							t.Errorf("items = %d (%v), want 1 after text ROLLBACK", n, err)
						}
					})
				}
			})
		}
	})
}

// The first statement of a test runs without a savepoint; when it fails the
// outer transaction is restarted, and nothing of the test is lost later.
func TestFailingStatements(t *testing.T) {
	set := testdatabases.New(t, testdatabases.WithMigrator(isoSchema))
	set.Each(t, func(t *testing.T, db *testdatabases.DB) {
		if _, err := db.Exec("INSERT INTO no_such_table VALUES (1)"); err == nil {
			t.Fatal("insert into a missing table succeeded")
		}
		if _, err := db.Exec("SELEKT 1"); err == nil {
			t.Fatal("syntax error accepted")
		}
		if id := insertID(t, db, "a"); id != 1 {
			t.Errorf("id = %d, want 1", id)
		}
		if _, err := db.Exec("INSERT INTO notes (item_id, body) VALUES (999, 'no such item')"); err == nil {
			t.Error("foreign key not enforced")
		}
		if id := insertID(t, db, "b"); id != 2 && db.Dialect != testdatabases.DialectMySQL {
			t.Errorf("id = %d, want 2", id)
		}
		if n := count(t, db, "items"); n != 2 {
			t.Errorf("items = %d after failed statements, want 2", n)
		}
		checkKinds := count(t, db, "kinds")
		if checkKinds != 2 {
			t.Errorf("kinds = %d", checkKinds)
		}
	})
}
