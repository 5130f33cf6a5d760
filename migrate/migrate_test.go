package migrate_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver for the test's admin connections
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/config"
	"github.com/greenroom-dev/greenroom/defaults/database"
	"github.com/greenroom-dev/greenroom/defaults/logger"
	"github.com/greenroom-dev/greenroom/migrate"
)

const (
	postgresEnv = "GREENROOM_TEST_DATABASE_POSTGRES15_CONNECTION_STRING"
	mariaDBEnv  = "GREENROOM_TEST_DATABASE_MARIADB10_CONNECTION_STRING"
)

// serverURL returns the connection string in the environment variable, or
// skips the test; under CI=true a missing variable fails it instead.
func serverURL(t *testing.T, env string) string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set; CI must run the database tests", env)
		}
		t.Skipf("set %s to run this test against a real server", env)
	}
	return v
}

// engine builds backend.database settings for a test, registering the
// cleanup of the databases the test creates.
type engine struct {
	name    string
	dialect core.Dialect
	setup   func(t *testing.T) map[string]any
}

var engines = []engine{
	{"sqlite", core.DialectSQLite, func(t *testing.T) map[string]any { return map[string]any{} }},
	{"postgres", core.DialectPostgres, func(t *testing.T) map[string]any {
		conn := serverURL(t, postgresEnv)
		prefix := testPrefix()
		dropDatabases(t, "postgres", conn, prefix)
		return map[string]any{"connection": conn, "prefix": prefix}
	}},
	{"postgres-schema", core.DialectPostgres, func(t *testing.T) map[string]any {
		// Every plugin's schema in one shared database, created for the
		// test and dropped with the others.
		conn := serverURL(t, postgresEnv)
		prefix := testPrefix()
		dropDatabases(t, "postgres", conn, prefix)
		admin, err := sql.Open("pgx", conn)
		require.NoError(t, err)
		defer admin.Close()
		_, err = admin.Exec(`CREATE DATABASE "` + prefix + `shared"`)
		require.NoError(t, err)
		u, err := url.Parse(conn)
		require.NoError(t, err)
		u.Path = "/" + prefix + "shared"
		return map[string]any{"connection": u.String(), "pluginDivisionMode": "schema"}
	}},
	{"mysql", core.DialectMySQL, func(t *testing.T) map[string]any {
		conn := serverURL(t, mariaDBEnv)
		prefix := testPrefix()
		dropDatabases(t, "mysql", conn, prefix)
		return map[string]any{"connection": conn, "prefix": prefix}
	}},
}

func testPrefix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "greenroom_migtest_" + hex.EncodeToString(b[:]) + "_"
}

func dropDatabases(t *testing.T, client, connection, prefix string) {
	t.Helper()
	var admin *sql.DB
	var err error
	if client == "postgres" {
		admin, err = sql.Open("pgx", connection)
		require.NoError(t, err)
	} else {
		u, err := url.Parse(connection)
		require.NoError(t, err)
		c := mysql.NewConfig()
		c.Net, c.Addr, c.User = "tcp", u.Host, u.User.Username()
		c.Passwd, _ = u.User.Password()
		conn, err := mysql.NewConnector(c)
		require.NoError(t, err)
		admin = sql.OpenDB(conn)
	}
	t.Cleanup(func() {
		defer admin.Close()
		q := "SELECT datname FROM pg_database WHERE starts_with(datname, $1)"
		args := []any{prefix}
		if client == "mysql" {
			q = "SELECT schema_name FROM information_schema.schemata WHERE LEFT(schema_name, CHAR_LENGTH(?)) = ?"
			args = append(args, prefix)
		}
		rows, err := admin.Query(q, args...)
		if err != nil {
			t.Errorf("listing test databases: %v", err)
			return
		}
		var names []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Errorf("listing test databases: %v", err)
				continue
			}
			names = append(names, n)
		}
		rows.Close()
		for _, n := range names {
			stmt := "DROP DATABASE IF EXISTS `" + n + "`"
			if client == "postgres" {
				stmt = `DROP DATABASE IF EXISTS "` + n + `" WITH (FORCE)`
			}
			if _, err := admin.Exec(stmt); err != nil {
				t.Errorf("dropping test database %s: %v", n, err)
			}
		}
	})
}

// newManager returns a database manager closed at the end of the test.
func newManager(t *testing.T, settings map[string]any) *database.Manager {
	t.Helper()
	cfg, err := config.FromMap(map[string]any{"backend": map[string]any{"database": settings}})
	require.NoError(t, err)
	m, err := database.NewManager(cfg, nil)
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	return m
}

func pluginDB(t *testing.T, m *database.Manager, pluginID string) (*database.Database, *sql.DB) {
	t.Helper()
	d, err := m.ForPlugin(pluginID)
	require.NoError(t, err)
	db, err := d.DB(context.Background())
	require.NoError(t, err)
	return d, db
}

func count(t *testing.T, db *sql.DB, query string) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRow(query).Scan(&n))
	return n
}

// appliedVersions lists the versions recorded in table.
func appliedVersions(t *testing.T, db *sql.DB, table string) []int64 {
	t.Helper()
	rows, err := db.Query("SELECT version_id FROM " + table + " WHERE version_id > 0 ORDER BY version_id")
	require.NoError(t, err)
	defer rows.Close()
	var vs []int64
	for rows.Next() {
		var v int64
		require.NoError(t, rows.Scan(&v))
		vs = append(vs, v)
	}
	require.NoError(t, rows.Err())
	return vs
}

const createTodos = `-- +goose Up
CREATE TABLE todos (id INTEGER PRIMARY KEY, title VARCHAR(100) NOT NULL);
-- +goose Down
DROP TABLE todos;
`

const insertTodo = `-- +goose Up
INSERT INTO todos (id, title) VALUES (1, 'first');
-- +goose Down
DELETE FROM todos WHERE id = 1;
`

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

func TestUp(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			m := newManager(t, e.setup(t))
			d, db := pluginDB(t, m, "todo")
			fsys := fstest.MapFS{
				"migrations/00001_create_todos.sql": file(createTodos),
				"migrations/00002_insert_todo.sql":  file(insertTodo),
				"migrations/README.md":              file("not a migration"),
			}
			var logs bytes.Buffer
			log := logger.New(slog.NewTextHandler(&logs, nil))
			require.NoError(t, migrate.Up(ctx, d, fsys, migrate.Dir("migrations"), migrate.Logger(log)))
			assert.Equal(t, 1, count(t, db, "SELECT count(*) FROM todos"))
			assert.Equal(t, []int64{1, 2}, appliedVersions(t, db, migrate.DefaultTable))
			assert.Contains(t, logs.String(), `msg="applied migration" file=migrations/00001_create_todos.sql version=1`)
			assert.Contains(t, logs.String(), `file=migrations/00002_insert_todo.sql version=2`)

			// Running again applies nothing: the insert would fail on its
			// primary key if it ran twice.
			logs.Reset()
			require.NoError(t, migrate.Up(ctx, d, fsys, migrate.Dir("migrations"), migrate.Logger(log)))
			assert.Equal(t, 1, count(t, db, "SELECT count(*) FROM todos"))
			assert.Empty(t, logs.String())

			// A new file is applied alone.
			fsys["migrations/00003_second.sql"] = file("-- +goose Up\nINSERT INTO todos (id, title) VALUES (2, 'second');\n")
			require.NoError(t, migrate.Up(ctx, d, fsys, migrate.Dir("migrations")))
			assert.Equal(t, 2, count(t, db, "SELECT count(*) FROM todos"))
			assert.Equal(t, []int64{1, 2, 3}, appliedVersions(t, db, migrate.DefaultTable))
		})
	}
}

func TestDialectDirectories(t *testing.T) {
	// The portable files would fail anywhere; each engine must run only
	// its own directory's file, which records the dialect it ran for.
	fsys := fstest.MapFS{
		"00001_portable.sql":          file("-- +goose Up\nTHIS IS NOT SQL;\n"),
		"sqlite/00001_create.sql":     file("-- +goose Up\nCREATE TABLE ran (dialect TEXT NOT NULL, id INTEGER PRIMARY KEY AUTOINCREMENT);\nINSERT INTO ran (dialect) VALUES ('sqlite');\n"),
		"postgres/00001_create.sql":   file("-- +goose Up\nCREATE TABLE ran (dialect TEXT NOT NULL, id SERIAL PRIMARY KEY);\nINSERT INTO ran (dialect) VALUES ('postgres');\n"),
		"mysql/00001_create.sql":      file("-- +goose Up\nCREATE TABLE ran (dialect VARCHAR(20) NOT NULL, id INT AUTO_INCREMENT PRIMARY KEY);\nINSERT INTO ran (dialect) VALUES ('mysql');\n"),
		"postgres/00002_postgres.sql": file("-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION one() RETURNS integer AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql;\n-- +goose StatementEnd\n"),
	}
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			m := newManager(t, e.setup(t))
			d, db := pluginDB(t, m, "todo")
			require.NoError(t, migrate.Up(ctx, d, fsys))
			var dialect string
			require.NoError(t, db.QueryRow("SELECT dialect FROM ran").Scan(&dialect))
			assert.Equal(t, string(e.dialect), dialect)
			if e.dialect == core.DialectPostgres {
				assert.Equal(t, 1, count(t, db, "SELECT one()"))
			}
		})
	}

	t.Run("a dialect without a directory uses the portable files", func(t *testing.T) {
		fsys := fstest.MapFS{
			"m/00001_create_todos.sql":    file(createTodos),
			"m/mysql/00001_something.sql": file("-- +goose Up\nTHIS IS NOT SQL;\n"),
		}
		m := newManager(t, map[string]any{})
		d, db := pluginDB(t, m, "todo")
		require.NoError(t, migrate.Up(context.Background(), d, fsys, migrate.Dir("m")))
		assert.Equal(t, 0, count(t, db, "SELECT count(*) FROM todos"))
	})
}

func TestSkipMigrations(t *testing.T) {
	m := newManager(t, map[string]any{"plugin": map[string]any{"todo": map[string]any{"skipMigrations": true}}})
	d, db := pluginDB(t, m, "todo")
	require.True(t, d.MigrationsSkipped())
	fsys := fstest.MapFS{"00001_create_todos.sql": file(createTodos)}
	require.NoError(t, migrate.Up(context.Background(), d, fsys))
	assert.Equal(t, 0, count(t, db, "SELECT count(*) FROM sqlite_master WHERE name IN ('todos', 'greenroom_migrations')"),
		"nothing is created when migrations are skipped")

	// Even a broken set of migrations is not looked at.
	require.NoError(t, migrate.Up(context.Background(), d, fstest.MapFS{}))
}

func TestErrors(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			m := newManager(t, e.setup(t))
			d, db := pluginDB(t, m, "todo")
			fsys := fstest.MapFS{
				"migrations/00001_create_todos.sql": file(createTodos),
				"migrations/00002_bad.sql":          file("-- +goose Up\nCREAT TABLE oops (id INTEGER);\n"),
			}
			err := migrate.Up(ctx, d, fsys, migrate.Dir("migrations"))
			require.Error(t, err)
			assert.Contains(t, err.Error(), `migrate: migration "migrations/00002_bad.sql" failed: `)
			assert.Contains(t, err.Error(), "CREAT", "the database's error follows")
			assert.Equal(t, []int64{1}, appliedVersions(t, db, migrate.DefaultTable), "the migrations before the bad one stay applied")

			// Once fixed, the next run applies the rest.
			fsys["migrations/00002_bad.sql"] = file("-- +goose Up\nCREATE TABLE oops (id INTEGER);\n")
			require.NoError(t, migrate.Up(ctx, d, fsys, migrate.Dir("migrations")))
			assert.Equal(t, []int64{1, 2}, appliedVersions(t, db, migrate.DefaultTable))
		})
	}

	tests := []struct {
		name    string
		fsys    fstest.MapFS
		opts    []migrate.Option
		wantErr string
	}{
		{"no Up annotation", fstest.MapFS{"00001_x.sql": file("CREATE TABLE x (id INTEGER);\n")}, nil,
			`migrate: migration "00001_x.sql" is not a valid goose SQL migration: `},
		{"no version", fstest.MapFS{"m/init.sql": file(createTodos)}, []migrate.Option{migrate.Dir("m")},
			`migrate: migration "m/init.sql" has no version: name migration files <version>_<description>.sql, such as 00001_create_todos.sql`},
		{"no files", fstest.MapFS{"m/README.md": file("")}, []migrate.Option{migrate.Dir("m")},
			`migrate: no migrations for dialect sqlite: "m" has no .sql files and there is no "m/sqlite" directory`},
		{"empty dialect directory", fstest.MapFS{"00001_x.sql": file(createTodos), "sqlite/README.md": file("")}, nil,
			`migrate: no migrations for dialect sqlite: "sqlite" has no .sql files`},
		{"missing directory", fstest.MapFS{}, []migrate.Option{migrate.Dir("nope")},
			`migrate: no migrations for dialect sqlite: "nope" has no .sql files and there is no "nope/sqlite" directory`},
		{"duplicate version", fstest.MapFS{"00001_a.sql": file(createTodos), "00001_b.sql": file(createTodos)}, nil,
			`migrate: "."`},
		{"bad glob", fstest.MapFS{"00001_a.sql": file(createTodos)}, []migrate.Option{migrate.Dir("[")},
			`migrate: syntax error in pattern`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newManager(t, map[string]any{})
			d, _ := pluginDB(t, m, "todo")
			err := migrate.Up(context.Background(), d, tt.fsys, tt.opts...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}

	t.Run("nil file system", func(t *testing.T) {
		m := newManager(t, map[string]any{})
		d, _ := pluginDB(t, m, "todo")
		assert.EqualError(t, migrate.Up(context.Background(), d, nil), "migrate: the file system is nil")
	})

	t.Run("closed database", func(t *testing.T) {
		m := newManager(t, map[string]any{})
		d, err := m.ForPlugin("todo")
		require.NoError(t, err)
		require.NoError(t, m.Close())
		err = migrate.Up(context.Background(), d, fstest.MapFS{"00001_a.sql": file(createTodos)})
		assert.EqualError(t, err, "migrate: database for plugin 'todo' is closed; the backend is shutting down")
	})

	t.Run("canceled while another migration runs", func(t *testing.T) {
		m := newManager(t, map[string]any{})
		_, db := pluginDB(t, m, "todo")
		hold := make(chan struct{})
		release := make(chan struct{})
		fsys := fstest.MapFS{"00001_a.sql": file(createTodos)}
		// A Migrations whose file system blocks keeps the lock taken.
		blocking := migrate.Migrator(blockingFS{FS: fsys, entered: hold, release: release, once: &sync.Once{}}, ".")
		done := make(chan error, 1)
		go func() { done <- blocking.Migrate(context.Background(), db, "sqlite") }()
		<-hold
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := migrate.Migrator(fsys, ".").Migrate(ctx, db, "sqlite")
		assert.ErrorIs(t, err, context.Canceled)
		assert.ErrorContains(t, err, "migrate: waiting for another migration of the same database")
		close(release)
		require.NoError(t, <-done)
	})
}

// blockingFS signals entered and waits for release the first time a
// migration file is opened: goose reads files lazily, while the migration
// lock is held.
type blockingFS struct {
	fs.FS
	entered, release chan struct{}
	once             *sync.Once
}

func (b blockingFS) Open(name string) (fs.File, error) {
	if strings.HasSuffix(name, ".sql") {
		b.once.Do(func() { close(b.entered); <-b.release })
	}
	return b.FS.Open(name)
}

func TestConcurrentUp(t *testing.T) {
	fsys := fstest.MapFS{
		"00001_create_todos.sql": file(createTodos),
		"00002_insert_todo.sql":  file(insertTodo),
	}
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			// A few rounds on fresh databases: the races this guards
			// against (such as goose creating its version table outside
			// the lock, which on MySQL lets another replica see the table
			// before its zero-version row) need several tries to show.
			for round := range 3 {
				t.Run(strconv.Itoa(round), func(t *testing.T) {
					settings := e.setup(t)
					m := newManager(t, settings)
					d, db := pluginDB(t, m, "todo")
					// Several runs on one pool and, for servers, on other
					// pools to the same database, as other replicas would.
					dbs := []core.Database{d, d}
					if e.dialect != core.DialectSQLite {
						for range 3 {
							od, _ := pluginDB(t, newManager(t, settings), "todo")
							dbs = append(dbs, od, od)
						}
					}
					var wg sync.WaitGroup
					errs := make([]error, len(dbs))
					for i, d := range dbs {
						wg.Add(1)
						go func() { defer wg.Done(); errs[i] = migrate.Up(context.Background(), d, fsys) }()
					}
					wg.Wait()
					for _, err := range errs {
						assert.NoError(t, err)
					}
					assert.Equal(t, 1, count(t, db, "SELECT count(*) FROM todos"))
					assert.Equal(t, []int64{1, 2}, appliedVersions(t, db, migrate.DefaultTable))
					assert.Equal(t, 1, count(t, db, "SELECT count(*) FROM "+migrate.DefaultTable+" WHERE version_id = 0"))
				})
			}
		})
	}
}

// TestConcurrentUpSQLitePools migrates one SQLite file from several pools
// at once, as several instances of a backend sharing a database do: each
// migration applies once. Without the lock of the file, two runs both find
// a migration pending and the second fails ("table todos already exists").
func TestConcurrentUpSQLitePools(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"00001_create_todos.sql": file(createTodos),
		"00002_insert_todo.sql":  file(insertTodo),
	}
	m := migrate.Migrator(fsys, ".")
	for round := range 3 {
		t.Run(strconv.Itoa(round), func(t *testing.T) {
			t.Parallel()
			// The DSN of package defaults/database's SQLite files.
			dsn := "file:" + t.TempDir() + "/db.sqlite?_pragma=foreign_keys(1)&_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_txlock=immediate"
			dbs := make([]*sql.DB, 4)
			for i := range dbs {
				db, err := sql.Open("sqlite", dsn)
				require.NoError(t, err)
				t.Cleanup(func() { db.Close() })
				dbs[i] = db
			}
			// The file exists, in WAL mode, before the pools race: the
			// first switch to WAL fails other connections opening at
			// that moment with SQLITE_BUSY, busy timeout or not.
			require.NoError(t, dbs[0].Ping())
			var wg sync.WaitGroup
			errs := make([]error, len(dbs))
			for i, db := range dbs {
				wg.Go(func() { errs[i] = m.Migrate(t.Context(), db, core.DialectSQLite) })
			}
			wg.Wait()
			for _, err := range errs {
				assert.NoError(t, err)
			}
			assert.Equal(t, 1, count(t, dbs[0], "SELECT count(*) FROM todos"))
			assert.Equal(t, []int64{1, 2}, appliedVersions(t, dbs[0], migrate.DefaultTable))
		})
	}
}

func TestTable(t *testing.T) {
	m := newManager(t, map[string]any{})
	d, db := pluginDB(t, m, "todo")
	tasks := fstest.MapFS{"00001_tasks.sql": file("-- +goose Up\nCREATE TABLE greenroom_backend_tasks__tasks (id TEXT PRIMARY KEY);\n")}
	todos := fstest.MapFS{"00001_create_todos.sql": file(createTodos)}
	// Two sets of migrations with their own version tables share the
	// database: each has its own version 1.
	require.NoError(t, migrate.Up(context.Background(), d, tasks, migrate.Table("greenroom_backend_tasks__migrations")))
	require.NoError(t, migrate.Up(context.Background(), d, todos))
	assert.Equal(t, []int64{1}, appliedVersions(t, db, "greenroom_backend_tasks__migrations"))
	assert.Equal(t, []int64{1}, appliedVersions(t, db, migrate.DefaultTable))
	assert.Equal(t, 0, count(t, db, "SELECT count(*) FROM greenroom_backend_tasks__tasks"))
	assert.Equal(t, 0, count(t, db, "SELECT count(*) FROM todos"))
}

func TestMigrator(t *testing.T) {
	fsys := fstest.MapFS{
		"m/00001_create_todos.sql":          file(createTodos),
		"m/postgres/00001_create_todos.sql": file(createTodos),
		"m/other.txt":                       file("ignored"),
	}
	mig := migrate.Migrator(fsys, "m", migrate.Dir("ignored"))
	h1, err := mig.Hash()
	require.NoError(t, err)
	assert.Len(t, h1, 64)
	h1again, err := migrate.Migrator(fsys, "m").Hash()
	require.NoError(t, err)
	assert.Equal(t, h1, h1again, "the hash is stable")

	fsys["m/other.txt"] = file("changed")
	h, _ := migrate.Migrator(fsys, "m").Hash()
	assert.Equal(t, h1, h, "only .sql files count")

	fsys["m/postgres/00001_create_todos.sql"] = file(createTodos + "\n")
	h2, _ := migrate.Migrator(fsys, "m").Hash()
	assert.NotEqual(t, h1, h2, "editing a dialect file changes the hash")

	fsys["m/00002_insert_todo.sql"] = file(insertTodo)
	h3, _ := migrate.Migrator(fsys, "m").Hash()
	assert.NotEqual(t, h2, h3, "adding a file changes the hash")

	h4, _ := migrate.Migrator(fsys, "m", migrate.Table("other")).Hash()
	assert.NotEqual(t, h3, h4, "the version table is part of the hash")

	_, err = migrate.Migrator(fsys, "nope").Hash()
	assert.EqualError(t, err, `migrate: no .sql files in "nope" or its dialect directories`)
	_, err = migrate.Migrator(nil, "m").Hash()
	assert.EqualError(t, err, "migrate: the file system is nil")
	_, err = migrate.Migrator(fsys, "[").Hash()
	assert.ErrorContains(t, err, "migrate: syntax error in pattern")

	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			m := newManager(t, e.setup(t))
			_, db := pluginDB(t, m, "todo")
			require.NoError(t, migrate.Migrator(fsys, "m").Migrate(context.Background(), db, e.dialect))
			want := []int64{1, 2}
			if e.dialect == core.DialectPostgres {
				want = []int64{1} // m/postgres has only version 1
			}
			assert.Equal(t, want, appliedVersions(t, db, migrate.DefaultTable))
		})
	}

	m := newManager(t, map[string]any{})
	_, db := pluginDB(t, m, "todo")
	err = migrate.Migrator(fsys, "m").Migrate(context.Background(), db, "oracle")
	assert.EqualError(t, err, `migrate: unknown dialect "oracle"; use sqlite, postgres or mysql`)
}
