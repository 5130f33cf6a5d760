package servicetest

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/core"
)

// TestDatabase checks an implementation of [core.Database]: DB returns one
// shared, working pool; Dialect names the SQL the database speaks; and the
// databases of two plugins built in one test are isolated from each other.
// newDatabase is called with plugin ids "a" and "b".
func TestDatabase(t *testing.T, newDatabase func(t *testing.T, pluginID string) core.Database) {
	t.Helper()
	ctx := context.Background()
	open := func(t *testing.T, d core.Database) *sql.DB {
		t.Helper()
		db, err := d.DB(ctx)
		if err != nil {
			t.Fatalf("DB() = %v", err)
		}
		return db
	}
	t.Run("DB returns the same pool every time", func(t *testing.T) {
		d := newDatabase(t, "a")
		if open(t, d) != open(t, d) {
			t.Errorf("two DB calls returned different pools; the pool is shared and must not be opened twice")
		}
	})
	t.Run("Dialect is the dialect of the database", func(t *testing.T) {
		d := newDatabase(t, "a")
		probes := map[core.Dialect]string{
			core.DialectSQLite:   "SELECT sqlite_version()",
			core.DialectPostgres: "SELECT current_setting('server_version')",
			core.DialectMySQL:    "SELECT @@version_comment",
		}
		probe, ok := probes[d.Dialect()]
		if !ok {
			t.Fatalf("Dialect() = %q, want one of sqlite, postgres, mysql", d.Dialect())
		}
		var v string
		if err := open(t, d).QueryRowContext(ctx, probe).Scan(&v); err != nil {
			t.Errorf("Dialect() = %q but the database does not answer %q: %v", d.Dialect(), probe, err)
		}
	})
	t.Run("the database stores and returns rows", func(t *testing.T) {
		d := newDatabase(t, "a")
		db := open(t, d)
		table := uniqueTable(t)
		createTable(t, db, table, "id INTEGER PRIMARY KEY, title VARCHAR(100) NOT NULL")
		exec(t, db, "INSERT INTO "+table+" (id, title) VALUES ("+placeholders(d.Dialect(), 2)+")", 1, "write tests")
		var title string
		if err := db.QueryRowContext(ctx, "SELECT title FROM "+table+" WHERE id = "+placeholders(d.Dialect(), 1), 1).Scan(&title); err != nil || title != "write tests" {
			t.Errorf("reading back the row: got %q, %v; want \"write tests\"", title, err)
		}
	})
	t.Run("transactions roll back", func(t *testing.T) {
		d := newDatabase(t, "a")
		db := open(t, d)
		table := uniqueTable(t)
		createTable(t, db, table, "id INTEGER PRIMARY KEY")
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatalf("BeginTx: %v", err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO "+table+" (id) VALUES (1)"); err != nil {
			t.Fatalf("insert in transaction: %v", err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatalf("Rollback: %v", err)
		}
		var n int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil || n != 0 {
			t.Errorf("rows after rollback: %d, %v; want 0", n, err)
		}
	})
	t.Run("the databases of two plugins are isolated", func(t *testing.T) {
		a, b := newDatabase(t, "a"), newDatabase(t, "b")
		table := uniqueTable(t)
		createTable(t, open(t, a), table, "id INTEGER")
		var n int
		if err := open(t, b).QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n); err == nil {
			t.Errorf("plugin b sees the table %s created by plugin a; each plugin must have its own database", table)
		}
	})
}

// createTable creates table and drops it when the test ends, so that
// suites run against a server that outlives the test can run again.
func createTable(t *testing.T, db *sql.DB, table, columns string) {
	t.Helper()
	exec(t, db, "CREATE TABLE "+table+" ("+columns+")")
	t.Cleanup(func() { _, _ = db.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+table) })
}

func exec(t *testing.T, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// placeholders returns n bind parameters in the dialect's syntax.
func placeholders(d core.Dialect, n int) string {
	p := make([]string, n)
	for i := range p {
		if d == core.DialectPostgres {
			p[i] = fmt.Sprintf("$%d", i+1)
		} else {
			p[i] = "?"
		}
	}
	return strings.Join(p, ", ")
}

// uniqueTable returns a table name unique to the test, so that suites run
// against a shared server do not collide.
func uniqueTable(t *testing.T) string {
	var b strings.Builder
	b.WriteString("servicetest_")
	for _, r := range strings.ToLower(t.Name()) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	s := b.String()
	if len(s) > 60 {
		s = s[len(s)-60:]
		s = "t" + s
	}
	return s
}
