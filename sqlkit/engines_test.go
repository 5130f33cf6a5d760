package sqlkit_test

import (
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/sqlkit"
	"github.com/greenroom-dev/greenroom/testdatabases"
)

var schema = testdatabases.SQL(map[testdatabases.Dialect][]string{
	testdatabases.DialectPostgres: {
		"CREATE TABLE parents (id INTEGER PRIMARY KEY)",
		"CREATE TABLE items (id INTEGER PRIMARY KEY, code VARCHAR(10) NOT NULL UNIQUE, qty INTEGER CHECK (qty >= 0), small SMALLINT, parent_id INTEGER REFERENCES parents (id))",
		"INSERT INTO parents (id) VALUES (1)",
		"INSERT INTO items (id, code, parent_id) VALUES (1, 'taken', 1)",
	},
	testdatabases.DialectMySQL: {
		"CREATE TABLE parents (id INTEGER PRIMARY KEY) ENGINE = InnoDB",
		"CREATE TABLE items (id INTEGER PRIMARY KEY, code VARCHAR(10) NOT NULL UNIQUE, qty INTEGER CHECK (qty >= 0), small SMALLINT, parent_id INTEGER, FOREIGN KEY (parent_id) REFERENCES parents (id)) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4",
		"INSERT INTO parents (id) VALUES (1)",
		"INSERT INTO items (id, code, parent_id) VALUES (1, 'taken', 1)",
	},
	testdatabases.DialectSQLite: {
		"CREATE TABLE parents (id INTEGER PRIMARY KEY)",
		"CREATE TABLE items (id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE, qty INTEGER CHECK (qty >= 0), small INTEGER, parent_id INTEGER REFERENCES parents (id)) STRICT",
		"INSERT INTO parents (id) VALUES (1)",
		"INSERT INTO items (id, code, parent_id) VALUES (1, 'taken', 1)",
	},
})

// TestClassifyOnEveryEngine provokes each kind of error on each engine and
// checks what Classify and HTTPError make of it.
func TestClassifyOnEveryEngine(t *testing.T) {
	t.Parallel()
	insert := "INSERT INTO items (id, code, qty, small, parent_id) VALUES (?, ?, ?, ?, ?)"
	type row struct {
		id         int
		code       any
		qty, small any
		parent     any
	}
	tests := []struct {
		name       string
		row        row
		want       sqlkit.Kind
		wantStatus int
		only       []core.Dialect // the engines that refuse the row; nil for all
	}{
		{"duplicate unique value", row{id: 2, code: "taken"}, sqlkit.Unique, http.StatusConflict, nil},
		{"duplicate primary key", row{id: 1, code: "new"}, sqlkit.Unique, http.StatusConflict, nil},
		{"missing parent", row{id: 2, code: "new", parent: 99}, sqlkit.ForeignKey, http.StatusConflict, nil},
		{"null in NOT NULL", row{id: 2, code: nil}, sqlkit.NotNull, http.StatusBadRequest, nil},
		{"check", row{id: 2, code: "new", qty: -1}, sqlkit.Check, http.StatusBadRequest, nil},
		{"too long", row{id: 2, code: "elevenchars"}, sqlkit.ValueInvalid, http.StatusBadRequest, serverEngines},
		// The value is in the SQL: pgx refuses a too large parameter for
		// a SMALLINT before sending it.
		{"out of range", row{id: 2, code: "new", small: literal("1048576")}, sqlkit.ValueInvalid, http.StatusBadRequest, serverEngines},
		{"wrong type", row{id: 2, code: "new", qty: "many"}, sqlkit.ValueInvalid, http.StatusBadRequest, nil},
		{"NUL", row{id: 2, code: "a\x00b"}, sqlkit.ValueInvalid, http.StatusBadRequest, []core.Dialect{core.DialectPostgres}},
	}
	testdatabases.New(t, testdatabases.WithMigrator(schema)).Each(t, func(t *testing.T, db *testdatabases.DB) {
		d := core.Dialect(db.Dialect)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if tt.only != nil && !slices.Contains(tt.only, d) {
					t.Skipf("%s stores this row", d)
				}
				r := tt.row
				query, args := insert, []any{r.id, r.code, r.qty, r.small, r.parent}
				if l, ok := r.small.(literal); ok {
					query, args = strings.Replace(insert, "?, ?)", string(l)+", ?)", 1), []any{r.id, r.code, r.qty, r.parent}
				}
				_, err := db.ExecContext(t.Context(), sqlkit.Rebind(d, query), args...)
				if err == nil {
					t.Fatalf("insert %+v succeeded, want a %s", r, tt.want)
				}
				checkKind(t, fmt.Errorf("insert item: %w", err), tt.want, tt.wantStatus)
			})
		}
		t.Run("referenced parent deleted", func(t *testing.T) {
			_, err := db.ExecContext(t.Context(), "DELETE FROM parents WHERE id = 1")
			checkKind(t, err, sqlkit.ForeignKey, http.StatusConflict)
		})
		t.Run("no rows is not a database failure", func(t *testing.T) {
			var id int
			err := db.QueryRowContext(t.Context(), "SELECT id FROM items WHERE code = 'none'").Scan(&id)
			if !errors.Is(err, sql.ErrNoRows) {
				t.Fatalf("query = %v, want sql.ErrNoRows", err)
			}
			if got := sqlkit.Classify(err); got != sqlkit.Unknown || sqlkit.HTTPError(err, "x") != err {
				t.Errorf("Classify(sql.ErrNoRows) = %s, want unknown and HTTPError to return it unchanged", got)
			}
		})
		t.Run("closed connection", func(t *testing.T) {
			conn, err := db.Conn(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			conn.Close()
			_, err = conn.ExecContext(t.Context(), "SELECT 1")
			checkKind(t, err, sqlkit.ConnectionLost, http.StatusServiceUnavailable)
		})
	})
}

// serverEngines are the engines that enforce VARCHAR and SMALLINT limits;
// SQLite stores any length and any integer.
var serverEngines = []core.Dialect{core.DialectPostgres, core.DialectMySQL}

// literal is a value written into the SQL rather than passed as a parameter.
type literal string

// checkKind checks Classify and HTTPError for err.
func checkKind(t *testing.T, err error, want sqlkit.Kind, wantStatus int) {
	t.Helper()
	if got := sqlkit.Classify(err); got != want {
		t.Fatalf("Classify(%v) = %s, want %s", err, got, want)
	}
	herr := sqlkit.HTTPError(err, "the item")
	if got := errs.StatusCode(herr); got != wantStatus {
		t.Errorf("HTTPError(%v) = %v with status %d, want %d", err, herr, got, wantStatus)
	}
	e, ok := errs.As(herr)
	if !ok {
		t.Fatalf("HTTPError(%v) = %v, want an *errs.Error", err, herr)
	}
	if e.Cause != err {
		t.Errorf("HTTPError's cause = %v, want the database error", e.Cause)
	}
	t.Logf("%s: %s (%s)", want, e.Message, err)
}

// openSession opens a real server session on db's database, apart from the
// test's own (which multiplexes every connection onto one session).
func openSession(t *testing.T, db *testdatabases.DB) *sql.Conn {
	t.Helper()
	driverName, dsn := db.DriverDSN()
	sdb, err := sql.Open(driverName, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sdb.Close() })
	conn, err := sdb.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if core.Dialect(db.Dialect) == core.DialectSQLite {
		// Fail at once on a lock rather than after the DSN's busy_timeout.
		if _, err := conn.ExecContext(t.Context(), "PRAGMA busy_timeout = 0"); err != nil {
			t.Fatal(err)
		}
	}
	return conn
}

func exec(t *testing.T, c *sql.Conn, query string) {
	t.Helper()
	if _, err := c.ExecContext(t.Context(), query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// TestClassifyConcurrencyOnEveryEngine provokes a transaction that loses to
// another, without waiting: PostgreSQL's serialization failure and NOWAIT
// lock, MariaDB's NOWAIT lock (ER_LOCK_WAIT_TIMEOUT) and SQLite's busy
// database.
func TestClassifyConcurrencyOnEveryEngine(t *testing.T) {
	t.Parallel()
	testdatabases.New(t, testdatabases.WithMigrator(schema)).Each(t, func(t *testing.T, db *testdatabases.DB) {
		ctx := t.Context()
		a, b := openSession(t, db), openSession(t, db)
		var err error
		switch core.Dialect(db.Dialect) {
		case core.DialectPostgres:
			// a reads in a snapshot, b changes the row and commits, a's
			// update of the row then cannot serialize.
			exec(t, a, "BEGIN ISOLATION LEVEL REPEATABLE READ")
			exec(t, a, "SELECT qty FROM items WHERE id = 1")
			exec(t, b, "UPDATE items SET qty = 5 WHERE id = 1")
			_, err = a.ExecContext(ctx, "UPDATE items SET qty = 6 WHERE id = 1")
			exec(t, a, "ROLLBACK")
			checkKind(t, err, sqlkit.Serialization, http.StatusServiceUnavailable)

			exec(t, a, "BEGIN")
			exec(t, a, "SELECT id FROM items WHERE id = 1 FOR UPDATE")
			_, err = b.ExecContext(ctx, "SELECT id FROM items WHERE id = 1 FOR UPDATE NOWAIT")
			exec(t, a, "ROLLBACK")
		case core.DialectMySQL:
			exec(t, a, "BEGIN")
			exec(t, a, "SELECT id FROM items WHERE id = 1 FOR UPDATE")
			_, err = b.ExecContext(ctx, "SELECT id FROM items WHERE id = 1 FOR UPDATE NOWAIT")
			exec(t, a, "ROLLBACK")
		case core.DialectSQLite:
			exec(t, a, "BEGIN IMMEDIATE")
			_, err = b.ExecContext(ctx, "BEGIN IMMEDIATE")
			exec(t, a, "ROLLBACK")
		}
		checkKind(t, err, sqlkit.Serialization, http.StatusServiceUnavailable)
	})
}

// TestClassifyConnectionLost ends a server session from another one. SQLite
// has no server and no session to end; its connection loss is covered by
// TestClassifyOnEveryEngine's closed connection and by the unit tests.
func TestClassifyConnectionLost(t *testing.T) {
	t.Parallel()
	testdatabases.New(t, testdatabases.WithMigrator(schema)).Each(t, func(t *testing.T, db *testdatabases.DB) {
		ctx := t.Context()
		victim, killer := openSession(t, db), openSession(t, db)
		switch core.Dialect(db.Dialect) {
		case core.DialectPostgres:
			var pid int
			if err := victim.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
				t.Fatal(err)
			}
			// With a timeout, pg_terminate_backend waits until the
			// session has ended (PostgreSQL 14 and later).
			var ok bool
			if err := killer.QueryRowContext(ctx, "SELECT pg_terminate_backend($1, 30000)", pid).Scan(&ok); err != nil || !ok {
				t.Fatalf("pg_terminate_backend = %v, %v", ok, err)
			}
		case core.DialectMySQL:
			var id int
			if err := victim.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id); err != nil {
				t.Fatal(err)
			}
			exec(t, killer, fmt.Sprintf("KILL CONNECTION %d", id))
		case core.DialectSQLite:
			t.Skip("SQLite has no server session to end")
		}
		_, err := victim.ExecContext(ctx, "SELECT 1")
		checkKind(t, err, sqlkit.ConnectionLost, http.StatusServiceUnavailable)
	})
}
