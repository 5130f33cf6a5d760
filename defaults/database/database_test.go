package database_test

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/database"
)

func TestEngines(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			settings := e.setup(t)
			prefix, _ := settings["prefix"].(string)
			if prefix == "" {
				prefix = database.DefaultPrefix
			}
			m := newManager(t, settings)

			todo, err := m.ForPlugin("todo")
			require.NoError(t, err)
			assert.Equal(t, e.dialect, todo.Dialect())
			assert.False(t, todo.MigrationsSkipped())
			assert.Equal(t, prefix+"todo", todo.Name())
			again, err := m.ForPlugin("todo")
			require.NoError(t, err)
			assert.Same(t, todo, again, "one Database per plugin")

			db, err := todo.DB(ctx)
			require.NoError(t, err)
			db2, err := todo.DB(ctx)
			require.NoError(t, err)
			assert.Same(t, db, db2, "one pool per plugin")

			_, err = db.ExecContext(ctx, createTable(e.dialect, "todos"))
			require.NoError(t, err)
			_, err = db.ExecContext(ctx, "INSERT INTO todos (id, title) VALUES ("+placeholder(e.dialect, 1)+", "+placeholder(e.dialect, 2)+")", 1, "write tests")
			require.NoError(t, err)
			var title string
			require.NoError(t, db.QueryRowContext(ctx, "SELECT title FROM todos WHERE id = 1").Scan(&title))
			assert.Equal(t, "write tests", title)

			t.Run("plugins are isolated", func(t *testing.T) {
				other, err := m.ForPlugin("other")
				require.NoError(t, err)
				odb, err := other.DB(ctx)
				require.NoError(t, err)
				_, err = odb.ExecContext(ctx, "SELECT title FROM todos")
				assert.Error(t, err, "the other plugin must not see the todos table")
				_, err = odb.ExecContext(ctx, createTable(e.dialect, "todos"))
				require.NoError(t, err, "the other plugin can have its own todos table")
				var n int
				require.NoError(t, odb.QueryRowContext(ctx, "SELECT count(*) FROM todos").Scan(&n))
				assert.Equal(t, 0, n)
			})

			if e.server != nil {
				client, conn := e.server(t)
				assert.True(t, databaseExists(t, client, conn, prefix+"todo"), "the plugin's database exists on the server")
				assert.True(t, databaseExists(t, client, conn, prefix+"other"))
			}

			t.Run("concurrent first use", func(t *testing.T) {
				var wg sync.WaitGroup
				errs := make([]error, 6)
				for i := range errs {
					wg.Add(1)
					go func() {
						defer wg.Done()
						d, err := m.ForPlugin([]string{"p-one", "p-two", "p-three"}[i%3])
						if err == nil {
							var db any
							db, err = d.DB(ctx)
							_ = db
						}
						errs[i] = err
					}()
				}
				wg.Wait()
				for _, err := range errs {
					assert.NoError(t, err)
				}
			})

			require.NoError(t, m.Close())
			_, err = todo.DB(ctx)
			assert.EqualError(t, err, "database for plugin 'todo' is closed; the backend is shutting down")
			_, err = m.ForPlugin("new")
			assert.EqualError(t, err, "database for plugin 'new': the database manager is closed; the backend is shutting down")
			assert.NoError(t, m.Close(), "Close is idempotent")
		})
	}
}

func TestTwoManagersCreateTheSameDatabase(t *testing.T) {
	for _, e := range engines {
		if e.server == nil {
			continue
		}
		t.Run(e.name, func(t *testing.T) {
			settings := e.setup(t)
			m1, m2 := newManager(t, settings), newManager(t, settings)
			var wg sync.WaitGroup
			var err1, err2 error
			wg.Add(2)
			go func() { defer wg.Done(); err1 = use(m1, "shared") }()
			go func() { defer wg.Done(); err2 = use(m2, "shared") }()
			wg.Wait()
			require.NoError(t, err1)
			require.NoError(t, err2)
		})
	}
}

func use(m *database.Manager, pluginID string) error {
	d, err := m.ForPlugin(pluginID)
	if err != nil {
		return err
	}
	db, err := d.DB(context.Background())
	if err != nil {
		return err
	}
	return db.Ping()
}

func TestEnsureExistsOff(t *testing.T) {
	for _, e := range engines {
		if e.server == nil {
			continue
		}
		t.Run(e.name, func(t *testing.T) {
			settings := e.setup(t)
			settings["ensureExists"] = false
			m := newManager(t, settings)
			d, err := m.ForPlugin("todo")
			require.NoError(t, err)
			_, err = d.DB(context.Background())
			require.Error(t, err)
			assert.Contains(t, err.Error(), "plugin 'todo': failed to connect to "+e.server2client()+" database '"+settings["prefix"].(string)+"todo'")
			assert.Contains(t, err.Error(), "; check backend.database.connection")
		})
	}
}

func (e engine) server2client() string {
	if e.dialect == core.DialectMySQL {
		return "mysql"
	}
	return "postgres"
}

func TestUnreachableServer(t *testing.T) {
	tests := []struct {
		name, client, connection, want string
	}{
		{"postgres", "postgres", "postgres://nobody@127.0.0.1:1/postgres?connect_timeout=5", "plugin 'todo': Failed to connect to the database to make sure that 'greenroom_plugin_todo' exists: "},
		{"mysql", "mysql", "mysql://nobody@127.0.0.1:1/?timeout=5s", "plugin 'todo': Failed to connect to the database to make sure that 'greenroom_plugin_todo' exists: "},
		{"postgres schema", "postgres", "postgres://nobody@127.0.0.1:1/postgres?connect_timeout=5", "plugin 'todo': Failed to connect to the database to make sure that schema for plugin 'todo' exists: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			settings := map[string]any{"client": tt.client, "connection": tt.connection}
			if tt.name == "postgres schema" {
				settings["pluginDivisionMode"] = "schema"
			}
			m := newManager(t, settings)
			d, err := m.ForPlugin("todo")
			require.NoError(t, err)
			_, err = d.DB(context.Background())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "; check backend.database.connection, or create it yourself and set backend.database.ensureExists to false")
		})
	}
}

func TestCanceledContext(t *testing.T) {
	m := newManager(t, map[string]any{})
	d, err := m.ForPlugin("todo")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = d.DB(ctx)
	assert.True(t, errors.Is(err, context.Canceled), "got %v", err)
	// The failure is not cached.
	_, err = d.DB(context.Background())
	assert.NoError(t, err)
}

func TestPostgresSchemaMode(t *testing.T) {
	ctx := context.Background()
	conn := serverURL(t, postgresEnv)
	prefix := testPrefix(t)
	dropDatabases(t, "postgres", conn, prefix)
	// The plugins share one database: a fresh one, dropped at the end.
	admin := adminDB(t, "postgres", conn)
	shared := prefix + "shared"
	_, err := admin.ExecContext(ctx, `CREATE DATABASE "`+shared+`"`)
	require.NoError(t, err)
	sharedURL := replaceDatabase(t, conn, shared)

	m := newManager(t, map[string]any{"client": "postgres", "connection": sharedURL, "pluginDivisionMode": "schema", "prefix": prefix})
	todo, err := m.ForPlugin("todo-list")
	require.NoError(t, err)
	assert.Equal(t, shared, todo.Name())
	tdb, err := todo.DB(ctx)
	require.NoError(t, err)
	var schema string
	require.NoError(t, tdb.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema))
	assert.Equal(t, "todo-list", schema)
	_, err = tdb.ExecContext(ctx, createTable(core.DialectPostgres, "todos"))
	require.NoError(t, err)

	other, err := m.ForPlugin("other")
	require.NoError(t, err)
	odb, err := other.DB(ctx)
	require.NoError(t, err)
	_, err = odb.ExecContext(ctx, "SELECT * FROM todos")
	assert.Error(t, err, "the other plugin's search_path does not include todo-list")
	var n int
	require.NoError(t, odb.QueryRowContext(ctx,
		"SELECT count(*) FROM information_schema.tables WHERE table_schema = 'todo-list' AND table_name = 'todos'").Scan(&n))
	assert.Equal(t, 1, n, "both plugins live in the shared database")
	assert.False(t, databaseExists(t, "postgres", conn, prefix+"todo-list"), "schema mode creates no database")

	// Concurrent first use of several plugins creates every schema.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = use(m, []string{"a", "b", "c", "d"}[i]) }()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
}

func replaceDatabase(t *testing.T, connection, db string) string {
	t.Helper()
	u, err := url.Parse(connection)
	require.NoError(t, err)
	u.Path = "/" + db
	return u.String()
}

func TestPerPluginOverrides(t *testing.T) {
	ctx := context.Background()

	t.Run("another client drops the base connection", func(t *testing.T) {
		conn := serverURL(t, postgresEnv)
		prefix := testPrefix(t)
		dropDatabases(t, "postgres", conn, prefix)
		m := newManager(t, map[string]any{
			"client": "postgres", "connection": conn, "prefix": prefix,
			"plugin": map[string]any{
				"local":   map[string]any{"client": "sqlite"},
				"skipper": map[string]any{"skipMigrations": true, "pool": map[string]any{"maxOpenConns": 2}},
			},
		})
		local, err := m.ForPlugin("local")
		require.NoError(t, err)
		assert.Equal(t, core.DialectSQLite, local.Dialect())
		ldb, err := local.DB(ctx)
		require.NoError(t, err)
		require.NoError(t, ldb.PingContext(ctx))
		assert.False(t, databaseExists(t, "postgres", conn, prefix+"local"))

		skipper, err := m.ForPlugin("skipper")
		require.NoError(t, err)
		assert.True(t, skipper.MigrationsSkipped())
		sdb, err := skipper.DB(ctx)
		require.NoError(t, err)
		assert.Equal(t, 2, sdb.Stats().MaxOpenConnections)
		assert.Equal(t, core.DialectPostgres, skipper.Dialect())

		todo, err := m.ForPlugin("todo")
		require.NoError(t, err)
		assert.False(t, todo.MigrationsSkipped())
		tdb, err := todo.DB(ctx)
		require.NoError(t, err)
		assert.Equal(t, 5, tdb.Stats().MaxOpenConnections, "the default pool size")
	})

	t.Run("a plugin connection that names a database uses it", func(t *testing.T) {
		conn := serverURL(t, mariaDBEnv)
		prefix := testPrefix(t)
		dropDatabases(t, "mysql", conn, prefix)
		own := prefix + "own_name"
		m := newManager(t, map[string]any{
			"client": "sqlite",
			"prefix": prefix,
			"plugin": map[string]any{
				"catalog": map[string]any{"connection": replaceDatabase(t, conn, own)},
			},
		})
		catalog, err := m.ForPlugin("catalog")
		require.NoError(t, err)
		assert.Equal(t, core.DialectMySQL, catalog.Dialect(), "the client is inferred from the plugin's URL")
		assert.Equal(t, own, catalog.Name())
		db, err := catalog.DB(ctx)
		require.NoError(t, err)
		var name string
		require.NoError(t, db.QueryRowContext(ctx, "SELECT DATABASE()").Scan(&name))
		assert.Equal(t, own, name)
		assert.True(t, databaseExists(t, "mysql", conn, own))

		other, err := m.ForPlugin("other")
		require.NoError(t, err)
		assert.Equal(t, core.DialectSQLite, other.Dialect())
	})

	t.Run("skipMigrations for every plugin", func(t *testing.T) {
		m := newManager(t, map[string]any{"skipMigrations": true, "plugin": map[string]any{"todo": map[string]any{"skipMigrations": false}}})
		a, err := m.ForPlugin("a")
		require.NoError(t, err)
		assert.True(t, a.MigrationsSkipped())
		todo, err := m.ForPlugin("todo")
		require.NoError(t, err)
		assert.False(t, todo.MigrationsSkipped())
	})
}

func TestSQLiteMemory(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, map[string]any{"pool": map[string]any{"maxOpenConns": 10}})
	d, err := m.ForPlugin("todo")
	require.NoError(t, err)
	db, err := d.DB(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, db.Stats().MaxOpenConnections, "an in-memory database has one pooled connection")

	var fk int
	require.NoError(t, db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk))
	assert.Equal(t, 1, fk)
	var timeout int
	require.NoError(t, db.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&timeout))
	assert.Equal(t, 5000, timeout)

	_, err = db.ExecContext(ctx, "CREATE TABLE parents (id INTEGER PRIMARY KEY)")
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, "CREATE TABLE children (id INTEGER PRIMARY KEY, parent INTEGER NOT NULL REFERENCES parents(id))")
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, "INSERT INTO children (id, parent) VALUES (1, 42)")
	assert.ErrorContains(t, err, "FOREIGN KEY constraint failed")

	// The database survives its pooled connection being closed.
	db.SetMaxIdleConns(0)
	db.SetMaxIdleConns(1)
	var n int
	require.NoError(t, db.QueryRowContext(ctx, "SELECT count(*) FROM parents").Scan(&n))
	assert.Equal(t, 0, n)

	// Another manager's plugin of the same id has its own database.
	m2 := newManager(t, map[string]any{})
	d2, err := m2.ForPlugin("todo")
	require.NoError(t, err)
	db2, err := d2.DB(ctx)
	require.NoError(t, err)
	_, err = db2.ExecContext(ctx, "SELECT * FROM parents")
	assert.Error(t, err)
}

func TestSQLiteDirectory(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	m := newManager(t, map[string]any{"connection": dir, "pool": map[string]any{"maxOpenConns": 3, "maxIdleConns": 1, "connMaxIdleTime": "1m", "connMaxLifetime": 3600}})
	d, err := m.ForPlugin("todo")
	require.NoError(t, err)
	assert.Equal(t, core.DialectSQLite, d.Dialect(), "a connection without a URL scheme is a SQLite directory")
	db, err := d.DB(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, db.Stats().MaxOpenConnections)
	_, err = db.ExecContext(ctx, "CREATE TABLE t (id INTEGER PRIMARY KEY)")
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(dir, "greenroom_plugin_todo.sqlite"))
	require.NoError(t, err, "the database file is <directory>/<prefix><pluginId>.sqlite")
	var mode string
	require.NoError(t, db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode))
	assert.Equal(t, "wal", mode)
	var fk int
	require.NoError(t, db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk))
	assert.Equal(t, 1, fk)

	// Concurrent writers wait for each other instead of failing.
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tx, err := db.BeginTx(ctx, nil)
			if err == nil {
				_, err = tx.ExecContext(ctx, "INSERT INTO t (id) VALUES (?)", i)
				if err == nil {
					err = tx.Commit()
				} else {
					tx.Rollback()
				}
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		assert.NoError(t, err)
	}

	t.Run("a file is not a directory", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "x.sqlite")
		require.NoError(t, os.WriteFile(file, nil, 0o600))
		_, err := database.NewManager(newConfig(t, map[string]any{"backend": map[string]any{"database": map[string]any{"connection": file}}}), nil)
		assert.ErrorContains(t, err, `config key "backend.database.connection": "`+file+`" is a file; give the directory that holds one database file per plugin, or :memory:`)
	})

	t.Run("an uncreatable directory", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "file")
		require.NoError(t, os.WriteFile(file, nil, 0o600))
		m := newManager(t, map[string]any{"client": "sqlite", "plugin": map[string]any{"todo": map[string]any{"connection": filepath.Join(file, "sub")}}})
		d, err := m.ForPlugin("todo")
		require.NoError(t, err)
		_, err = d.DB(ctx)
		assert.ErrorContains(t, err, "plugin 'todo': Failed to connect to the database to make sure that '"+filepath.Join(file, "sub", "greenroom_plugin_todo.sqlite")+"' exists")
		assert.ErrorContains(t, err, "check backend.database.plugin.todo.connection")
	})
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name    string
		db      map[string]any
		wantErr string
	}{
		{"unsupported client", map[string]any{"client": "oracle"},
			`config key "backend.database.client": unsupported database client type 'oracle'; use sqlite, postgres or mysql`},
		{"unsupported plugin client", map[string]any{"plugin": map[string]any{"todo": map[string]any{"client": "oracle"}}},
			`config key "backend.database.plugin.todo.client": unsupported database client type 'oracle' specified for plugin 'todo'; use sqlite, postgres or mysql`},
		{"schema mode with mysql", map[string]any{"client": "mysql", "connection": "mysql://root@h/", "pluginDivisionMode": "schema"},
			`config key "backend.database.pluginDivisionMode": the mysql client does not support plugin division mode 'schema', only PostgreSQL does; use 'database'`},
		{"schema mode with sqlite", map[string]any{"pluginDivisionMode": "schema"},
			`config key "backend.database.pluginDivisionMode": the sqlite client does not support plugin division mode 'schema'`},
		{"schema mode with a sqlite plugin", map[string]any{"client": "pg", "connection": "postgres://h/db", "pluginDivisionMode": "schema", "plugin": map[string]any{"todo": map[string]any{"client": "sqlite"}}},
			`plugin 'todo' uses the sqlite client (backend.database.plugin.todo.client), which does not support plugin division mode 'schema' (backend.database.pluginDivisionMode); use postgres for this plugin`},
		{"unknown division mode", map[string]any{"pluginDivisionMode": "table"},
			`config key "backend.database.pluginDivisionMode": unknown plugin division mode 'table'; use 'database' or 'schema'`},
		{"postgres without connection", map[string]any{"client": "postgres"},
			`config key "backend.database.connection" is missing: the postgres client needs a URL such as postgres://user:password@host:5432/postgres`},
		{"mysql plugin without connection", map[string]any{"plugin": map[string]any{"todo": map[string]any{"client": "mysql"}}},
			`config key "backend.database.connection" is missing (for plugin 'todo'): the mysql client needs a URL such as mysql://user:password@host:3306/`},
		{"postgres with a mysql URL", map[string]any{"client": "postgres", "connection": "mysql://h/"},
			`config key "backend.database.connection": expected a URL such as postgres://user:password@host:5432/postgres`},
		{"bad postgres URL", map[string]any{"client": "postgres", "connection": "postgres://h:notaport/db"},
			`config key "backend.database.connection": cannot parse`},
		{"mysql without host", map[string]any{"client": "mysql", "connection": "mysql:///db"},
			`config key "backend.database.connection": expected a URL such as mysql://user:password@host:3306/`},
		{"bad mysql parameter", map[string]any{"client": "mysql", "connection": "mysql://h/?timeout=forever"},
			`config key "backend.database.connection": time: invalid duration "forever"`},
		{"unknown URL scheme", map[string]any{"connection": "oracle://h/db"},
			`config key "backend.database.connection": cannot tell the database client from the connection URL; set backend.database.client to sqlite, postgres or mysql`},
		{"connection of the wrong type", map[string]any{"connection": map[string]any{"host": "h"}},
			`config key "backend.database.connection": expected a string, got object`},
		{"client of the wrong type", map[string]any{"client": 1},
			`config key "backend.database.client": expected a string, got number 1`},
		{"prefix of the wrong type", map[string]any{"prefix": 1},
			`config key "backend.database.prefix": expected a string, got number 1`},
		{"mode of the wrong type", map[string]any{"pluginDivisionMode": true},
			`config key "backend.database.pluginDivisionMode": expected a string, got boolean true`},
		{"ensureExists of the wrong type", map[string]any{"ensureExists": "maybe"},
			`config key "backend.database.ensureExists": expected a boolean, got string "maybe"`},
		{"skipMigrations of the wrong type", map[string]any{"plugin": map[string]any{"todo": map[string]any{"skipMigrations": 1}}},
			`config key "backend.database.plugin.todo.skipMigrations": expected a boolean, got number 1`},
		{"pool too small", map[string]any{"pool": map[string]any{"maxOpenConns": 0}},
			`config key "backend.database.pool.maxOpenConns": 0 is too small; use 1 or more`},
		{"pool of the wrong type", map[string]any{"pool": map[string]any{"maxIdleConns": "many"}},
			`config key "backend.database.pool.maxIdleConns": expected a number, got string "many"`},
		{"negative duration", map[string]any{"pool": map[string]any{"connMaxLifetime": "-1s"}},
			`config key "backend.database.pool.connMaxLifetime": a negative duration; use 0 for no limit`},
		{"bad duration", map[string]any{"pool": map[string]any{"connMaxIdleTime": "soon"}},
			`config key "backend.database.pool.connMaxIdleTime": expected a duration`},
		{"prefix too long", map[string]any{"client": "postgres", "connection": "postgres://h/db", "prefix": "a_very_long_prefix_that_goes_on_and_on_and_on_and_on_and_on_", "plugin": map[string]any{"scaffolder": map[string]any{}}},
			`plugin 'scaffolder': the database name 'a_very_long_prefix_that_goes_on_and_on_and_on_and_on_and_on_scaffolder' is longer than the server allows (63 bytes); shorten config key "backend.database.prefix"`},
		{"database of the wrong type", nil, `config key "backend.database": expected an object, got string "sqlite"`},
		{"plugin section of the wrong type", map[string]any{"plugin": []any{"todo"}}, `config key "backend.database.plugin": expected an object, got list`},
		{"plugin of the wrong type", map[string]any{"plugin": map[string]any{"todo": "sqlite"}}, `config key "backend.database.plugin.todo": expected an object, got string "sqlite"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := map[string]any{"backend": map[string]any{"database": tt.db}}
			if tt.db == nil {
				data = map[string]any{"backend": map[string]any{"database": "sqlite"}}
			}
			_, err := database.NewManager(newConfig(t, data), nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}

	t.Run("invalid plugin id", func(t *testing.T) {
		m := newManager(t, map[string]any{})
		_, err := m.ForPlugin("Not/An/ID")
		assert.EqualError(t, err, `database: invalid plugin id "Not/An/ID"`)
	})

	t.Run("plugin errors are reported again by ForPlugin", func(t *testing.T) {
		// NewManager checks the plugins listed in the config; ForPlugin
		// reports errors of plugins it learns about later the same way.
		m, err := database.NewManager(newConfig(t, map[string]any{"backend": map[string]any{"database": map[string]any{"client": "postgres", "connection": "postgres://h/db", "prefix": "a_very_long_prefix_that_goes_on_and_on_and_on_and_on_and_on_"}}}), nil)
		require.NoError(t, err)
		t.Cleanup(func() { m.Close() })
		_, err = m.ForPlugin("scaffolder")
		assert.ErrorContains(t, err, "plugin 'scaffolder': the database name")
	})
}

func TestNothingConfigured(t *testing.T) {
	m, err := database.NewManager(newConfig(t, map[string]any{}), nil)
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	d, err := m.ForPlugin("todo")
	require.NoError(t, err)
	assert.Equal(t, core.DialectSQLite, d.Dialect())
	db, err := d.DB(context.Background())
	require.NoError(t, err)
	require.NoError(t, db.Ping())
}
