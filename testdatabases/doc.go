// Package testdatabases runs one test suite on SQLite, PostgreSQL and
// MySQL/MariaDB, giving every test a fresh, isolated, migrated database.
//
//	func TestTodos(t *testing.T) {
//		t.Parallel()
//		dbs := testdatabases.New(t, testdatabases.WithMigrator(todo.Migrations))
//		dbs.Each(t, func(t *testing.T, db *testdatabases.DB) {
//			t.Parallel()
//			// db.DB is a *sql.DB of its own; db.Dialect is "sqlite", "postgres" or "mysql".
//		})
//	}
//
// [Set.Each] runs one subtest per engine, named after it ("sqlite",
// "postgres15", "mariadb10", ...), so go test -run 'TestTodos/postgres' picks
// one. [Set.Init] gives one test a database of one engine; [Set.Open] does
// the same without a test.
//
// # What a test gets
//
//   - A database that no other test sees, migrated by the Set's [Migrator]:
//     rows, schema changes, sequences and AUTO_INCREMENT counters (the first
//     id is 1 in every test), locks and session settings are its own.
//   - Everything it writes is undone or thrown away when the test ends;
//     nothing of it reaches the next test.
//   - The database is taken when the test first uses it (its first query,
//     or Name, ConnectionString, DriverDSN), not when Init returns, so tests
//     paused in t.Parallel hold none, and any number of parallel tests at
//     any -parallel finish. A test that cannot be served (the server refuses
//     more connections) fails with an explanation instead of waiting forever.
//   - It is released when the test ends, or earlier with [DB.Close].
//
// # Two isolation tiers
//
// [Rollback], the default, is the fastest: the test's *sql.DB runs on one
// prepared server session inside a transaction that is rolled back when the
// test ends. Transactions the test or the plugin begins are real (commit,
// rollback, savepoints, errors inside), and results match a real database
// except where one session cannot be several: transactions of different
// connections run one after another, isolation levels and read-only
// options are not applied, the test's connections share temporary tables,
// LISTEN/NOTIFY is never delivered, and on PostgreSQL now() is fixed for
// the whole test. Statements that would escape the transaction
// (transaction control as SQL text, MySQL DDL, CALL, [DB.ConnectionString])
// still work and stay isolated; the database is then replaced after the
// test, which costs a clone. Every observable difference is listed, engine
// by engine, in docs/databases.md and asserted by the package's
// differential test, which runs a corpus of database behaviours on a real
// database and on both tiers.
//
// [Clone] gives the test a real database cloned from the migrated template,
// with a real connection pool through the driver: concurrent transactions
// from several connections, isolation levels, LISTEN/NOTIFY, now()
// advancing, and code that uses the pool inside a transaction behave as in
// production. Clones are prepared in the background and dropped after the
// test. Choose it per Set, testdatabases.New(t, testdatabases.Clone), or per
// test, dbs.Init(t, id, testdatabases.Clone) and
// dbs.With(testdatabases.Clone).Each(t, fn).
//
// On SQLite both tiers are the same: every test gets its own real database
// file, written from the migrated image.
//
// # Where engines come from
//
// SQLite needs nothing. For a server engine, in order: the connection
// string in GREENROOM_TEST_DATABASE_<ID>_CONNECTION_STRING (for example
// GREENROOM_TEST_DATABASE_POSTGRES15_CONNECTION_STRING=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
// or GREENROOM_TEST_DATABASE_MARIADB10_CONNECTION_STRING=mysql://root@127.0.0.1:3306/test);
// else a container, when the Set has a [ContainerProvider] (see
// [WithContainerProvider]); else the engine's subtests skip with a message
// naming the variable and the provider modules. With CI=true an
// unavailable engine fails instead.
//
// Container providers live in Go modules of their own, so that this
// package, and mockservices and testbackend above it, compile no Docker SDK,
// containerd or OpenTelemetry package. One import and one option enable
// them:
//
//	import "github.com/greenroom-dev/greenroom/testdatabases/containers/testcontainers"
//
//	dbs := testdatabases.New(t, testdatabases.Postgres17, testdatabases.WithContainerProvider(testcontainers.Provider()))
//
// or dockertest.Provider() from
// github.com/greenroom-dev/greenroom/testdatabases/containers/dockertest. A connection string that is set but
// does not work always fails. [New] without IDs selects SQLite plus every
// engine whose variable is set.
//
// # Migrations run once
//
// A plugin's migrations (package migrate: todo.Migrations above is
// migrate.Migrator(migrationFiles, "migrations")) are a [Migrator] as they
// are, and run exactly as in production; [Goose] and [SQL] serve code
// without Greenroom migrations.
//
// The migrator runs once per engine and migration hash, into a template
// that the run's test binaries, and later runs, share while the hash is
// unchanged. At most four templates are kept per server.
//
// # What a run leaves behind
//
// Nothing but the templates: per-test databases are dropped when the test
// binary exits, even when it is killed, and a later run removes what a
// crashed one left. With [KeepFailed] (or
// GREENROOM_TEST_DATABASE_KEEP_FAILED=true) a failed test's database is
// kept, with what the test committed, and its connection string logged.
//
// # Process-wide state
//
// Engines, templates and pools of prepared databases are shared by the
// tests of a binary, in one unexported, lazily created, mutex-guarded
// manager: sharing them is what makes a database per test cheap. Nothing
// in it can be changed by users.
//
// docs/databases.md explains the mechanism (sessions, savepoints, shadow
// tables on MySQL, clones, the reaper), how to run the matrix locally, in
// CI and with containers, and the environment variables.
package testdatabases
