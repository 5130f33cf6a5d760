package testdatabases

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"
)

// mysqlTestID returns the first MySQL/MariaDB engine whose connection
// string is set, or skips (fails under CI=true) naming the variables.
func mysqlTestID(t *testing.T) ID {
	t.Helper()
	for _, id := range []ID{MySQL8, MariaDB10, MariaDB11} {
		if os.Getenv(id.EnvVar()) != "" {
			return id
		}
	}
	msg := "set " + MariaDB10.EnvVar() + " (or " + MySQL8.EnvVar() + ", " + MariaDB11.EnvVar() + ") to test MySQL shadow tables"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func leaseSlot(t *testing.T, db *DB) *slot {
	t.Helper()
	got, err := db.h.get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	l, ok := got.(*serverLease)
	if !ok {
		t.Fatalf("%s database has no server lease", db.ID)
	}
	return l.s
}

// Shadowing is used exactly when the template allows exact copies.
func TestMySQLShadowEligibility(t *testing.T) {
	id := mysqlTestID(t)
	base := "CREATE TABLE p (id INTEGER AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50) NOT NULL)"
	cases := []struct {
		name string
		ddl  []string
		why  string // "" means shadowed
	}{
		{"plain", []string{base, "CREATE TABLE q (k INTEGER PRIMARY KEY, v TEXT)", "INSERT INTO p (name) VALUES ('seed')"}, ""},
		{"foreign key", []string{base, "CREATE TABLE c (id INTEGER AUTO_INCREMENT PRIMARY KEY, p_id INTEGER, FOREIGN KEY (p_id) REFERENCES p (id))"}, "foreign key"},
		{"trigger", []string{base, "CREATE TRIGGER p_trg BEFORE INSERT ON p FOR EACH ROW SET NEW.name = UPPER(NEW.name)"}, "triggers"},
		{"view", []string{base, "CREATE VIEW pv AS SELECT id, name FROM p"}, "views"},
		{"routine", []string{base, "CREATE FUNCTION pf() RETURNS INTEGER DETERMINISTIC RETURN (SELECT COUNT(*) FROM p)"}, "routines"},
		{"not innodb", []string{base, "CREATE TABLE m (id INTEGER PRIMARY KEY) ENGINE=MyISAM"}, "not a plain InnoDB table"},
		{"fulltext", []string{base, "CREATE TABLE f (id INTEGER PRIMARY KEY, body TEXT, FULLTEXT INDEX f_body (body))"}, "FULLTEXT"},
		{"zero id seed", []string{"SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')", base, "INSERT INTO p (id, name) VALUES (0, 'zero')"}, "is 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			set := New(t, id, WithMigrator(SQL(map[Dialect][]string{DialectMySQL: c.ddl})))
			db := set.Init(t, id)
			sl := leaseSlot(t, db)
			tp := sl.t.(*myTemplate)
			if c.why == "" {
				if !sl.shadowed || tp.shadowWhy != "" {
					t.Fatalf("not shadowed (reason %q), want shadowed", tp.shadowWhy)
				}
			} else if sl.shadowed || !strings.Contains(tp.shadowWhy, c.why) {
				t.Fatalf("shadowed = %v, reason %q; want not shadowed because of %q", sl.shadowed, tp.shadowWhy, c.why)
			}
			// Either way the database works and the first id is 1.
			r, err := db.Exec("INSERT INTO p (name) VALUES ('x')")
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := r.LastInsertId(); c.name != "plain" && c.name != "zero id seed" && got != 1 {
				t.Errorf("first id = %d, want 1", got)
			}
		})
	}
}

// shadowSchema has the three kinds of copies a reset handles: an empty
// table (TRUNCATE), a seeded table, and an empty table whose counter
// starts above 1 (both DROP TEMPORARY + CREATE TEMPORARY).
var shadowSchema = SQL(map[Dialect][]string{DialectMySQL: {
	"CREATE TABLE items (id INTEGER AUTO_INCREMENT PRIMARY KEY, name VARCHAR(255) NOT NULL, n INTEGER, INDEX items_name (name))",
	"CREATE TABLE kinds (id INTEGER AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50) NOT NULL)",
	"INSERT INTO kinds (name) VALUES ('a'), ('b')",
	"CREATE TABLE big (id INTEGER AUTO_INCREMENT PRIMARY KEY, v INTEGER) AUTO_INCREMENT = 100",
	"CREATE TABLE plain (k VARCHAR(10) PRIMARY KEY)",
}})

func shadowInsert(t *testing.T, db interface {
	Exec(string, ...any) (sql.Result, error)
}, q string, args ...any) int64 {
	t.Helper()
	r, err := db.Exec(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	id, err := r.LastInsertId()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func shadowCount(t *testing.T, db interface {
	QueryRow(string, ...any) *sql.Row
}, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// checkShadowPristine asserts a fresh, shadowed database equal to the
// template, then writes to every table and moves every counter.
func checkShadowPristine(t *testing.T, db *DB, tag string) {
	t.Helper()
	if !leaseSlot(t, db).shadowed {
		t.Error("database is not shadowed")
	}
	for table, want := range map[string]int{"items": 0, "kinds": 2, "big": 0, "plain": 0} {
		if n := shadowCount(t, db, table); n != want {
			t.Errorf("%s has %d rows, want %d (rows leaked between tests)", table, n, want)
		}
	}
	var a string
	if err := db.QueryRow("SELECT name FROM kinds WHERE id = 1").Scan(&a); err != nil || a != "a" {
		t.Errorf("seed row 1 = %q (%v), want a", a, err)
	}
	for _, c := range []struct {
		q    string
		want int64
	}{
		{"INSERT INTO items (name, n) VALUES ('" + tag + "', 1)", 1},
		{"INSERT INTO kinds (name) VALUES ('" + tag + "')", 3},
		{"INSERT INTO big (v) VALUES (1)", 100},
	} {
		if got := shadowInsert(t, db, c.q); got != c.want {
			t.Errorf("%s: id %d, want %d (counter leaked between tests)", c.q, got, c.want)
		}
	}
	for _, q := range []string{
		"INSERT INTO items (name, n) VALUES ('x', 2), ('y', 3)",
		"DELETE FROM items WHERE name = 'y'",
		"UPDATE kinds SET name = 'changed' WHERE id = 1",
		"DELETE FROM kinds WHERE id = 2",
		"INSERT INTO plain (k) VALUES ('" + tag + "')",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// A test cannot see another's rows or counters through the shadow tables,
// sequentially or in parallel.
func TestMySQLShadowIsolation(t *testing.T) {
	id := mysqlTestID(t)
	set := New(t, id, WithMigrator(shadowSchema))
	t.Run("sequential", func(t *testing.T) {
		for i := 0; i < 6; i++ {
			t.Run("", func(t *testing.T) { checkShadowPristine(t, set.Init(t, id), "seq") })
		}
	})
	t.Run("parallel", func(t *testing.T) {
		for i := 0; i < 8; i++ {
			t.Run("", func(t *testing.T) {
				t.Parallel()
				db := set.Init(t, id)
				checkShadowPristine(t, db, "par")
				if n := shadowCount(t, db, "items"); n != 2 {
					t.Errorf("items = %d, want this test's 2", n)
				}
			})
		}
	})
}

// What tells a copy from its table moves the test's rows into the base
// tables first, with exact counters, and the next test is pristine again.
func TestMySQLUnshadow(t *testing.T) {
	id := mysqlTestID(t)
	set := New(t, id, WithMigrator(shadowSchema))
	ctx := context.Background()
	// gap leaves items with rows 1 and 2 and its counter at 4.
	gap := func(t *testing.T, db *DB) {
		for i := 0; i < 3; i++ {
			shadowInsert(t, db, "INSERT INTO items (name) VALUES ('g')")
		}
		if _, err := db.Exec("DELETE FROM items WHERE id = 3"); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name string
		run  func(t *testing.T, db *DB)
	}{
		{"SHOW CREATE TABLE inside a transaction keeps it", func(t *testing.T, db *DB) {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			shadowInsert(t, tx, "INSERT INTO items (name) VALUES ('in tx')")
			var n, def string
			if err := tx.QueryRow("SHOW CREATE TABLE items").Scan(&n, &def); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(def, "TEMPORARY") || !strings.Contains(def, "AUTO_INCREMENT=2") {
				t.Errorf("SHOW CREATE TABLE = %s; want the base table with counter 2", def)
			}
			if err := tx.Rollback(); err != nil {
				t.Fatal(err)
			}
			if n := shadowCount(t, db, "items"); n != 0 {
				t.Errorf("items = %d after rollback, want 0", n)
			}
			if leaseSlot(t, db).shadowed {
				t.Error("still shadowed")
			}
		}},
		{"information_schema sees the test's counter", func(t *testing.T, db *DB) {
			gap(t, db)
			var ai int64
			if err := db.QueryRow("SELECT AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'items'").Scan(&ai); err != nil || ai != 4 {
				t.Errorf("AUTO_INCREMENT = %d (%v), want 4", ai, err)
			}
			if got := shadowInsert(t, db, "INSERT INTO items (name) VALUES ('after')"); got != 4 {
				t.Errorf("id = %d, want 4", got)
			}
			if n := shadowCount(t, db, "kinds"); n != 2 {
				t.Errorf("kinds = %d, want 2", n)
			}
		}},
		{"TEMPORARY table named like a table", func(t *testing.T, db *DB) {
			shadowInsert(t, db, "INSERT INTO items (name) VALUES ('x')")
			if _, err := db.Exec("CREATE TEMPORARY TABLE items (x INTEGER)"); err != nil {
				t.Fatalf("CREATE TEMPORARY TABLE items: %v (MySQL allows it)", err)
			}
			if n := shadowCount(t, db, "items"); n != 0 {
				t.Errorf("own temporary items has %d rows", n)
			}
			if _, err := db.Exec("DROP TEMPORARY TABLE items"); err != nil {
				t.Fatal(err)
			}
			if n := shadowCount(t, db, "items"); n != 1 {
				t.Errorf("items = %d, want the test's 1", n)
			}
		}},
		{"connection string", func(t *testing.T, db *DB) {
			gap(t, db)
			drv, dsn := db.DriverDSN()
			other, err := sql.Open(drv, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			if n := shadowCount(t, other, "items"); n != 2 {
				t.Errorf("other session sees %d items, want 2", n)
			}
			if got := shadowInsert(t, other, "INSERT INTO items (name) VALUES ('other')"); got != 4 {
				t.Errorf("other session's id = %d, want 4", got)
			}
			if n := shadowCount(t, db, "items"); n != 3 {
				t.Errorf("test sees %d items, want 3", n)
			}
		}},
		{"DDL", func(t *testing.T, db *DB) {
			gap(t, db)
			if _, err := db.Exec("DROP TABLE kinds"); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec("SELECT * FROM kinds"); err == nil {
				t.Error("kinds still exists after DROP TABLE")
			}
			if got := shadowInsert(t, db, "INSERT INTO items (name) VALUES ('after')"); got != 4 {
				t.Errorf("id = %d, want 4", got)
			}
		}},
		{"TRUNCATE inside a transaction", func(t *testing.T, db *DB) {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			shadowInsert(t, tx, "INSERT INTO items (name) VALUES ('a'), ('b')")
			if _, err := tx.Exec("TRUNCATE TABLE items"); err != nil {
				t.Fatal(err)
			}
			_ = tx.Rollback() // TRUNCATE committed implicitly
			if n := shadowCount(t, db, "items"); n != 0 {
				t.Errorf("items = %d after TRUNCATE, want 0", n)
			}
			if got := shadowInsert(t, db, "INSERT INTO items (name) VALUES ('after')"); got != 1 {
				t.Errorf("id after TRUNCATE = %d, want 1", got)
			}
		}},
		{"prepared SHOW CREATE TABLE", func(t *testing.T, db *DB) {
			c, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			shadowInsert(t, db, "INSERT INTO items (name) VALUES ('x')")
			if _, err := c.ExecContext(ctx, "PREPARE sc FROM 'SHOW CREATE TABLE items'"); err != nil {
				t.Fatal(err)
			}
			var n, def string
			if err := c.QueryRowContext(ctx, "EXECUTE sc").Scan(&n, &def); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(def, "TEMPORARY") {
				t.Errorf("SHOW CREATE TABLE = %s; want the base table", def)
			}
			if n := shadowCount(t, db, "items"); n != 1 {
				t.Errorf("items = %d, want 1", n)
			}
		}},
		{"text ROLLBACK", func(t *testing.T, db *DB) {
			c, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for _, q := range []string{"BEGIN", "INSERT INTO items (name) VALUES ('x')", "ROLLBACK"} {
				if _, err := c.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			var n int
			if err := c.QueryRowContext(ctx, "SELECT COUNT(*) FROM items").Scan(&n); err != nil || n != 0 {
				t.Errorf("items = %d (%v), want 0", n, err)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := set.Init(t, id)
			if !leaseSlot(t, db).shadowed {
				t.Fatal("database is not shadowed")
			}
			c.run(t, db)
		})
		t.Run(c.name+"/next", func(t *testing.T) { checkShadowPristine(t, set.Init(t, id), "next") })
	}
}
