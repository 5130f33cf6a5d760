package mockservices

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
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
// backend.database.skipMigrations does, so that migrate.Up does nothing.
// With [SQLMock] it lets a plugin that migrates in init start.
func WithMigrationsSkipped() DatabaseOption {
	return func(o *dbOptions) { o.skipMigrations = true }
}

// Database returns a database service for a test. By default it is a new,
// empty SQLite database (modernc.org/sqlite, no cgo) with foreign keys on,
// created on the first call of DB and closed when the test ends.
//
// The database lives in a file (in /dev/shm when it is available, else in
// the temporary directory) rather than in memory: an in-memory SQLite
// database is private to one connection, and the two ways to share one
// across a connection pool either fail under concurrent transactions (the
// memdb VFS: SQLITE_BUSY) or deadlock (shared cache), so a pool over an
// in-memory database would not behave like production.
//
// A database migrated with package migrate starts as a copy of a database
// the same migrations made before, and when the test ends it is reset to
// that state and kept open for the next test of the process: see
// migrate.Up. The next test cannot tell it from a fresh copy.
func Database(t testing.TB, opts ...DatabaseOption) core.Database {
	t.Helper()
	o := dbOptions{dialect: core.DialectSQLite}
	for _, opt := range opts {
		opt(&o)
	}
	if o.db != nil {
		return &database{db: o.db, dialect: o.dialect, skipMigrations: o.skipMigrations}
	}
	d := newSQLiteDatabase(t, o.skipMigrations)
	t.Cleanup(func() {
		if err := d.release(); err != nil {
			t.Errorf("%v", err)
		}
	})
	return d
}

// newSQLiteDatabase returns a database that opens a SQLite file on first
// use; its release recycles or closes and removes it.
func newSQLiteDatabase(t testing.TB, skipMigrations bool) *database {
	d := &database{dialect: core.DialectSQLite, skipMigrations: skipMigrations, sqlite: true}
	d.newPath = func() (string, error) {
		if path, err := pool.newPath(); err == nil {
			return path, nil
		}
		return filepath.Join(t.TempDir(), "plugin.sqlite"), nil
	}
	return d
}

// openSQLiteFile opens the SQLite database at path the way the fake runs
// every database, and returns what its connections report (see
// connState).
func openSQLiteFile(path string) (*sql.DB, *connState, error) {
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

// release hands a database made from a template back to the pool, or
// closes it and removes its files.
func (d *database) release() error {
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

// SQLMock returns a database service backed by go-sqlmock, for testing how
// code handles database errors, and the mock to set expectations on. When
// the test ends, SQLMock fails the test if an expectation was not met.
//
// A plugin that migrates its database in init (package migrate) sends the
// migrations' queries to the mock, which expects none of them, so it fails
// to start. Pass [WithMigrationsSkipped] to start it: the service then
// reports MigrationsSkipped, as production does with config
// backend.database.skipMigrations, so migrate.Up does nothing and the mock
// sees only the queries the plugin's handlers send. The trade-off: the
// migrations themselves are not exercised (test them against a real
// database: see [Database] and package testdatabases), and a plugin that
// reads MigrationsSkipped itself sees true. Setting expectations for the
// migrations' queries instead would tie the test to the internals of the
// migration library. Of the options, only WithMigrationsSkipped applies:
// the mock's *sql.DB is the service's database.
func SQLMock(t testing.TB, dialect core.Dialect, opts ...DatabaseOption) (core.Database, sqlmock.Sqlmock) {
	t.Helper()
	var o dbOptions
	for _, opt := range opts {
		opt(&o)
	}
	if o.db != nil {
		t.Fatalf("mockservices: SQLMock: WithSQLDB does not apply: the service's database is the mock's; use Database(t, WithSQLDB(db, dialect)) for a database of your own")
	}
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
	return &database{db: db, dialect: dialect, skipMigrations: o.skipMigrations, sqlmock: true}, mock
}

// database implements core.Database over a *sql.DB opened on demand.
type database struct {
	mu             sync.Mutex
	db             *sql.DB
	dialect        core.Dialect
	skipMigrations bool
	// sqlite is set for the fake's own SQLite databases, which it opens
	// on demand with newPath and releases when the test ends.
	sqlite bool
	// sqlmock is set for the database of SQLMock.
	sqlmock bool
	newPath func() (string, error)
	path    string // the SQLite file of db, or ""
	// key is the template db was made from (see UpFromTemplate), or "",
	// and pooled its entry in the pool.
	key    string
	pooled *pooledDB
}

func (d *database) DB(ctx context.Context) (*sql.DB, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.db == nil {
		path, err := d.newPath()
		if err != nil {
			return nil, err
		}
		db, _, err := openSQLiteFile(path)
		if err != nil {
			return nil, err
		}
		d.db, d.path = db, path
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
