package mockservices

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/DATA-DOG/go-sqlmock"
	_ "modernc.org/sqlite" // the "sqlite" driver of the default fake database

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/testdatabases"
)

// DatabaseOption configures [Database] and [DatabaseFactory].
type DatabaseOption func(*dbOptions)

type dbOptions struct {
	db             *sql.DB
	dialect        core.Dialect
	skipMigrations bool
}

// WithSQLDB makes the database service hand out db, of the given dialect,
// instead of a new SQLite database. With a factory, every plugin gets the
// same db: there is no isolation between plugins. The caller owns db.
func WithSQLDB(db *sql.DB, dialect core.Dialect) DatabaseOption {
	return func(o *dbOptions) { o.db, o.dialect = db, dialect }
}

// WithMigrationsSkipped makes MigrationsSkipped report true, as config
// backend.database.skipMigrations does.
func WithMigrationsSkipped() DatabaseOption {
	return func(o *dbOptions) { o.skipMigrations = true }
}

// Database returns a database service for a test. By default it is a new,
// empty SQLite database (modernc.org/sqlite, no cgo) with foreign keys on,
// created on the first call of DB and closed when the test ends.
//
// The database lives in a file (in /dev/shm when it is available, else in
// t.TempDir) rather than in memory: an
// in-memory SQLite database is private to one connection, and the two ways
// to share one across a connection pool either fail under concurrent
// transactions (the memdb VFS: SQLITE_BUSY) or deadlock (shared cache), so
// a pool over an in-memory database would not behave like production.
func Database(t testing.TB, opts ...DatabaseOption) core.Database {
	t.Helper()
	o := dbOptions{dialect: core.DialectSQLite}
	for _, opt := range opts {
		opt(&o)
	}
	if o.db != nil {
		return &database{db: o.db, dialect: o.dialect, skipMigrations: o.skipMigrations}
	}
	return newSQLiteDatabase(t, filepath.Join(sqliteDir(t), "plugin.sqlite"), o.skipMigrations)
}

// sqliteDir returns a new directory for the SQLite files of t, removed
// when t ends: in /dev/shm where it is a writable tmpfs, since a file
// database there costs a fraction of one on a disk (creating, locking and
// removing the database, WAL and shared-memory files are all file system
// calls), and in t.TempDir otherwise.
func sqliteDir(t testing.TB) string {
	t.Helper()
	if dir, err := os.MkdirTemp("/dev/shm", "greenroom-mockservices-"); err == nil {
		t.Cleanup(func() { os.RemoveAll(dir) })
		return dir
	}
	return t.TempDir()
}

// newSQLiteDatabase returns a database that opens the SQLite file at path
// on first use and closes it when t ends.
func newSQLiteDatabase(t testing.TB, path string, skipMigrations bool) *database {
	d := &database{dialect: core.DialectSQLite, skipMigrations: skipMigrations, path: path}
	d.open = func() (*sql.DB, error) {
		q := url.Values{}
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "busy_timeout(10000)")
		// synchronous first: switching a database to WAL syncs unless
		// it is off, and a test database need not survive a crash.
		q.Add("_pragma", "synchronous(OFF)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Set("_txlock", "immediate")
		db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
		if err != nil {
			return nil, fmt.Errorf("mockservices: open SQLite database %s: %w", path, err)
		}
		if err := db.Ping(); err != nil {
			db.Close()
			return nil, fmt.Errorf("mockservices: open SQLite database %s: %w", path, err)
		}
		return db, nil
	}
	t.Cleanup(func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.db != nil {
			if err := d.db.Close(); err != nil {
				t.Errorf("mockservices: close SQLite database %s: %v", path, err)
			}
		}
	})
	return d
}

// SQLMock returns a database service backed by go-sqlmock, for testing how
// code handles database errors, and the mock to set expectations on. When
// the test ends, SQLMock fails the test if an expectation was not met.
func SQLMock(t testing.TB, dialect core.Dialect) (core.Database, sqlmock.Sqlmock) {
	t.Helper()
	db, mock, err := sqlmock.New()
	if err != nil {
		t.Fatalf("mockservices: SQLMock: %v", err)
	}
	t.Cleanup(func() {
		if err := mock.ExpectationsWereMet(); err != nil {
			t.Errorf("mockservices: SQLMock: %v", err)
		}
		db.Close()
	})
	return &database{db: db, dialect: dialect}, mock
}

// database implements core.Database over a *sql.DB opened on demand.
type database struct {
	mu             sync.Mutex
	db             *sql.DB
	open           func() (*sql.DB, error)
	path           string // the SQLite file the database owns, or ""
	dialect        core.Dialect
	skipMigrations bool
}

func (d *database) DB(ctx context.Context) (*sql.DB, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.db == nil {
		db, err := d.open()
		if err != nil {
			return nil, err
		}
		d.db = db
	}
	return d.db, nil
}

func (d *database) Dialect() core.Dialect { return d.dialect }

func (d *database) MigrationsSkipped() bool { return d.skipMigrations }

// FromTestDatabase makes the database service hand out the test database
// db of package testdatabases, with its dialect, as [WithSQLDB] does:
//
//	db := testdatabases.New(t).Init(t, testdatabases.Postgres15)
//	tb := testbackend.Start(t, todo.Plugin, mockservices.DatabaseFactory(t, mockservices.FromTestDatabase(db)))
func FromTestDatabase(db *testdatabases.DB) DatabaseOption {
	return WithSQLDB(db.DB, core.Dialect(db.Dialect))
}
