package database_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strconv"
	"testing"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver for the test's own admin connections
	"github.com/stretchr/testify/require"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/config"
	"github.com/greenroom-dev/greenroom/defaults/database"
)

const (
	postgresEnv = "GREENROOM_TEST_DATABASE_POSTGRES15_CONNECTION_STRING"
	mariaDBEnv  = "GREENROOM_TEST_DATABASE_MARIADB10_CONNECTION_STRING"
)

// serverURL returns the connection string in the environment variable, or
// skips the test; under CI=true a missing variable fails it instead.
func serverURL(t testing.TB, env string) string {
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

// testPrefix returns a database name prefix unique to this test.
func testPrefix(t testing.TB) string {
	t.Helper()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "greenroom_dbtest_" + hex.EncodeToString(b[:]) + "_"
}

// adminDB opens a connection to the server for the test itself.
func adminDB(t testing.TB, client, connection string) *sql.DB {
	t.Helper()
	var db *sql.DB
	var err error
	switch client {
	case "postgres":
		db, err = sql.Open("pgx", connection)
	case "mysql":
		u, perr := url.Parse(connection)
		require.NoError(t, perr)
		c := mysql.NewConfig()
		c.Net, c.Addr = "tcp", u.Host
		c.User = u.User.Username()
		c.Passwd, _ = u.User.Password()
		conn, cerr := mysql.NewConnector(c)
		require.NoError(t, cerr)
		db = sql.OpenDB(conn)
	}
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// dropDatabases drops, at the end of the test, every database whose name
// starts with prefix. Register it before anything that opens pools, so that
// it runs after they are closed.
func dropDatabases(t testing.TB, client, connection, prefix string) {
	t.Helper()
	admin := adminDB(t, client, connection)
	t.Cleanup(func() {
		ctx := context.Background()
		var q string
		switch client {
		case "postgres":
			q = "SELECT datname FROM pg_database WHERE starts_with(datname, $1)"
		case "mysql":
			q = "SELECT schema_name FROM information_schema.schemata WHERE LEFT(schema_name, CHAR_LENGTH(?)) = ?"
		}
		args := []any{prefix}
		if client == "mysql" {
			args = append(args, prefix)
		}
		rows, err := admin.QueryContext(ctx, q, args...)
		if err != nil {
			t.Errorf("listing test databases: %v", err)
			return
		}
		var names []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Error(err)
			}
			names = append(names, n)
		}
		rows.Close()
		for _, n := range names {
			var stmt string
			if client == "postgres" {
				stmt = `DROP DATABASE IF EXISTS "` + n + `" WITH (FORCE)`
			} else {
				stmt = "DROP DATABASE IF EXISTS `" + n + "`"
			}
			if _, err := admin.ExecContext(ctx, stmt); err != nil {
				t.Errorf("dropping test database %s: %v", n, err)
			}
		}
	})
}

// databaseExists asks the server whether a database exists.
func databaseExists(t testing.TB, client, connection, name string) bool {
	t.Helper()
	admin := adminDB(t, client, connection)
	var n int
	var err error
	switch client {
	case "postgres":
		err = admin.QueryRow("SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n)
	case "mysql":
		err = admin.QueryRow("SELECT count(*) FROM information_schema.schemata WHERE schema_name = ?", name).Scan(&n)
	}
	require.NoError(t, err)
	return n == 1
}

func newConfig(t testing.TB, data map[string]any) core.Config {
	t.Helper()
	c, err := config.FromMap(data)
	require.NoError(t, err)
	return c
}

// newManager builds a manager from backend.database settings and closes
// it at the end of the test.
func newManager(t testing.TB, db map[string]any) *database.Manager {
	t.Helper()
	m, err := database.NewManager(newConfig(t, map[string]any{"backend": map[string]any{"database": db}}), nil)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, m.Close()) })
	return m
}

// engine is a database server the tests run against.
type engine struct {
	name string
	// setup returns backend.database settings for the test, registering
	// the cleanup of what the test creates.
	setup   func(t testing.TB) map[string]any
	dialect core.Dialect
	// server is the client and connection URL for admin queries, "" for
	// SQLite.
	server func(t testing.TB) (client, connection string)
}

var engines = []engine{
	{
		name:    "sqlite-memory",
		setup:   func(t testing.TB) map[string]any { return map[string]any{} },
		dialect: core.DialectSQLite,
	},
	{
		name: "sqlite-directory",
		setup: func(t testing.TB) map[string]any {
			return map[string]any{"client": "sqlite", "connection": t.TempDir()}
		},
		dialect: core.DialectSQLite,
	},
	{
		name: "postgres",
		setup: func(t testing.TB) map[string]any {
			conn := serverURL(t, postgresEnv)
			prefix := testPrefix(t)
			dropDatabases(t, "postgres", conn, prefix)
			return map[string]any{"client": "pg", "connection": conn, "prefix": prefix}
		},
		dialect: core.DialectPostgres,
		server:  func(t testing.TB) (string, string) { return "postgres", serverURL(t, postgresEnv) },
	},
	{
		name: "mysql",
		setup: func(t testing.TB) map[string]any {
			conn := serverURL(t, mariaDBEnv)
			prefix := testPrefix(t)
			dropDatabases(t, "mysql", conn, prefix)
			return map[string]any{"client": "mysql", "connection": conn, "prefix": prefix}
		},
		dialect: core.DialectMySQL,
		server:  func(t testing.TB) (string, string) { return "mysql", serverURL(t, mariaDBEnv) },
	},
}

// createTable returns a CREATE TABLE statement in the engine's dialect.
func createTable(d core.Dialect, table string) string {
	id := "id INTEGER PRIMARY KEY"
	if d == core.DialectMySQL {
		id = "id INT PRIMARY KEY"
	}
	return "CREATE TABLE " + table + " (" + id + ", title VARCHAR(100) NOT NULL)"
}

func placeholder(d core.Dialect, n int) string {
	if d == core.DialectPostgres {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}
