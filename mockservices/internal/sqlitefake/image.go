package sqlitefake

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// sqliteImages holds the image of each set of migrations, by key. It lives
// as long as the process, like the type caches of encoding/json: an image
// is the immutable result of deterministic migrations, so every test of
// the binary can share it.
var sqliteImages sync.Map // key -> *sqliteImage

type sqliteImage struct {
	once sync.Once
	data []byte
	err  error
}

// imageFor returns the image of a SQLite database migrated by up
// from empty, building it on first use.
func imageFor(ctx context.Context, key string, up func(ctx context.Context, db *sql.DB) error) ([]byte, error) {
	v, _ := sqliteImages.LoadOrStore(key, &sqliteImage{})
	im := v.(*sqliteImage)
	im.once.Do(func() {
		// The image outlives this test: its cancellation must not
		// leave a broken image for the next ones.
		im.data, im.err = buildSQLiteImage(context.WithoutCancel(ctx), up)
	})
	return im.data, im.err
}

func buildSQLiteImage(ctx context.Context, up func(ctx context.Context, db *sql.DB) error) ([]byte, error) {
	dir, err := os.MkdirTemp("", "greenroom-mock-template-")
	if err != nil {
		return nil, fmt.Errorf("mockservices: build the migrated SQLite template: %w", err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "template.sqlite")
	// Closing the last connection checkpoints the WAL into the file, so
	// the whole database is in the one file. The template is thrown away
	// if the process dies: no journal file and no fsync while migrating
	// (neither is stored in the image), which makes it about three times
	// faster.
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)&_pragma=journal_mode(MEMORY)&_pragma=synchronous(OFF)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("mockservices: build the migrated SQLite template: %w", err)
	}
	err = up(ctx, db)
	if err == nil {
		// Leave the image in WAL mode, as the test databases run, so
		// that opening a copy does not rewrite it.
		_, err = db.ExecContext(ctx, "PRAGMA journal_mode=WAL")
	}
	if cerr := db.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("mockservices: build the migrated SQLite template: %w", cerr)
	}
	if err != nil {
		return nil, err
	}
	return os.ReadFile(path)
}
