// Package testdatabases runs one test suite on SQLite, PostgreSQL and
// MySQL/MariaDB, giving every test a fresh, fully isolated database that is
// ready before the test asks for it.
//
//	func TestTodos(t *testing.T) {
//		dbs := testdatabases.New(t, testdatabases.WithMigrator(testdatabases.Goose(migrations, "migrations/{dialect}")))
//		dbs.Each(t, func(t *testing.T, db *testdatabases.DB) {
//			// db.DB is a *sql.DB of its own; db.Dialect is "sqlite", "postgres" or "mysql".
//		})
//	}
//
// Each runs one subtest per engine, named after it ("sqlite", "postgres15",
// "mariadb10", ...), so go test -run 'TestTodos/postgres' picks one. The
// database is taken when the test first uses it, so a test may call
// t.Parallel before.
//
// # Two isolation tiers
//
// [Rollback] (the default) runs a test on a prepared database inside one
// server session and an outer transaction that is rolled back afterwards:
// the fastest, described below. [Clone] gives the test a real database
// cloned from the template with a real connection pool, for tests that need
// real concurrency (row locks between connections, isolation levels,
// LISTEN/NOTIFY, now() advancing). Choose per Set (New(t, Clone),
// dbs.With(Clone)) or per test (dbs.Init(t, id, Clone)). On SQLite both are
// the same real file per test.
//
// # Where engines come from
//
// SQLite needs nothing. For a server engine, in order: the connection
// string in GREENROOM_TEST_DATABASE_<ID>_CONNECTION_STRING (for example
// GREENROOM_TEST_DATABASE_POSTGRES15_CONNECTION_STRING=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
// or GREENROOM_TEST_DATABASE_MARIADB10_CONNECTION_STRING=mysql://root@127.0.0.1:3306/test); else a
// container started with testcontainers-go (or dockertest, see
// [WithContainerProvider]) with its data on tmpfs and durability off, one
// per engine, reused by the run's other test binaries; else the engine's
// subtests skip with a message naming the variable. With CI=true an
// unavailable engine fails instead. [New] without IDs selects SQLite plus
// every engine whose variable is set.
//
// # Migrations once
//
// A [Migrator] builds the schema once per engine and migration hash, into a
// template: a template database on PostgreSQL, a template schema on
// MySQL/MariaDB (cloned by replaying its tables, views, routines and
// triggers and copying its rows), a serialized image on SQLite. Templates
// are shared by test binaries and runs while the hash is unchanged.
//
// # How isolation works, and why it is fast
//
// SQLite: every test gets its own database file, written from the image;
// a background goroutine keeps files with an open connection ready.
// Everything is real: connections, transactions, commits.
//
// PostgreSQL and MySQL/MariaDB: a pool per engine and hash keeps per-test
// databases (clones of the template, named greenroom_test_<run>_<hash>_<n>)
// with one open server session each, prepared in the background. A test's
// *sql.DB runs on that session inside an outer transaction: every
// connection the test opens is a virtual connection on it; a transaction
// the test (or the plugin under test) begins becomes a SAVEPOINT, Commit
// releases it and Rollback rolls back to it; on PostgreSQL each statement
// outside a transaction runs under its own savepoint, so a failing
// statement does not abort the others. When the test ends the outer
// transaction is rolled back, which undoes rows and schema changes, and
// what a rollback leaves behind is reset in one round trip: sequences that
// moved (setval), advisory and named locks, session state, and MySQL
// AUTO_INCREMENT counters that moved. The database is then ready for the
// next test. A test therefore pays for its own statements and little else.
//
// InnoDB lowers a counter only with DDL, which is slow. So on MySQL/MariaDB,
// when the template has no foreign keys, triggers, views or routines and
// only InnoDB tables, each pooled session shadows every table with a
// TEMPORARY copy of it (made once per session); a moved counter is then
// reset by TRUNCATE of the copy (or re-creating a copy that holds seed
// rows), outside any transaction and without DDL. Before anything that
// could tell a copy from its table (other sessions, SHOW CREATE TABLE,
// information_schema, TEMPORARY tables of the same name, CALL), the
// session moves the test's rows into the real tables and drops the copies.
//
// Statements that would escape the outer transaction are detected: SQL
// text that begins or ends transactions, MySQL statements that commit
// implicitly (DDL), stored procedure calls on MySQL, a deadlock that rolls
// the transaction back, and [DB.ConnectionString] (another client will
// connect). Then the session switches to direct mode: the outer transaction
// is committed, statements run as on a plain connection, and the database
// is dropped and replaced by a new clone after the test (the slow way, in
// the background).
//
// Virtual connections share one session: a transaction owns it until it
// ends, and statements from other connections wait (they do not see its
// uncommitted rows half-way). Query results are read completely before the
// session is released, so any number of result sets may be open. A
// statement that waits 30 s for another connection's transaction fails with
// an explanation instead of hanging: code that, inside a transaction, uses
// the *sql.DB instead of the transaction deadlocks here (it works in
// production only because a pool has a second connection).
//
// # Keeping a failed test's database
//
// With [KeepFailed] or GREENROOM_TEST_DATABASE_KEEP_FAILED=true, a failed
// test's database is committed, kept, and its connection string logged.
//
// # Hygiene
//
// Per-test databases are named greenroom_test_<run marker>_... A run
// proves it is alive by holding a lock on each server (a PostgreSQL
// advisory lock, a MySQL named lock, a flock on SQLite's run directory).
// When the test binary exits, or is killed, a reaper child process (the
// test binary, re-executed) drops the run's databases; go test waits for it
// because it shares the test's output. A run also drops databases of dead
// runs it finds, never those of live ones. At most four templates are kept
// per server; older ones that no live run uses are dropped.
//
// # Process-wide state
//
// Engines, templates and pools live in one unexported, lazily created,
// mutex-guarded manager, because sharing them across the tests of a binary
// is what makes databases cheap. Nothing in it can be changed by users.
//
// See docs/databases.md for running the matrix locally, in CI and with
// containers, and for the limits of the transaction design.
package testdatabases
