package database

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMySQLConfig(t *testing.T) {
	tests := []struct {
		url                          string
		user, passwd, addr, database string
		parseTime                    bool
		timeout                      time.Duration
	}{
		{"mysql://root@127.0.0.1:3306/test", "root", "", "127.0.0.1:3306", "test", true, 0},
		{"mysql://db", "", "", "db:3306", "", true, 0},
		{"mysql://u:p%40ss%2Fw0rd%3F@db:3307/", "u", "p@ss/w0rd?", "db:3307", "", true, 0},
		{"mysql://u@db/x?parseTime=false&timeout=5s", "u", "", "db:3306", "x", false, 5 * time.Second},
		{"mysql://u@[::1]:3306/x", "u", "", "[::1]:3306", "x", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			c, err := mysqlConfig(tt.url)
			require.NoError(t, err)
			assert.Equal(t, "tcp", c.Net)
			assert.Equal(t, tt.user, c.User)
			assert.Equal(t, tt.passwd, c.Passwd)
			assert.Equal(t, tt.addr, c.Addr)
			assert.Equal(t, tt.database, c.DBName)
			assert.Equal(t, tt.parseTime, c.ParseTime)
			assert.Equal(t, tt.timeout, c.Timeout)
		})
	}
	for _, bad := range []string{"mysql://u@db/x?tls=nope", "mysql://u@db/x?%zz", "mysql://%zz", "postgres://db/x"} {
		_, err := mysqlConfig(bad)
		assert.Error(t, err, bad)
	}
}

func TestMySQLIdentifier(t *testing.T) {
	assert.Equal(t, "`greenroom_plugin_todo-list`", mysqlIdentifier("greenroom_plugin_todo-list"))
	assert.Equal(t, "`a``b`", mysqlIdentifier("a`b"))
}

func TestDatabaseName(t *testing.T) {
	tests := []struct {
		name string
		s    settings
		want string
	}{
		{"prefix and id", settings{client: clientPostgres, connection: "postgres://h/base", prefix: "p_", mode: modeDatabase}, "p_todo"},
		{"plugin URL names a database", settings{client: clientPostgres, connection: "postgres://h/own", prefix: "p_", mode: modeDatabase, pluginConn: true}, "own"},
		{"plugin URL without a database", settings{client: clientMySQL, connection: "mysql://h/", prefix: "p_", mode: modeDatabase, pluginConn: true}, "p_todo"},
		{"schema mode shares the URL's database", settings{client: clientPostgres, connection: "postgres://h/shared", prefix: "p_", mode: modeSchema}, "shared"},
		{"sqlite", settings{client: clientSQLite, prefix: "p_"}, "p_todo"},
		{"unparsable URL", settings{client: clientPostgres, connection: "postgres://%zz/own", prefix: "p_", pluginConn: true}, "p_todo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.s.databaseName("todo"))
		})
	}
}

func TestInferClient(t *testing.T) {
	for conn, want := range map[string]string{
		"postgres://h/db":   clientPostgres,
		"PostgreSQL://h/db": clientPostgres,
		"mysql://h/db":      clientMySQL,
		":memory:":          clientSQLite,
		"/var/lib/data":     clientSQLite,
	} {
		got, ok := inferClient(conn)
		assert.True(t, ok, conn)
		assert.Equal(t, want, got, conn)
	}
	_, ok := inferClient("oracle://h/db")
	assert.False(t, ok)
}
