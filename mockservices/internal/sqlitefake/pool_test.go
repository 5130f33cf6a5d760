package sqlitefake

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
		d := testDatabase(t)
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
			d := newDB(t)
			if err := migrate.Up(context.Background(), coreDatabase{d}, poolFS); err != nil {
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
	// The fake's own statements when it opens a database do not count as
	// the test's: a database nobody used is reused without the slow reset.
	db, conns, err := openFile(filepath.Join(t.TempDir(), "check.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if conns.touched.Load() {
		t.Error("a database as the fake opens it counts as touched")
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

// settablePragmas are the pragmas of modernc.org/sqlite's SQLite that a
// test can set, each with a value other than the fake's, and how the pool
// treats a test that set it: the database is reset and kept (recycled) or
// discarded.
var settablePragmas = []struct {
	name, value string
	discarded   bool
}{
	{"analysis_limit", "100", false},
	{"application_id", "42", false},
	{"auto_vacuum", "1", true}, // takes effect with a VACUUM, which changes schema_version
	{"automatic_index", "0", false},
	{"busy_timeout", "1", false},
	{"cache_size", "-4000", false},
	{"cache_spill", "0", false},
	{"case_sensitive_like", "1", false}, // write-only: read as 'a' LIKE 'A'
	{"cell_size_check", "1", false},
	{"checkpoint_fullfsync", "1", false},
	{"count_changes", "1", false},
	{"default_cache_size", "3000", false},
	{"defer_foreign_keys", "1", false},
	{"empty_result_callbacks", "1", false},
	{"encoding", "'UTF-16le'", false}, // no effect on an existing database
	{"foreign_keys", "0", false},
	{"full_column_names", "1", false},
	{"fullfsync", "1", false},
	{"ignore_check_constraints", "1", false},
	{"journal_mode", "DELETE", false},
	{"journal_size_limit", "1000", false},
	{"legacy_alter_table", "1", false},
	{"locking_mode", "EXCLUSIVE", false},
	{"max_page_count", "100000", false},
	{"mmap_size", "65536", false},
	{"page_size", "8192", false}, // no effect in WAL mode
	{"query_only", "1", false},
	{"read_uncommitted", "1", false},
	{"recursive_triggers", "1", false},
	{"reverse_unordered_selects", "1", false},
	{"schema_version", "1000", true},
	{"secure_delete", "1", false},
	{"short_column_names", "0", false},
	{"synchronous", "2", false},
	{"temp_store", "2", false},
	{"threads", "2", false},
	{"trusted_schema", "0", false},
	{"user_version", "7", false},
	{"wal_autocheckpoint", "10", false},
	{"writable_schema", "1", false},
}

// processPragmas set the state of the process, shared by every database,
// and otherPragmas only read or act; no test of this file sets them.
var (
	processPragmas = []string{"hard_heap_limit", "soft_heap_limit", "temp_store_directory"}
	otherPragmas   = []string{"collation_list", "compile_options", "data_version", "database_list",
		"foreign_key_check", "foreign_key_list", "freelist_count", "function_list", "incremental_vacuum",
		"index_info", "index_list", "index_xinfo", "integrity_check", "module_list", "optimize",
		"page_count", "pragma_list", "quick_check", "shrink_memory", "table_info", "table_list",
		"table_xinfo", "wal_checkpoint"}
)

// settingsFS are poolFS's migrations under another hash, so that this
// file's databases are not shared with other tests.
var settingsFS = fstest.MapFS{"00001_schema.sql": {Data: append([]byte("-- settings\n"), poolFS["00001_schema.sql"].Data...)}}

// readSettings returns every setting of settablePragmas as db's next
// connection sees it, and the schema.
func readSettings(t *testing.T, db *sql.DB) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, p := range settablePragmas {
		q := "PRAGMA " + p.name
		if p.name == "case_sensitive_like" {
			q = "SELECT 'a' LIKE 'A'"
		}
		var v string
		if err := db.QueryRow(q).Scan(&v); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		got[p.name] = v
	}
	var schema string
	if err := db.QueryRow(schemaQuery).Scan(&schema); err != nil {
		t.Fatal(err)
	}
	got["sqlite_master"] = schema
	return got
}

// TestPoolResetsEverySetting flips each setting a test can change, then
// checks that the next test to get a database of the same migrations sees
// the values of a fresh copy.
func TestPoolResetsEverySetting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	use := func(t *testing.T, name string, fn func(t *testing.T, db *sql.DB)) {
		t.Run(name, func(t *testing.T) {
			d := testDatabase(t)
			if err := migrate.Up(ctx, d, settingsFS); err != nil {
				t.Fatal(err)
			}
			db, err := d.DB(ctx)
			if err != nil {
				t.Fatal(err)
			}
			fn(t, db)
		})
	}
	var fresh map[string]string
	use(t, "fresh", func(t *testing.T, db *sql.DB) {
		// Every pragma of this SQLite is accounted for: one a new version
		// adds must be classified here (and reset, if a test can set it).
		names, err := queryStrings(ctx, db, "SELECT name FROM pragma_pragma_list")
		if err != nil {
			t.Fatal(err)
		}
		known := map[string]bool{}
		for _, p := range settablePragmas {
			known[p.name] = true
		}
		for _, n := range append(processPragmas, otherPragmas...) {
			known[n] = true
		}
		for _, n := range names {
			if !known[n] {
				t.Errorf("PRAGMA %s of this SQLite is not classified: add it to settablePragmas (and make the pool reset it), processPragmas or otherPragmas", n)
			}
		}
		fresh = readSettings(t, db)
	})
	if fresh == nil {
		t.FailNow()
	}
	type flip struct {
		name      string
		stmts     []string
		discarded bool
	}
	var flips, all []flip
	var allStmts []string
	for _, p := range settablePragmas {
		s := fmt.Sprintf("PRAGMA %s = %s", p.name, p.value)
		stmts := []string{s}
		if p.name == "auto_vacuum" {
			stmts = append(stmts, "VACUUM")
		}
		flips = append(flips, flip{p.name, stmts, p.discarded})
		if p.name != "query_only" {
			allStmts = append(allStmts, s)
		}
	}
	all = append(all, flip{"every setting", append(allStmts, "VACUUM", "PRAGMA query_only = 1"), true})
	flips = append(flips, flip{"sqlite_master edited", []string{
		"PRAGMA writable_schema = 1",
		"UPDATE sqlite_master SET sql = replace(sql, 'name TEXT', 'name  TEXT') WHERE name = 'lists'",
		"PRAGMA writable_schema = 0",
	}, true})
	for _, f := range append(flips, all...) {
		var flipped *sql.DB
		use(t, "set "+f.name, func(t *testing.T, db *sql.DB) {
			flipped = db
			conn, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			for _, s := range f.stmts {
				if _, err := conn.ExecContext(ctx, s); err != nil {
					t.Fatalf("%s: %v", s, err)
				}
			}
		})
		use(t, "after "+f.name, func(t *testing.T, db *sql.DB) {
			if !f.discarded && db != flipped {
				t.Errorf("the database was discarded; a test that sets %s should cost a reset only", f.name)
			}
			got := readSettings(t, db)
			for k, want := range fresh {
				if got[k] != want {
					t.Errorf("%s = %q after a test set %s; a fresh copy has %q", k, got[k], f.name, want)
				}
			}
			expectFresh(t, db)
		})
	}
}
