package sqlitefake

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"path/filepath"
	"testing"
)

func openCacheTestDB(t *testing.T) *sql.DB {
	t.Helper()
	db, _, err := openFile(filepath.Join(t.TempDir(), "cache.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec("CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestStatementCacheServesRepeatedAndNestedQueries(t *testing.T) {
	db := openCacheTestDB(t)
	for i, k := range []string{"a", "b", "c"} {
		if _, err := db.Exec("INSERT INTO kv (k, v) VALUES (?, ?)", k, i); err != nil {
			t.Fatal(err)
		}
	}
	// The same SQL while its rows are still open: the nested query must
	// not reuse (and reset) the busy statement.
	outer, err := db.Query("SELECT k FROM kv ORDER BY k")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for outer.Next() {
		var k string
		if err := outer.Scan(&k); err != nil {
			t.Fatal(err)
		}
		tx, err := db.Begin() // a second connection while outer holds the first
		if err != nil {
			t.Fatal(err)
		}
		inner, err := tx.Query("SELECT k FROM kv ORDER BY k")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for inner.Next() {
			n++
		}
		inner.Close()
		tx.Rollback()
		if n != 3 {
			t.Fatalf("nested query saw %d rows, want 3", n)
		}
		got = append(got, k)
	}
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	outer.Close()
	if len(got) != 3 {
		t.Fatalf("outer query = %v, want 3 keys", got)
	}
	// The same connection, the same SQL nested: forced with sql.Conn.
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r1, err := conn.QueryContext(context.Background(), "SELECT v FROM kv WHERE k = ?", "a")
	if err != nil {
		t.Fatal(err)
	}
	if !r1.Next() {
		t.Fatalf("first query: no row (%v)", r1.Err())
	}
	v1 := -1
	if err := r1.Scan(&v1); err != nil {
		t.Fatal(err)
	}
	// r1 is still open: this query needs the same SQL on the same
	// connection and must get a statement of its own.
	var v2 int
	if err := conn.QueryRowContext(context.Background(), "SELECT v FROM kv WHERE k = ?", "c").Scan(&v2); err != nil || v2 != 2 {
		t.Fatalf("nested same-SQL query = %d, %v; want 2", v2, err)
	}
	r1.Close()
	if v1 != 0 {
		t.Fatalf("first query = %d, want 0", v1)
	}
	// Repeated exec and query of cached statements with other arguments.
	for i := range 5 {
		if _, err := db.Exec("UPDATE kv SET v = ? WHERE k = ?", i*10, "b"); err != nil {
			t.Fatal(err)
		}
		var v int
		if err := db.QueryRow("SELECT v FROM kv WHERE k = ?", "b").Scan(&v); err != nil || v != i*10 {
			t.Fatalf("round %d: v = %d, %v", i, v, err)
		}
	}
}

func TestStatementCacheFollowsSchemaChanges(t *testing.T) {
	db := openCacheTestDB(t)
	db.SetMaxOpenConns(1)
	var n int
	if err := db.QueryRow("SELECT count(*) FROM kv").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("ALTER TABLE kv ADD COLUMN note TEXT"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO kv (k, v, note) VALUES ('x', 1, 'hi')"); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query("SELECT * FROM kv")
	if err != nil {
		t.Fatal(err)
	}
	cols, _ := rows.Columns()
	if len(cols) != 3 {
		t.Fatalf("columns after ALTER = %v, want 3", cols)
	}
	types, err := rows.ColumnTypes()
	if err != nil || types[1].DatabaseTypeName() != "INTEGER" {
		t.Fatalf("column types pass through: %v, %v", types, err)
	}
	rows.Close() // one connection: close before the next statement
	// A multi-statement script through Exec still runs every statement.
	if _, err := db.Exec("INSERT INTO kv (k, v) VALUES ('y', 2); INSERT INTO kv (k, v) VALUES ('z', 3)"); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT count(*) FROM kv").Scan(&n); err != nil || n != 3 {
		t.Fatalf("rows after a script = %d, %v; want 3", n, err)
	}
}

func TestStatementCacheIsBoundedAndUnwraps(t *testing.T) {
	db := openCacheTestDB(t)
	db.SetMaxOpenConns(1)
	for i := range maxCachedStmts + 10 {
		var x int
		// Distinct SQL texts: beyond the bound they are prepared each time.
		if err := db.QueryRow("SELECT ? + "+string(rune('0'+i%10))+" + 0*"+itoa(i), 1).Scan(&x); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		c := dc.(*cachingConn)
		if len(c.stmts) > maxCachedStmts {
			t.Errorf("%d cached statements, want at most %d", len(c.stmts), maxCachedStmts)
		}
		if _, ok := c.Unwrap().(driver.Conn); !ok {
			t.Error("Unwrap does not return the driver's connection")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}
