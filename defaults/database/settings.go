package database

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/greenroom-dev/greenroom/core"
)

const (
	clientSQLite   = "sqlite"
	clientPostgres = "postgres"
	clientMySQL    = "mysql"

	modeDatabase = "database"
	modeSchema   = "schema"

	// DefaultPrefix starts the name of every plugin's database.
	DefaultPrefix = "greenroom_plugin_"

	baseKey = "backend.database"
)

// settings is the configuration of one plugin's database, or the base
// configuration before a plugin is known.
type settings struct {
	client    string // clientSQLite, clientPostgres or clientMySQL
	clientKey string // the config key the client came from, for errors
	// connection is the URL (or SQLite directory or ":memory:"); "" is the
	// client's default.
	connection string
	connKey    string // the config key the connection came from
	// pluginConn reports that connection was given for the plugin itself.
	pluginConn     bool
	prefix         string
	mode           string
	ensureExists   bool
	skipMigrations bool
	pool           poolSettings
}

type poolSettings struct {
	maxOpen, maxIdle         int
	maxIdleTime, maxLifetime time.Duration
}

// canonicalClient maps the accepted client names to the three clients.
func canonicalClient(name string) (string, bool) {
	switch strings.ToLower(name) {
	case "sqlite", "sqlite3", "better-sqlite3":
		return clientSQLite, true
	case "postgres", "postgresql", "pg":
		return clientPostgres, true
	case "mysql", "mysql2", "mariadb":
		return clientMySQL, true
	}
	return "", false
}

// inferClient guesses the client from a connection URL.
func inferClient(connection string) (string, bool) {
	scheme, _, ok := strings.Cut(connection, "://")
	if !ok {
		return clientSQLite, true
	}
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		return clientPostgres, true
	case "mysql":
		return clientMySQL, true
	}
	return "", false
}

// readBase reads backend.database.
func readBase(cfg core.Config) (settings, error) {
	s := settings{
		client:       clientSQLite,
		prefix:       DefaultPrefix,
		mode:         modeDatabase,
		ensureExists: true,
		pool:         poolSettings{maxOpen: 5, maxIdle: 2, maxIdleTime: 5 * time.Minute},
	}
	db, ok, err := cfg.OptionalSub(baseKey)
	if err != nil || !ok {
		return s, err
	}
	if err := s.read(db, baseKey, ""); err != nil {
		return s, err
	}
	if p, ok, err := db.OptionalString("prefix"); err != nil {
		return s, err
	} else if ok {
		s.prefix = p
	}
	if m, ok, err := db.OptionalString("pluginDivisionMode"); err != nil {
		return s, err
	} else if ok {
		if m != modeDatabase && m != modeSchema {
			return s, fmt.Errorf("config key %q: unknown plugin division mode '%s'; use 'database' or 'schema'", baseKey+".pluginDivisionMode", m)
		}
		s.mode = m
	}
	if s.mode == modeSchema && s.client != clientPostgres {
		return s, fmt.Errorf("config key %q: the %s client does not support plugin division mode 'schema', only PostgreSQL does; use 'database'", baseKey+".pluginDivisionMode", s.client)
	}
	return s, s.validate("")
}

// read applies the keys that both backend.database and
// backend.database.plugin.<id> may set. pluginID is "" for the base.
func (s *settings) read(c core.Config, key, pluginID string) error {
	clientName, hasClient, err := c.OptionalString("client")
	if err != nil {
		return err
	}
	conn, hasConn, err := c.OptionalString("connection")
	if err != nil {
		return err
	}
	switch {
	case hasClient:
		client, ok := canonicalClient(clientName)
		if !ok {
			return unsupportedClient(key+".client", clientName, pluginID)
		}
		if client != s.client {
			// Like Backstage: another client drops the base connection.
			s.connection, s.connKey = "", ""
		}
		s.client, s.clientKey = client, key+".client"
	case hasConn:
		client, ok := inferClient(conn)
		if !ok {
			return fmt.Errorf("config key %q: cannot tell the database client from the connection URL; set %s to sqlite, postgres or mysql", key+".connection", key+".client")
		}
		if client != s.client {
			s.connection, s.connKey = "", ""
		}
		s.client, s.clientKey = client, key+".connection"
	}
	if hasConn {
		s.connection, s.connKey, s.pluginConn = conn, key+".connection", pluginID != ""
	}
	if v, ok, err := c.OptionalBool("ensureExists"); err != nil {
		return err
	} else if ok {
		s.ensureExists = v
	}
	if v, ok, err := c.OptionalBool("skipMigrations"); err != nil {
		return err
	} else if ok {
		s.skipMigrations = v
	}
	for _, f := range []struct {
		name string
		dst  *int
	}{{"pool.maxOpenConns", &s.pool.maxOpen}, {"pool.maxIdleConns", &s.pool.maxIdle}} {
		if v, ok, err := c.OptionalInt(f.name); err != nil {
			return err
		} else if ok {
			if v < 1 {
				return fmt.Errorf("config key %q: %d is too small; use 1 or more", key+"."+f.name, v)
			}
			*f.dst = v
		}
	}
	for _, f := range []struct {
		name string
		dst  *time.Duration
	}{{"pool.connMaxIdleTime", &s.pool.maxIdleTime}, {"pool.connMaxLifetime", &s.pool.maxLifetime}} {
		if v, ok, err := c.OptionalDuration(f.name); err != nil {
			return err
		} else if ok {
			if v < 0 {
				return fmt.Errorf("config key %q: a negative duration; use 0 for no limit", key+"."+f.name)
			}
			*f.dst = v
		}
	}
	return nil
}

func unsupportedClient(key, client, pluginID string) error {
	if pluginID == "" {
		return fmt.Errorf("config key %q: unsupported database client type '%s'; use sqlite, postgres or mysql", key, client)
	}
	return fmt.Errorf("config key %q: unsupported database client type '%s' specified for plugin '%s'; use sqlite, postgres or mysql", key, client, pluginID)
}

// forPlugin returns the settings of one plugin: the base with the
// overrides of backend.database.plugin.<pluginID>.
func (s settings) forPlugin(cfg core.Config, pluginID string) (settings, error) {
	key := baseKey + ".plugin." + pluginID
	o, ok, err := cfg.OptionalSub(key)
	if err != nil {
		return s, err
	}
	if ok {
		if err := s.read(o, key, pluginID); err != nil {
			return s, err
		}
	}
	if s.mode == modeSchema && s.client != clientPostgres {
		return s, fmt.Errorf("plugin '%s' uses the %s client (%s), which does not support plugin division mode 'schema' (%s); use postgres for this plugin", pluginID, s.client, s.clientKey, baseKey+".pluginDivisionMode")
	}
	if err := s.validate(pluginID); err != nil {
		return s, err
	}
	if name := s.databaseName(pluginID); (s.client == clientPostgres && len(name) > 63) || (s.client == clientMySQL && len(name) > 64) {
		return s, fmt.Errorf("plugin '%s': the database name '%s' is longer than the server allows (%d bytes); shorten config key %q", pluginID, name, map[string]int{clientPostgres: 63, clientMySQL: 64}[s.client], baseKey+".prefix")
	}
	return s, nil
}

// validate checks that the connection suits the client.
func (s settings) validate(pluginID string) error {
	forPlugin := ""
	if pluginID != "" {
		forPlugin = fmt.Sprintf(" (for plugin '%s')", pluginID)
	}
	connKey := s.connKey
	if connKey == "" {
		connKey = baseKey + ".connection"
	}
	switch s.client {
	case clientPostgres:
		if s.connection == "" {
			return fmt.Errorf("config key %q is missing%s: the postgres client needs a URL such as postgres://user:password@host:5432/postgres", connKey, forPlugin)
		}
		if _, err := postgresConfig(s.connection); err != nil {
			return fmt.Errorf("config key %q%s: %w", connKey, forPlugin, err)
		}
	case clientMySQL:
		if s.connection == "" {
			return fmt.Errorf("config key %q is missing%s: the mysql client needs a URL such as mysql://user:password@host:3306/", connKey, forPlugin)
		}
		if _, err := mysqlConfig(s.connection); err != nil {
			return fmt.Errorf("config key %q%s: %w", connKey, forPlugin, err)
		}
	case clientSQLite:
		if s.connection != "" && s.connection != ":memory:" {
			if fi, err := os.Stat(s.connection); err == nil && !fi.IsDir() {
				return fmt.Errorf("config key %q%s: %q is a file; give the directory that holds one database file per plugin, or :memory:", connKey, forPlugin, s.connection)
			}
		}
	}
	return nil
}

// urlDatabase returns the database named in the path of a connection URL.
func urlDatabase(connection string) string {
	u, err := url.Parse(connection)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Path, "/")
}

// databaseName is the name of the plugin's database: the one its own
// connection names, else prefix + plugin id. In the schema division mode it
// is the shared database of the connection URL.
func (s settings) databaseName(pluginID string) string {
	switch s.client {
	case clientSQLite:
		return s.prefix + pluginID
	}
	if s.mode == modeSchema {
		return urlDatabase(s.connection)
	}
	if s.pluginConn {
		if db := urlDatabase(s.connection); db != "" {
			return db
		}
	}
	return s.prefix + pluginID
}

// sqliteFile is the file of the plugin's SQLite database, or "" in memory.
func (s settings) sqliteFile(pluginID string) string {
	if s.connection == "" || s.connection == ":memory:" {
		return ""
	}
	return filepath.Join(s.connection, s.prefix+pluginID+".sqlite")
}

func (s settings) dialect() core.Dialect {
	switch s.client {
	case clientPostgres:
		return core.DialectPostgres
	case clientMySQL:
		return core.DialectMySQL
	}
	return core.DialectSQLite
}

// postgresConfig parses a PostgreSQL connection URL.
func postgresConfig(connection string) (*pgx.ConnConfig, error) {
	scheme, _, _ := strings.Cut(connection, "://")
	if scheme != "postgres" && scheme != "postgresql" {
		return nil, fmt.Errorf("expected a URL such as postgres://user:password@host:5432/postgres")
	}
	cc, err := pgx.ParseConfig(connection)
	if err != nil {
		return nil, err
	}
	return cc, nil
}

// mysqlConfig converts mysql://user:password@host:port/database?params to
// the driver's configuration. The driver's DSN syntax is not a URL, so the
// URL is taken apart here; its query parameters are validated by the driver.
func mysqlConfig(connection string) (*mysql.Config, error) {
	u, err := url.Parse(connection)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "mysql" || u.Host == "" {
		return nil, fmt.Errorf("expected a URL such as mysql://user:password@host:3306/")
	}
	c := mysql.NewConfig()
	if u.RawQuery != "" {
		params, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			return nil, err
		}
		// The driver's own parser applies and checks the parameters; the
		// address and credentials are set below, so that a password with
		// "@" or "/" needs no DSN escaping.
		if c, err = mysql.ParseDSN("/?" + params.Encode()); err != nil {
			return nil, err
		}
		if !params.Has("parseTime") {
			c.ParseTime = true
		}
	} else {
		c.ParseTime = true
	}
	c.Net = "tcp"
	c.Addr = u.Host
	if u.Port() == "" {
		c.Addr = u.Host + ":3306"
	}
	c.DBName = strings.TrimPrefix(u.Path, "/")
	c.User, c.Passwd = "", ""
	if u.User != nil {
		c.User = u.User.Username()
		c.Passwd, _ = u.User.Password()
	}
	return c, nil
}
