package testdatabases_test

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/testdatabases"
)

var todoSchema = testdatabases.SQL(map[testdatabases.Dialect][]string{
	testdatabases.DialectPostgres: {"CREATE TABLE todos (id SERIAL PRIMARY KEY, title TEXT NOT NULL)"},
	testdatabases.DialectMySQL:    {"CREATE TABLE todos (id INTEGER AUTO_INCREMENT PRIMARY KEY, title TEXT NOT NULL)"},
	testdatabases.DialectSQLite:   {"CREATE TABLE todos (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL)"},
})

// One suite on every engine: SQLite always, plus each engine whose
// GREENROOM_TEST_DATABASE_<ID>_CONNECTION_STRING is set. Run one engine
// with go test -run 'TestTodos/postgres'.
func ExampleSet_Each() {
	_ = func(t *testing.T) { // func TestTodos(t *testing.T)
		dbs := testdatabases.New(t, testdatabases.WithMigrator(todoSchema))
		dbs.Each(t, func(t *testing.T, db *testdatabases.DB) {
			if _, err := db.Exec("INSERT INTO todos (title) VALUES ('write tests')"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Select engines explicitly; an ID is an Option.
func ExampleNew() {
	_ = func(t *testing.T) {
		dbs := testdatabases.New(t,
			testdatabases.SQLite3, testdatabases.Postgres15, testdatabases.MariaDB10,
			testdatabases.WithMigrator(todoSchema))
		_ = dbs
	}
}

// Init gives one test one fresh database of one engine; it is released when
// the test ends.
func ExampleSet_Init() {
	_ = func(t *testing.T) {
		db := testdatabases.New(t, testdatabases.WithMigrator(todoSchema)).Init(t, testdatabases.SQLite3)
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM todos").Scan(&n); err != nil {
			t.Fatal(err)
		}
	}
}

// Open and Close work without a test, for example in a benchmark loop.
// Each database starts from the template: ids start at 1 again.
func ExampleSet_Open() {
	dbs := testdatabases.New(&testing.T{}, testdatabases.SQLite3, testdatabases.WithMigrator(todoSchema))
	for i := 0; i < 2; i++ {
		db, err := dbs.Open(context.Background(), testdatabases.SQLite3)
		if err != nil {
			panic(err)
		}
		res, err := db.Exec("INSERT INTO todos (title) VALUES ('x')")
		if err != nil {
			panic(err)
		}
		id, _ := res.LastInsertId()
		fmt.Println(db.ID, db.Dialect, "first id:", id)
		db.Close()
	}
	// Output:
	// sqlite sqlite first id: 1
	// sqlite sqlite first id: 1
}

// Hand the database to code that opens its own connections.
func ExampleDB_ConnectionString() {
	_ = func(t *testing.T) {
		db := testdatabases.New(t).Init(t, testdatabases.Postgres15)
		_ = db.ConnectionString() // postgres://.../greenroom_test_...
		driver, dsn := db.DriverDSN()
		other, err := sql.Open(driver, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
	}
}

func ExampleID_EnvVar() {
	fmt.Println(testdatabases.Postgres15.EnvVar())
	fmt.Println(testdatabases.MariaDB10.EnvVar())
	fmt.Printf("%q\n", testdatabases.SQLite3.EnvVar())
	// Output:
	// GREENROOM_TEST_DATABASE_POSTGRES15_CONNECTION_STRING
	// GREENROOM_TEST_DATABASE_MARIADB10_CONNECTION_STRING
	// ""
}

func ExampleID_Dialect() {
	for _, id := range []testdatabases.ID{testdatabases.SQLite3, testdatabases.Postgres18, testdatabases.MySQL8, testdatabases.MariaDB11} {
		fmt.Println(id, id.Dialect())
	}
	// Output:
	// sqlite sqlite
	// postgres18 postgres
	// mysql8 mysql
	// mariadb11 mysql
}

func ExampleSQL() {
	m := testdatabases.SQL(map[testdatabases.Dialect][]string{
		testdatabases.DialectPostgres: {"CREATE TABLE t (id BIGSERIAL PRIMARY KEY)"},
		"":                            {"CREATE TABLE t (id INTEGER PRIMARY KEY)"}, // other dialects
	})
	dbs := testdatabases.New(&testing.T{}, testdatabases.SQLite3, testdatabases.WithMigrator(m))
	db, err := dbs.Open(context.Background(), testdatabases.SQLite3)
	if err != nil {
		panic(err)
	}
	defer db.Close()
	var n int
	fmt.Println(db.QueryRow("SELECT COUNT(*) FROM t").Scan(&n), n)
	// Output: <nil> 0
}

//go:embed testdata/migrations
var migrations embed.FS

// Goose SQL migrations, one directory per dialect.
func ExampleGoose() {
	m := testdatabases.Goose(migrations, "testdata/migrations/{dialect}")
	dbs := testdatabases.New(&testing.T{}, testdatabases.SQLite3, testdatabases.WithMigrator(m))
	db, err := dbs.Open(context.Background(), testdatabases.SQLite3)
	if err != nil {
		panic(err)
	}
	defer db.Close()
	var name string
	fmt.Println(db.QueryRow("SELECT name FROM users WHERE id = 1").Scan(&name), name)
	// Output: <nil> admin
}

// Migrations written in Go are a type with the two methods of Migrator.
// Code cannot be hashed, so a version stands in for the hash: change it
// whenever Migrate's result changes, or a template built by the old code is
// reused.
func ExampleMigrator() {
	dbs := testdatabases.New(&testing.T{}, testdatabases.SQLite3, testdatabases.WithMigrator(settingsV3{}))
	db, err := dbs.Open(context.Background(), testdatabases.SQLite3)
	if err != nil {
		panic(err)
	}
	defer db.Close()
	_, err = db.Exec("INSERT INTO settings (k, v) VALUES ('a', 'b')")
	fmt.Println(err)
	// Output: <nil>
}

type settingsV3 struct{}

func (settingsV3) Hash() (string, error) { return "settings v3", nil }

func (settingsV3) Migrate(ctx context.Context, db *sql.DB, d testdatabases.Dialect) error {
	_, err := db.ExecContext(ctx, "CREATE TABLE settings (k VARCHAR(40) PRIMARY KEY, v TEXT)")
	return err
}

// Keep a failed test's database and log how to connect to it
// (or set GREENROOM_TEST_DATABASE_KEEP_FAILED=true).
func ExampleKeepFailed() {
	_ = func(t *testing.T) {
		testdatabases.New(t, testdatabases.KeepFailed(), testdatabases.WithMigrator(todoSchema))
	}
}

// Start engines without a connection string in containers. The provider
// comes from a module of its own, so that only test binaries that use it
// link a container SDK:
//
//	import "github.com/greenroom-dev/greenroom/testdatabases/containers/testcontainers"
//
//	testdatabases.New(t, testdatabases.Postgres17, testdatabases.WithContainerProvider(testcontainers.Provider()))
//
// Any ContainerProvider works; this one has a server already running.
func ExampleWithContainerProvider() {
	_ = func(t *testing.T) {
		testdatabases.New(t, testdatabases.Postgres17, testdatabases.WithContainerProvider(running{"127.0.0.1:5432"}))
	}
}

// running is a ContainerProvider whose server is already running at an
// address, for example one started by the CI system.
type running struct{ hostPort string }

func (running) Name() string { return "running" }

func (r running) Start(ctx context.Context, spec testdatabases.ContainerSpec) (string, error) {
	return r.hostPort, nil
}

// Without a container engine, a provider's error wraps
// ErrNoContainerEngine, and the engine is unavailable: its tests skip (fail
// under CI=true), and Open says why.
func ExampleContainerProvider() {
	set := testdatabases.New(&testing.T{}, testdatabases.Postgres18, testdatabases.WithContainerProvider(noEngine{}))
	_, err := set.Open(context.Background(), testdatabases.Postgres18)
	fmt.Println(errors.Is(err, testdatabases.ErrNoContainerEngine))
	// Output: true
}

type noEngine struct{}

func (noEngine) Name() string { return "none" }

func (noEngine) Start(context.Context, testdatabases.ContainerSpec) (string, error) {
	return "", fmt.Errorf("%w: none: no socket", testdatabases.ErrNoContainerEngine)
}

func ExampleWithMigrator() {
	_ = func(t *testing.T) {
		testdatabases.New(t, testdatabases.WithMigrator(todoSchema))
	}
}

func ExampleSet_IDs() {
	dbs := testdatabases.New(&testing.T{}, testdatabases.SQLite3, testdatabases.MySQL8)
	fmt.Println(dbs.IDs())
	// Output: [sqlite mysql8]
}

func ExampleDB_Close() {
	dbs := testdatabases.New(&testing.T{}, testdatabases.SQLite3)
	db, err := dbs.Open(context.Background(), testdatabases.SQLite3)
	if err != nil {
		panic(err)
	}
	fmt.Println(db.Close())
	// Output: <nil>
}

// DriverDSN gives a driver name and DSN for sql.Open; for SQLite it is the
// test's own file.
func ExampleDB_DriverDSN() {
	dbs := testdatabases.New(&testing.T{}, testdatabases.SQLite3, testdatabases.WithMigrator(todoSchema))
	db, err := dbs.Open(context.Background(), testdatabases.SQLite3)
	if err != nil {
		panic(err)
	}
	defer db.Close()
	driver, dsn := db.DriverDSN()
	other, err := sql.Open(driver, dsn)
	if err != nil {
		panic(err)
	}
	defer other.Close()
	if _, err := db.Exec("INSERT INTO todos (title) VALUES ('shared')"); err != nil {
		panic(err)
	}
	var n int
	fmt.Println(driver, other.QueryRow("SELECT COUNT(*) FROM todos").Scan(&n), n)
	// Output: sqlite <nil> 1
}

// Tests that need real connections (row locks between transactions,
// isolation levels, LISTEN/NOTIFY, now() advancing, the pool used inside a
// transaction) take Clone mode, for a whole Set or per test. On SQLite the
// two tiers are the same real file.
func ExampleIsolation() {
	_ = func(t *testing.T) { // func TestScheduler(t *testing.T)
		dbs := testdatabases.New(t, testdatabases.Clone, testdatabases.WithMigrator(todoSchema))
		dbs.Each(t, func(t *testing.T, db *testdatabases.DB) {
			t.Parallel()
			tx, err := db.BeginTx(t.Context(), &sql.TxOptions{Isolation: sql.LevelSerializable})
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			// ... a second connection of db.DB blocks on tx's row locks, as in production.
		})
	}
	dbs := testdatabases.New(&testing.T{}, testdatabases.SQLite3, testdatabases.Clone)
	db, err := dbs.Open(context.Background(), testdatabases.SQLite3)
	if err != nil {
		panic(err)
	}
	defer db.Close()
	fmt.Println(db.Isolation)
	// Output: clone
}

func ExampleIsolation_String() {
	fmt.Println(testdatabases.Rollback, testdatabases.Clone)
	// Output: rollback clone
}

// With derives a Set: here, the same engines and migrations in Clone mode,
// for the few tests that need real connections.
func ExampleSet_With() {
	_ = func(t *testing.T) {
		dbs := testdatabases.New(t, testdatabases.WithMigrator(todoSchema))
		dbs.With(testdatabases.Clone).Each(t, func(t *testing.T, db *testdatabases.DB) {
			// db.Isolation == testdatabases.Clone
		})
	}
	dbs := testdatabases.New(&testing.T{}, testdatabases.SQLite3, testdatabases.WithMigrator(todoSchema))
	clone, err := dbs.With(testdatabases.Clone).Open(context.Background(), testdatabases.SQLite3)
	if err != nil {
		panic(err)
	}
	defer clone.Close()
	rollback, err := dbs.Open(context.Background(), testdatabases.SQLite3)
	if err != nil {
		panic(err)
	}
	defer rollback.Close()
	fmt.Println(clone.Isolation, rollback.Isolation)
	// Output: clone rollback
}

// Init takes per-test options after the engine: one test of a Rollback
// Set in Clone mode.
func ExampleSet_Init_clone() {
	_ = func(t *testing.T) {
		dbs := testdatabases.New(t, testdatabases.WithMigrator(todoSchema))
		db := dbs.Init(t, testdatabases.Postgres15, testdatabases.Clone)
		t.Parallel() // the database is taken at first use, after this
		// Two connections of db.DB, each with a transaction of its own.
		tx1, err := db.BeginTx(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx1.Rollback()
		tx2, err := db.BeginTx(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx2.Rollback()
	}
}

// Name is the database's name on the server, or the file of an SQLite
// database.
func ExampleDB_Name() {
	dbs := testdatabases.New(&testing.T{}, testdatabases.SQLite3)
	db, err := dbs.Open(context.Background(), testdatabases.SQLite3)
	if err != nil {
		panic(err)
	}
	defer db.Close()
	fmt.Println(strings.HasSuffix(db.Name(), ".db"))
	// Output: true
}
