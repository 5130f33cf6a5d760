package mockservices

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"

	"github.com/DATA-DOG/go-sqlmock"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/internal/dbtemplate"
	"github.com/greenroom-dev/greenroom/mockservices/internal/sqlitefake"
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
	lite := sqlitefake.New(t.TempDir)
	t.Cleanup(func() {
		if err := lite.Release(); err != nil {
			t.Errorf("%v", err)
		}
	})
	return &database{lite: lite, dialect: core.DialectSQLite, skipMigrations: o.skipMigrations}
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

// database implements core.Database: over the fake's own SQLite database,
// or over a given *sql.DB.
type database struct {
	// lite is the fake's own SQLite database, opened on demand, or nil.
	lite           *sqlitefake.DB
	db             *sql.DB
	dialect        core.Dialect
	skipMigrations bool
	// sqlmock is set for the database of SQLMock.
	sqlmock bool
}

var _ dbtemplate.Templater = (*database)(nil)

func (d *database) DB(ctx context.Context) (*sql.DB, error) {
	if d.lite != nil {
		return d.lite.DB(ctx)
	}
	return d.db, nil
}

func (d *database) Dialect() core.Dialect { return d.dialect }

func (d *database) MigrationsSkipped() bool { return d.skipMigrations }

// UpFromTemplate implements [dbtemplate.Templater], so that migrate.Up
// migrates the default SQLite database of a test in microseconds: every
// database still empty when it is migrated is a copy of a database the
// same migrations made before in this process, recycled or written from
// the image of its file (see package sqlitefake). A database that is
// already open, or that is not a SQLite file of this package ([WithSQLDB],
// [SQLMock]), is migrated with up, as usual.
func (d *database) UpFromTemplate(ctx context.Context, key string, up func(ctx context.Context, db *sql.DB) error) error {
	if d.lite != nil {
		return d.lite.UpFromTemplate(ctx, key, up)
	}
	if d.db == nil {
		return errors.New("mockservices: the database has no *sql.DB")
	}
	err := up(ctx, d.db)
	if err != nil && d.sqlmock {
		return fmt.Errorf("mockservices: SQLMock: the migrations ran against the sqlmock database, which answers only the queries the test expects (%w); pass mockservices.WithMigrationsSkipped() to SQLMock to skip them", err)
	}
	return err
}

// FromTestDatabase makes the database service hand out the test database
// db of package testdatabases, with its dialect, as [WithSQLDB] does:
//
//	db := testdatabases.New(t).Init(t, testdatabases.Postgres15)
//	tb := testbackend.Start(t, todo.Plugin, mockservices.DatabaseFactory(t, mockservices.FromTestDatabase(db)))
func FromTestDatabase(db *testdatabases.DB) DatabaseOption {
	return WithSQLDB(db.DB, core.Dialect(db.Dialect))
}
