package sqlitefake

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"

	_ "modernc.org/sqlite" // the "sqlite" driver
)

// DB is the SQLite database of one test, opened on the first call of
// [DB.DB] or [DB.UpFromTemplate] and released with [DB.Release]. It is safe
// for concurrent use.
type DB struct {
	mu      sync.Mutex
	tempDir func() string
	db      *sql.DB
	path    string // the SQLite file of db
	// key is the template db was made from (see UpFromTemplate), or "",
	// and pooled its entry in the pool.
	key    string
	pooled *pooledDB
}

// New returns a database that opens a file of the process's pool directory
// on first use, or of tempDir() where the pool has no directory (systems
// without flock).
func New(tempDir func() string) *DB {
	return &DB{tempDir: tempDir}
}

// newPath returns the path of a new database file.
func (d *DB) newPath() (string, error) {
	if path, err := pool.newPath(); err == nil {
		return path, nil
	}
	return filepath.Join(d.tempDir(), "plugin.sqlite"), nil
}

// DB returns the database, opening an empty one on first use.
func (d *DB) DB(ctx context.Context) (*sql.DB, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.db == nil {
		path, err := d.newPath()
		if err != nil {
			return nil, err
		}
		db, _, err := openFile(path)
		if err != nil {
			return nil, err
		}
		d.db, d.path = db, path
	}
	return d.db, nil
}

// UpFromTemplate migrates the database with up, as migrate.Up asks a
// database that can start from a template to: the first time a process
// sees a set of migrations (key), it applies them to an empty template
// database and keeps the file's bytes (the image); every database that is
// still empty when it is migrated is then taken from the pool of databases
// made from that image and reset, or written from the image, instead of
// being migrated statement by statement. The result is the same file,
// migrations table included, so the plugin cannot tell.
//
// A database that is already open (the plugin used it before migrating) is
// migrated with up, as usual.
func (d *DB) UpFromTemplate(ctx context.Context, key string, up func(ctx context.Context, db *sql.DB) error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.db != nil {
		return up(ctx, d.db)
	}
	if pd := pool.get(key); pd != nil {
		d.db, d.path, d.key, d.pooled = pd.db, pd.path, key, pd
		return nil
	}
	img, err := imageFor(ctx, key, up)
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
	db, conns, err := openFile(path)
	if err != nil {
		return err
	}
	captureTemplate(ctx, key, db)
	conns.touched.Store(false) // by the capture's PRAGMAs, not the test's
	d.db, d.path, d.key, d.pooled = db, path, key, &pooledDB{db: db, path: path, conns: conns}
	return nil
}

// Release hands a database made from a template back to the pool, which
// resets it for the next test, or closes it and removes its files. A
// database never opened has nothing to release.
func (d *DB) Release() error {
	d.mu.Lock()
	db, path, key, pd := d.db, d.path, d.key, d.pooled
	d.db, d.pooled = nil, nil
	d.mu.Unlock()
	if db == nil {
		return nil
	}
	if pd == nil {
		pd = &pooledDB{db: db, path: path}
	} else if key != "" && pool.put(key, pd) {
		return nil
	}
	return pd.discard()
}

// openFile opens the SQLite database at path the way the fake runs every
// database, and returns what its connections report (see connState).
func openFile(path string) (*sql.DB, *connState, error) {
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "busy_timeout(10000)")
	// synchronous first: switching a database to WAL syncs unless it is
	// off, and a test database need not survive a crash.
	q.Add("_pragma", "synchronous(OFF)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Set("_txlock", "immediate")
	db, st := openCachingSQLite("file:" + path + "?" + q.Encode())
	// One idle connection: a recycled database keeps its parsed schema
	// there, and it is the only connection whose state a reset must check.
	db.SetMaxIdleConns(1)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("mockservices: open SQLite database %s: %w", path, err)
	}
	return db, st, nil
}
