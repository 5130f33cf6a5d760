package testdatabases

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/core"
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
// (MariaDB is "mysql"). It is core's Dialect, the one a plugin's database
// service reports and package migrate takes, so that a plugin's migrations
// ([migrate.Migrations]) are a [Migrator] as they are.
//
// [migrate.Migrations]: https://pkg.go.dev/github.com/greenroom-dev/greenroom/migrate#Migrations
type Dialect = core.Dialect

// Dialects.
const (
	DialectSQLite   = core.DialectSQLite
	DialectPostgres = core.DialectPostgres
	DialectMySQL    = core.DialectMySQL
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

// An Option configures [New], [Set.With] and [Set.Init]. An [ID] is an
// Option that selects that engine; an [Isolation] is an Option that selects
// the isolation tier.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	ids        []ID
	migrator   Migrator
	provider   ContainerProvider
	keepFailed bool
	isolation  Isolation
}

// Isolation is how a test's database is kept apart from other tests'. It
// is an [Option]: pass it to [New] or [Set.With] for a whole Set, or to
// [Set.Init] for one test.
//
// On SQLite both tiers are the same: every test gets its own database file
// with real connections, so Clone changes nothing there but [DB.Isolation].
type Isolation int

const (
	// Rollback, the default and the fastest tier, runs the test on a
	// prepared database inside one server session and an outer transaction
	// that is rolled back when the test ends. Every connection of the test
	// shares that session: transactions are savepoints and run one after
	// the other, isolation levels are not applied, LISTEN/NOTIFY delivers
	// nothing and on PostgreSQL now() stays the same for the whole test.
	Rollback Isolation = iota
	// Clone gives the test a real database cloned from the migrated
	// template (PostgreSQL: CREATE DATABASE ... TEMPLATE; MySQL/MariaDB: the
	// template's schema and rows replayed) and a real connection pool:
	// concurrent transactions on several connections, row locks, isolation
	// levels, LISTEN/NOTIFY and now() behave as in production. Clones are
	// prepared in the background and dropped after the test; a test costs
	// more than in Rollback mode (see docs/databases.md).
	Clone
)

// String returns "rollback" or "clone".
func (i Isolation) String() string {
	switch i {
	case Rollback:
		return "rollback"
	case Clone:
		return "clone"
	}
	return fmt.Sprintf("Isolation(%d)", int(i))
}

func (i Isolation) apply(c *config) { c.isolation = i }

// WithMigrator sets the schema every database starts with. Without it,
// databases are empty.
func WithMigrator(m Migrator) Option { return optionFunc(func(c *config) { c.migrator = m }) }

// WithContainerProvider starts server engines whose connection-string
// variable is not set in containers, with p:
//
//	import "github.com/greenroom-dev/greenroom/testdatabases/containers/testcontainers"
//
//	dbs := testdatabases.New(t, testdatabases.Postgres17, testdatabases.WithContainerProvider(testcontainers.Provider()))
//
// Without a provider such an engine is unavailable: its tests skip (fail
// under CI=true) with a message naming the variable and the provider
// modules. A connection string, when set, is used instead of a container.
// The first test of the binary that resolves an engine decides where it
// comes from; later Sets share that engine.
func WithContainerProvider(p ContainerProvider) Option {
	return optionFunc(func(c *config) { c.provider = p })
}

// KeepFailed keeps the database of a failed test (committing what the test
// wrote) and logs how to connect to it. Setting
// GREENROOM_TEST_DATABASE_KEEP_FAILED=true does the same.
func KeepFailed() Option { return optionFunc(func(c *config) { c.keepFailed = true }) }

// Set is a selection of engines to run tests on, with the options of its
// databases. Create it with [New]; derive variants with [Set.With].
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
	if isTrue(os.Getenv("GREENROOM_TEST_DATABASE_KEEP_FAILED")) {
		c.keepFailed = true
	}
	if err := c.check(); err != nil {
		t.Fatal(err)
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
	c.ids = nil
	return &Set{ids: out, cfg: c}
}

// check reports options that cannot work.
func (c *config) check() error {
	switch c.isolation {
	case Rollback, Clone:
	default:
		return fmt.Errorf("testdatabases: unknown isolation %v; use testdatabases.Rollback or testdatabases.Clone", c.isolation)
	}
	return nil
}

// With returns a Set like s with opts applied on top of its options, for
// example s.With(testdatabases.Clone) for tests that need real
// connections. IDs among opts replace the selection of engines. s is not
// changed.
func (s *Set) With(opts ...Option) *Set {
	c := s.cfg
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	ids := s.ids
	if len(c.ids) > 0 {
		ids = nil
		for _, id := range c.ids {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	c.ids = nil
	return &Set{ids: ids, cfg: c}
}

// IDs returns the selected engines, in order.
func (s *Set) IDs() []ID { return append([]ID(nil), s.ids...) }

// Each runs fn as one subtest per selected engine, named after the engine
// ("sqlite", "postgres15", ...), with a fresh isolated database from
// [Set.Init]. An engine that is not available skips its subtest, or fails
// it when the environment variable CI is true.
//
// The database is taken when fn first uses it, so fn may call t.Parallel
// first: a subtest paused in t.Parallel holds no database.
func (s *Set) Each(t *testing.T, fn func(t *testing.T, db *DB)) {
	t.Helper()
	for _, id := range s.ids {
		t.Run(string(id), func(t *testing.T) {
			fn(t, s.Init(t, id))
		})
	}
}

// Init returns a fresh isolated database of engine id for t, migrated by
// the Set's migrator, with the Set's options and then opts (per-test
// options such as [Clone]; an [ID] among them fails t). An engine that is
// not available skips t (fails it under CI=true).
//
// The engine is checked at once, but the database itself is taken from the
// engine's pool when the test first uses it (its first connection, or
// [DB.Name], [DB.ConnectionString] or [DB.DriverDSN]), and released when t
// ends. A database that cannot be had fails t with an explanation, and the
// statement that needed it returns the same error.
func (s *Set) Init(t testing.TB, id ID, opts ...Option) *DB {
	t.Helper()
	cfg := s.cfg
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	if len(cfg.ids) > 0 {
		t.Fatalf("testdatabases: Init(t, %q, ...) got the engine %q among its options; Init takes one engine, as its id argument (select engines with New or Set.With)", id, cfg.ids[0])
	}
	if err := cfg.check(); err != nil {
		t.Fatal(err)
	}
	if !id.known() {
		t.Fatalf("testdatabases: unknown engine %q; known engines are %v", id, allIDs)
	}
	e, err := theManager.engine(id, cfg.provider)
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
	src, err := e.source(cfg)
	if err != nil {
		t.Fatalf("testdatabases: %s: %v", id, err)
	}
	db := newDB(id, cfg.isolation, src, t)
	t.Cleanup(func() { db.close(t.Failed() && cfg.keepFailed, t.Logf) })
	return db
}

// Open is Init without a test: it returns a fresh isolated database that
// the caller must Close. It suits benchmarks that need one database per
// iteration, and TestMain. The database is taken at once; an unavailable
// engine is an error.
func (s *Set) Open(ctx context.Context, id ID) (*DB, error) {
	if !id.known() {
		return nil, fmt.Errorf("testdatabases: unknown engine %q; known engines are %v", id, allIDs)
	}
	if err := s.cfg.check(); err != nil {
		return nil, err
	}
	e, err := theManager.engine(id, s.cfg.provider)
	if err != nil {
		return nil, fmt.Errorf("testdatabases: %s is not available: %w", id, err)
	}
	src, err := e.source(s.cfg)
	if err != nil {
		return nil, fmt.Errorf("testdatabases: %s: %w", id, err)
	}
	db := newDB(id, s.cfg.isolation, src, nil)
	if _, err := db.h.get(ctx); err != nil {
		db.Close()
		return nil, err
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
// test; everything it writes is invisible to other tests and undone (or
// dropped) when the test ends.
type DB struct {
	*sql.DB
	ID        ID
	Dialect   Dialect
	Isolation Isolation

	h *handle
}

// Name returns the database name on the server (the file path for SQLite),
// taking the database from the pool if the test has not used it yet. If
// no database can be had, the test fails with the reason and Name returns
// "".
func (db *DB) Name() string {
	l, err := db.h.get(context.Background())
	if err != nil {
		return ""
	}
	return l.name()
}

// Close closes the *sql.DB and gives the database back: everything written
// to it is undone and it is reused or dropped. Init's databases are closed
// when the test ends; calling Close earlier is allowed.
func (db *DB) Close() error {
	db.close(false, nil)
	return nil
}

func (db *DB) close(keep bool, logf func(string, ...any)) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if l := db.h.close(); l != nil {
		_ = db.DB.Close()
		l.release(keep, logf)
		return
	}
	_ = db.DB.Close()
}

// ConnectionString returns a URL for the database (postgres://...,
// mysql://user:pass@host:port/db, or file:... for SQLite) so that another
// client, for example a plugin's database service, can open it. If no
// database can be had, the test fails with the reason and it returns "".
//
// In [Rollback] mode on PostgreSQL and MySQL, calling it switches the
// test's *sql.DB out of its rollback-only transaction: what the test wrote
// so far is committed so other connections see it, and the database is
// recycled the slow way (dropped and re-cloned) when the test ends. Prefer
// passing DB.DB where you can, or use [Clone] mode.
func (db *DB) ConnectionString() string {
	l, err := db.h.get(context.Background())
	if err != nil {
		return ""
	}
	if err := l.share(context.Background()); err != nil {
		panic(fmt.Sprintf("testdatabases: cannot share %s database %s: %v", db.ID, l.name(), err))
	}
	return l.url()
}

// DriverDSN is like ConnectionString but returns a registered database/sql
// driver name ("pgx", "mysql" or "sqlite") and a DSN that driver accepts.
func (db *DB) DriverDSN() (driverName, dsn string) {
	l, err := db.h.get(context.Background())
	if err != nil {
		return "", ""
	}
	if err := l.share(context.Background()); err != nil {
		panic(fmt.Sprintf("testdatabases: cannot share %s database %s: %v", db.ID, l.name(), err))
	}
	return l.driverDSN()
}
