package mockservices

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/greenroom-dev/greenroom/internal/dbtemplate"
)

var _ dbtemplate.Templater = (*database)(nil)

// UpFromTemplate implements [dbtemplate.Templater], so that migrate.Up
// migrates the default SQLite database of a test in microseconds: the
// first time a process sees a set of migrations, it applies them to an
// empty template database and keeps the file's bytes (the image); every
// database that is still empty when it is migrated is then written from
// the image instead of being migrated statement by statement. The result
// is the same file, migrations table included, so the plugin cannot tell.
//
// A database that is already open (the plugin used it before migrating),
// or that is not a SQLite file of this package ([WithSQLDB], [SQLMock]),
// is migrated with up, as usual.
func (d *database) UpFromTemplate(ctx context.Context, key string, up func(ctx context.Context, db *sql.DB) error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.db != nil || !d.sqlite {
		if d.db == nil {
			return errors.New("mockservices: the database has no *sql.DB")
		}
		if err := up(ctx, d.db); err != nil && d.sqlmock {
			return fmt.Errorf("mockservices: SQLMock: the migrations ran against the sqlmock database, which answers only the queries the test expects (%w); pass mockservices.WithMigrationsSkipped() to SQLMock to skip them", err)
		} else if err != nil {
			return err
		}
		return nil
	}
	if pd := pool.get(key); pd != nil {
		d.db, d.path, d.key, d.pooled = pd.db, pd.path, key, pd
		return nil
	}
	img, err := sqliteImageFor(ctx, key, up)
	if err != nil {
		return err
	}
	path, err := d.newPath()
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, img, 0o600); err != nil {
		return fmt.Errorf("mockservices: write the migrated SQLite database %s: %w", path, err)
	}
	db, conns, err := openSQLiteFile(path)
	if err != nil {
		return err
	}
	captureTemplate(ctx, key, db)
	conns.touched.Store(false) // by the capture's PRAGMAs, not the test's
	d.db, d.path, d.key, d.pooled = db, path, key, &pooledDB{db: db, path: path, conns: conns}
	return nil
}

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

// sqliteImageFor returns the image of a SQLite database migrated by up
// from empty, building it on first use.
func sqliteImageFor(ctx context.Context, key string, up func(ctx context.Context, db *sql.DB) error) ([]byte, error) {
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
