package mockservices

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"testing/fstest"

	"github.com/greenroom-dev/greenroom/migrate"
)

// poolFS are migrations with an AUTOINCREMENT table, a foreign key and a
// seed row, so a reset has rows, counters and constraints to restore.
var poolFS = fstest.MapFS{
	"00001_schema.sql": {Data: []byte(`-- +goose Up
CREATE TABLE lists (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL);
CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, list INTEGER NOT NULL REFERENCES lists(id), name TEXT NOT NULL);
INSERT INTO lists (name) VALUES ('seed');
`)},
}

// pooledDatabase runs fn on a database migrated with poolFS, in a subtest
// of its own, so that the database is released when fn returns.
func pooledDatabase(t *testing.T, name string, fn func(t *testing.T, db *sql.DB)) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		d := Database(t)
		if err := migrate.Up(context.Background(), d, poolFS); err != nil {
			t.Fatal(err)
		}
		db, err := d.DB(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		fn(t, db)
	})
}

// expectFresh checks that db holds exactly what the migrations left.
func expectFresh(t *testing.T, db *sql.DB) {
	t.Helper()
	var lists, items int
	var seed string
	if err := db.QueryRow("SELECT (SELECT count(*) FROM lists), (SELECT count(*) FROM items), (SELECT name FROM lists WHERE id = 1)").Scan(&lists, &items, &seed); err != nil {
		t.Fatal(err)
	}
	if lists != 1 || items != 0 || seed != "seed" {
		t.Fatalf("lists=%d items=%d seed=%q; want the migrations' state (1, 0, seed)", lists, items, seed)
	}
	var tables int
	if err := db.QueryRow("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'extra'").Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("a table of an earlier test is visible: %d, %v", tables, err)
	}
	// Counters restart where the migrations left them.
	res, err := db.Exec("INSERT INTO items (list, name) VALUES (1, 'x')")
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := res.LastInsertId(); id != 1 {
		t.Fatalf("first item id = %d, want 1: an earlier test's counter leaked", id)
	}
	res, err = db.Exec("INSERT INTO lists (name) VALUES ('new')")
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := res.LastInsertId(); id != 2 {
		t.Fatalf("new list id = %d, want 2", id)
	}
	var fk int
	if err := db.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign_keys = %d, %v; want on", fk, err)
	}
}

func TestPoolResetsEverythingATestChanged(t *testing.T) {
	steps := []struct {
		name  string
		dirty func(t *testing.T, db *sql.DB)
	}{
		{"rows and counters", func(t *testing.T, db *sql.DB) {
			for i := range 5 {
				if _, err := db.Exec("INSERT INTO items (list, name) VALUES (1, ?)", fmt.Sprint(i)); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{"seed rows", func(t *testing.T, db *sql.DB) {
			if _, err := db.Exec("DELETE FROM items; UPDATE lists SET name = 'changed'; INSERT INTO lists (name) VALUES ('more')"); err != nil {
				t.Fatal(err)
			}
		}},
		{"committed in a transaction", func(t *testing.T, db *sql.DB) {
			tx, err := db.Begin()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec("INSERT INTO lists (name) VALUES ('tx')"); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}},
		{"another connection", func(t *testing.T, db *sql.DB) {
			// Two connections at once: the write is on the second one,
			// which the pool closes (one idle connection is kept).
			c1, err := db.Conn(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer c1.Close()
			c2, err := db.Conn(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer c2.Close()
			if _, err := c2.ExecContext(context.Background(), "INSERT INTO lists (name) VALUES ('c2')"); err != nil {
				t.Fatal(err)
			}
		}},
		{"schema", func(t *testing.T, db *sql.DB) {
			if _, err := db.Exec("CREATE TABLE extra (x)"); err != nil {
				t.Fatal(err)
			}
		}},
		{"temporary table", func(t *testing.T, db *sql.DB) {
			if _, err := db.Exec("CREATE TEMP TABLE scratch (x)"); err != nil {
				t.Fatal(err)
			}
		}},
		{"foreign keys off", func(t *testing.T, db *sql.DB) {
			if _, err := db.Exec("PRAGMA foreign_keys = OFF"); err != nil {
				t.Fatal(err)
			}
		}},
		{"leaked transaction", func(t *testing.T, db *sql.DB) {
			tx, err := db.Begin()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec("INSERT INTO lists (name) VALUES ('leak')"); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { tx.Rollback() }) // after the database's release
		}},
		{"nothing", func(*testing.T, *sql.DB) {}},
	}
	for _, s := range steps {
		pooledDatabase(t, s.name, func(t *testing.T, db *sql.DB) {
			expectFresh(t, db)
			s.dirty(t, db)
		})
	}
	pooledDatabase(t, "last", func(t *testing.T, db *sql.DB) { expectFresh(t, db) })
}

func TestPoolInParallel(t *testing.T) {
	for i := range 12 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			for j := range 5 {
				pooledDatabase(t, fmt.Sprint(j), func(t *testing.T, db *sql.DB) {
					expectFresh(t, db)
					if _, err := db.Exec("INSERT INTO items (list, name) VALUES (1, 'p')"); err != nil {
						t.Fatal(err)
					}
				})
			}
		})
	}
}

func TestReapDeadPoolDirs(t *testing.T) {
	base := t.TempDir()
	mk := func(name string) string {
		d := filepath.Join(base, name)
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "lock"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		return d
	}
	dead := mk(poolDirPrefix + "2147483600-dead")
	// A live process (this one) holding its lock.
	live := mk(fmt.Sprintf("%s%d-live", poolDirPrefix, os.Getpid()))
	// A directory whose lock is held although its pid looks dead: the lock
	// wins, it is never removed.
	locked := mk(poolDirPrefix + "2147483601-locked")
	f, err := os.OpenFile(filepath.Join(locked, "lock"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(base, "unrelated")
	if err := os.Mkdir(other, 0o700); err != nil {
		t.Fatal(err)
	}
	reapDeadPoolDirs(base)
	for dir, wantGone := range map[string]bool{dead: true, live: false, locked: false, other: false} {
		_, err := os.Stat(dir)
		if gone := os.IsNotExist(err); gone != wantGone {
			t.Errorf("%s: removed=%v, want %v", filepath.Base(dir), gone, wantGone)
		}
	}
}

func TestPoolReusesACleanDatabase(t *testing.T) {
	made := pool.seq.Load()
	var paths []string
	for i := range 3 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			d := Database(t).(*database)
			if err := migrate.Up(context.Background(), d, poolFS); err != nil {
				t.Fatal(err)
			}
			db, err := d.DB(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec("INSERT INTO items (list, name) VALUES (1, 'x')"); err != nil {
				t.Fatal(err)
			}
			paths = append(paths, d.path)
		})
	}
	// At most the first test needed a new database (when the pool had
	// none for these migrations yet); the others got reset ones.
	if n := pool.seq.Load() - made; n > 1 {
		t.Fatalf("%d databases were made for 3 sequential tests (files %q): reset databases were not reused", n, paths)
	}
	// The checks the reuse depends on pass on a database as the fake opens it.
	db, err := openSQLiteFile(filepath.Join(t.TempDir(), "check.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, c := range stateChecks {
		var got int64
		if err := db.QueryRow(c.query).Scan(&got); err != nil || got != c.want {
			t.Errorf("%s on a fresh database = %d, %v; want %d", c.query, got, err, c.want)
		}
	}
}

func TestPoolDiscardsAttachedDatabases(t *testing.T) {
	pooledDatabase(t, "attach", func(t *testing.T, db *sql.DB) {
		conn, err := db.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(context.Background(), "ATTACH DATABASE ':memory:' AS other"); err != nil {
			t.Fatal(err)
		}
	})
	pooledDatabase(t, "next", func(t *testing.T, db *sql.DB) {
		expectFresh(t, db)
		var n int
		if err := db.QueryRow("SELECT count(*) FROM pragma_database_list WHERE name = 'other'").Scan(&n); err != nil || n != 0 {
			t.Fatalf("an attached database of an earlier test is visible: %d, %v", n, err)
		}
	})
}
