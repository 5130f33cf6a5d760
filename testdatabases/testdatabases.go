package testdatabases

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
)

// ID names a database engine and major version. Its string form is the
// subtest name used by [Set.Each] and, upper-cased, the middle of the
// environment variable GREENROOM_TEST_DATABASE_<ID>_CONNECTION_STRING.
type ID string

// Engine IDs.
const (
	SQLite3    ID = "sqlite"
	Postgres13 ID = "postgres13"
	Postgres14 ID = "postgres14"
	Postgres15 ID = "postgres15"
	Postgres16 ID = "postgres16"
	Postgres17 ID = "postgres17"
	Postgres18 ID = "postgres18"
	MySQL8     ID = "mysql8"
	MariaDB10  ID = "mariadb10"
	MariaDB11  ID = "mariadb11"
)

// AllIDs lists every supported engine ID.
var allIDs = []ID{SQLite3, Postgres13, Postgres14, Postgres15, Postgres16, Postgres17, Postgres18, MySQL8, MariaDB10, MariaDB11}

// Dialect is the SQL dialect of an engine: "sqlite", "postgres" or "mysql"
// (MariaDB is "mysql").
type Dialect string

// Dialects.
const (
	DialectSQLite   Dialect = "sqlite"
	DialectPostgres Dialect = "postgres"
	DialectMySQL    Dialect = "mysql"
)

// Dialect returns the SQL dialect of the engine, or "" for an unknown ID.
func (id ID) Dialect() Dialect {
	switch {
	case id == SQLite3:
		return DialectSQLite
	case strings.HasPrefix(string(id), "postgres"):
		return DialectPostgres
	case strings.HasPrefix(string(id), "mysql"), strings.HasPrefix(string(id), "mariadb"):
		return DialectMySQL
	}
	return ""
}

// EnvVar returns the name of the environment variable holding a connection
// string for the engine (empty for SQLite, which needs no server).
func (id ID) EnvVar() string {
	if id == SQLite3 || !id.known() {
		return ""
	}
	return "GREENROOM_TEST_DATABASE_" + strings.ToUpper(string(id)) + "_CONNECTION_STRING"
}

func (id ID) known() bool {
	for _, k := range allIDs {
		if k == id {
			return true
		}
	}
	return false
}

func (id ID) apply(c *config) { c.ids = append(c.ids, id) }

// An Option configures [New]. An [ID] is an Option that selects that engine.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	ids        []ID
	migrator   Migrator
	provider   string
	keepFailed bool
}

// WithMigrator sets the schema every database starts with. Without it,
// databases are empty.
func WithMigrator(m Migrator) Option { return optionFunc(func(c *config) { c.migrator = m }) }

// WithContainerProvider selects how engines without a connection string are
// started: "testcontainers" (default) or "dockertest". The environment
// variable GREENROOM_TEST_DATABASE_PROVIDER does the same.
func WithContainerProvider(name string) Option {
	return optionFunc(func(c *config) { c.provider = name })
}

// KeepFailed keeps the database of a failed test (committing what the test
// wrote) and logs how to connect to it. Setting
// GREENROOM_TEST_DATABASE_KEEP_FAILED=true does the same.
func KeepFailed() Option { return optionFunc(func(c *config) { c.keepFailed = true }) }

// Set is a selection of engines to run tests on. Create it with [New].
type Set struct {
	ids []ID
	cfg config
}

// New selects engines. With no IDs it selects SQLite3 and every engine
// whose connection-string variable is set. Unknown IDs fail t.
func New(t testing.TB, opts ...Option) *Set {
	t.Helper()
	var c config
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	if c.provider == "" {
		c.provider = os.Getenv("GREENROOM_TEST_DATABASE_PROVIDER")
	}
	if isTrue(os.Getenv("GREENROOM_TEST_DATABASE_KEEP_FAILED")) {
		c.keepFailed = true
	}
	switch c.provider {
	case "", providerTestcontainers, providerDockertest:
	default:
		t.Fatalf("testdatabases: unknown container provider %q; use %q or %q", c.provider, providerTestcontainers, providerDockertest)
	}
	ids := c.ids
	if len(ids) == 0 {
		ids = []ID{SQLite3}
		for _, id := range allIDs {
			if id != SQLite3 && os.Getenv(id.EnvVar()) != "" {
				ids = append(ids, id)
			}
		}
	}
	seen := map[ID]bool{}
	var out []ID
	for _, id := range ids {
		if !id.known() {
			t.Fatalf("testdatabases: unknown engine %q; known engines are %v", id, allIDs)
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return &Set{ids: out, cfg: c}
}

// IDs returns the selected engines, in order.
func (s *Set) IDs() []ID { return append([]ID(nil), s.ids...) }

// Each runs fn as one subtest per selected engine, named after the engine
// ("sqlite", "postgres15", ...), with a fresh isolated database.
// An engine that is not available skips its subtest, or fails it when the
// environment variable CI is true.
func (s *Set) Each(t *testing.T, fn func(t *testing.T, db *DB)) {
	t.Helper()
	for _, id := range s.ids {
		t.Run(string(id), func(t *testing.T) {
			fn(t, s.Init(t, id))
		})
	}
}

// Init returns a fresh isolated database of engine id for t, migrated by
// the Set's migrator. It is released when t ends. An engine that is not
// available skips t (fails it under CI=true).
func (s *Set) Init(t testing.TB, id ID) *DB {
	t.Helper()
	if !id.known() {
		t.Fatalf("testdatabases: unknown engine %q; known engines are %v", id, allIDs)
	}
	e, err := theManager.engine(id, s.cfg.provider)
	var u errUnavailable
	if errors.As(err, &u) {
		unavailable(t, id, err)
		return nil
	}
	if err != nil {
		// A connection string was given (or a container started) but the
		// server cannot be used: that is a failure, not a skip.
		t.Fatalf("testdatabases: %v", err)
	}
	db, err := e.open(t.Context(), s.cfg)
	if err != nil {
		t.Fatalf("testdatabases: %s: %v", id, err)
	}
	t.Cleanup(func() { db.close(t.Failed() && s.cfg.keepFailed, t.Logf) })
	return db
}

// Open is Init without a test: it returns a fresh isolated database that
// the caller must Close. It suits benchmarks that need one database per
// iteration, and TestMain. An unavailable engine is an error.
func (s *Set) Open(ctx context.Context, id ID) (*DB, error) {
	if !id.known() {
		return nil, fmt.Errorf("testdatabases: unknown engine %q; known engines are %v", id, allIDs)
	}
	e, err := theManager.engine(id, s.cfg.provider)
	if err != nil {
		return nil, fmt.Errorf("testdatabases: %s is not available: %w", id, err)
	}
	db, err := e.open(ctx, s.cfg)
	if err != nil {
		return nil, fmt.Errorf("testdatabases: %s: %w", id, err)
	}
	return db, nil
}

func unavailable(t testing.TB, id ID, err error) {
	t.Helper()
	msg := fmt.Sprintf("testdatabases: %s is not available: %v", id, err)
	if isTrue(os.Getenv("CI")) {
		t.Fatalf("%s (CI=true requires every requested engine)", msg)
	}
	t.Skip(msg)
}

func isTrue(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// DB is one test's isolated database. Its embedded *sql.DB is private to the
// test; everything it writes is invisible to other tests and undone when the
// test ends.
type DB struct {
	*sql.DB
	ID      ID
	Dialect Dialect
	// Name is the database name on the server (the file path for SQLite).
	Name string

	lease   lease
	release func(keep bool, logf func(string, ...any))
	once    sync.Once
}

// Close closes the *sql.DB and gives the database back: everything written
// to it is undone and it is reused or dropped. Init's databases are closed
// when the test ends; calling Close earlier is allowed.
func (db *DB) Close() error {
	db.close(false, nil)
	return nil
}

func (db *DB) close(keep bool, logf func(string, ...any)) {
	db.once.Do(func() {
		if logf == nil {
			logf = func(string, ...any) {}
		}
		db.release(keep, logf)
	})
}

// ConnectionString returns a URL for the database (postgres://...,
// mysql://user:pass@host:port/db, or file:... for SQLite) so that another
// client, for example a plugin's database service, can open it.
//
// On PostgreSQL and MySQL, calling it switches the test's *sql.DB out of its
// rollback-only transaction: what the test wrote so far is committed so other
// connections see it, and the database is recycled the slow way (dropped and
// re-cloned) when the test ends. Prefer passing DB.DB where you can.
func (db *DB) ConnectionString() string {
	if err := db.lease.share(context.Background()); err != nil {
		panic(fmt.Sprintf("testdatabases: cannot share %s database %s: %v", db.ID, db.Name, err))
	}
	return db.lease.url()
}

// DriverDSN is like ConnectionString but returns a registered database/sql
// driver name ("pgx", "mysql" or "sqlite") and a DSN that driver accepts.
func (db *DB) DriverDSN() (driverName, dsn string) {
	if err := db.lease.share(context.Background()); err != nil {
		panic(fmt.Sprintf("testdatabases: cannot share %s database %s: %v", db.ID, db.Name, err))
	}
	return db.lease.driverDSN()
}

// lease is the engine side of a DB.
type lease interface {
	share(ctx context.Context) error
	url() string
	driverDSN() (string, string)
}
