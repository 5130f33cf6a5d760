package sqlitefake

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/greenroom-dev/greenroom/migrate"
)

func TestSQLiteImage(t *testing.T) {
	fsys := fstest.MapFS{"00001_items.sql": {Data: []byte("-- +goose Up\nCREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n")}}
	ctx := context.Background()
	// Every database migrated with the same files starts from the image:
	// the migrations themselves ran at most once in this process.
	var dbs []*sql.DB
	for range 3 {
		d := testDatabase(t)
		if err := migrate.Up(ctx, d, fsys); err != nil {
			t.Fatal(err)
		}
		db, err := d.DB(ctx)
		if err != nil {
			t.Fatal(err)
		}
		dbs = append(dbs, db)
	}
	for i, db := range dbs {
		var n int
		if err := db.QueryRow("SELECT count(*) FROM greenroom_migrations WHERE version_id = 1").Scan(&n); err != nil || n != 1 {
			t.Errorf("db %d: migration record: %d, %v", i, n, err)
		}
		if _, err := db.Exec("INSERT INTO items (name) VALUES (?)", "x"); err != nil {
			t.Errorf("db %d: %v", i, err)
		}
		var mode string
		if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
			t.Errorf("db %d: journal mode %q, %v; want wal", i, mode, err)
		}
	}
	// Each is its own copy.
	var n int
	if err := dbs[0].QueryRow("SELECT count(*) FROM items").Scan(&n); err != nil || n != 1 {
		t.Errorf("items in db 0: %d, %v; want 1", n, err)
	}
	// Migrating again finds nothing to do.
	if err := migrate.Up(ctx, testDatabase(t), fsys); err != nil {
		t.Fatal(err)
	}
}

var imageKeySeq atomic.Int64

func TestUpFromTemplate(t *testing.T) {
	ctx := context.Background()
	var calls atomic.Int32
	up := func(ctx context.Context, db *sql.DB) error {
		calls.Add(1)
		_, err := db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS t (x INTEGER)")
		return err
	}
	// The images are cached for the life of the process: a key of its own
	// for each run keeps the test repeatable (go test -count=N).
	key := fmt.Sprintf("test:%s:%d", t.Name(), imageKeySeq.Add(1))

	t.Run("fresh databases share the image", func(t *testing.T) {
		for range 2 {
			d := newDB(t)
			if err := d.UpFromTemplate(ctx, key, up); err != nil {
				t.Fatal(err)
			}
			db, _ := d.DB(ctx)
			if _, err := db.Exec("INSERT INTO t VALUES (1)"); err != nil {
				t.Fatal(err)
			}
		}
		if got := calls.Load(); got != 1 {
			t.Errorf("up ran %d times, want once (for the image)", got)
		}
	})
	t.Run("an open database is migrated in place", func(t *testing.T) {
		calls.Store(0)
		d := newDB(t)
		db, _ := d.DB(ctx)
		if _, err := db.Exec("CREATE TABLE before (x INTEGER)"); err != nil {
			t.Fatal(err)
		}
		if err := d.UpFromTemplate(ctx, key, up); err != nil {
			t.Fatal(err)
		}
		if calls.Load() != 1 {
			t.Errorf("up ran %d times, want once, on the open database", calls.Load())
		}
		if _, err := db.Exec("INSERT INTO before VALUES (1)"); err != nil {
			t.Errorf("the database was replaced: %v", err)
		}
	})
	t.Run("a failing migration fails every database", func(t *testing.T) {
		boom := errors.New("boom")
		for range 2 {
			err := newDB(t).UpFromTemplate(ctx, key+"/failing", func(context.Context, *sql.DB) error { return boom })
			if !errors.Is(err, boom) {
				t.Errorf("error = %v, want boom", err)
			}
		}
	})
}
