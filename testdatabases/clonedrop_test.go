package testdatabases

import (
	"context"
	"database/sql"
	"strings"
	"testing"
)

// closedDB is a *sql.DB whose every call fails (sql: database is closed)
// without a server.
func closedDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", "postgres://127.0.0.1:1/none")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return db
}

// A Clone database that cannot be dropped is reported by name, as the
// other drops are, instead of being left on the server in silence.
func TestDropCloneReportsFailure(t *testing.T) {
	t.Parallel()
	const name = "greenroom_test_deadbeef_12345678_1"
	check := func(t *testing.T, warn *syncBuffer, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(warn.String(), w) {
				t.Errorf("warnings %q lack %q", warn.String(), w)
			}
		}
	}
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		warn := &syncBuffer{}
		s := &pgServer{id: Postgres15, warn: warn}
		s.clones.get(func() *sql.DB { return closedDB(t) })
		s.dropClone(context.Background(), &slot{name: name})
		check(t, warn, "postgres15: dropping the clone "+name+": sql: database is closed")
	})
	t.Run("mysql", func(t *testing.T) {
		t.Parallel()
		warn := &syncBuffer{}
		s := &mysqlServer{id: MariaDB10, warn: warn}
		s.clones.get(func() *sql.DB { return closedDB(t) })
		s.dropClone(context.Background(), &slot{name: name})
		check(t, warn,
			"mariadb10: ending the sessions of the clone "+name+" before dropping it: sql: database is closed",
			"mariadb10: dropping the clone "+name+": sql: database is closed")
	})
}
