package database

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sync"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
)

// Manager hands out the plugins' databases and owns their pools: one per
// plugin, opened on first use. Close closes them all. A Manager is safe for
// concurrent use.
type Manager struct {
	cfg    core.Config
	base   settings
	logger core.Logger

	// ddl serializes the creation of databases and schemas: concurrent
	// CREATE DATABASE statements on one PostgreSQL server fail.
	ddl chan struct{}

	mu        sync.Mutex
	databases map[string]*Database
	closed    bool
}

// NewManager reads backend.database from cfg (see the package
// documentation) and returns the manager of the plugins' databases. It
// checks the configuration, including every per-plugin override, but does
// not connect. logger, which may be nil, reports the databases it creates.
func NewManager(cfg core.Config, logger core.Logger) (*Manager, error) {
	base, err := readBase(cfg)
	if err != nil {
		return nil, err
	}
	m := &Manager{cfg: cfg, base: base, logger: logger, ddl: make(chan struct{}, 1), databases: map[string]*Database{}}
	if plugins, ok, err := cfg.OptionalSub(baseKey + ".plugin"); err != nil {
		return nil, err
	} else if ok {
		for _, id := range plugins.Keys() {
			if _, err := base.forPlugin(cfg, id); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

var idPattern = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

// ForPlugin returns the database of the plugin pluginID, the same one on
// every call. Its pool is opened by the first call of DB.
func (m *Manager) ForPlugin(pluginID string) (*Database, error) {
	if !idPattern.MatchString(pluginID) {
		return nil, fmt.Errorf("database: invalid plugin id %q", pluginID)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, fmt.Errorf("database for plugin '%s': the database manager is closed; the backend is shutting down", pluginID)
	}
	if d, ok := m.databases[pluginID]; ok {
		return d, nil
	}
	s, err := m.base.forPlugin(m.cfg, pluginID)
	if err != nil {
		return nil, err
	}
	d := &Database{m: m, pluginID: pluginID, s: s, lock: make(chan struct{}, 1)}
	m.databases[pluginID] = d
	return d, nil
}

// Close closes every pool. Databases report an error from DB afterwards.
func (m *Manager) Close() error {
	m.mu.Lock()
	m.closed = true
	dbs := make([]*Database, 0, len(m.databases))
	for _, d := range m.databases {
		dbs = append(dbs, d)
	}
	m.mu.Unlock()
	var errs []error
	for _, d := range dbs {
		errs = append(errs, d.close())
	}
	return errors.Join(errs...)
}

func (m *Manager) logInfo(msg string, args ...any) {
	if m.logger != nil {
		m.logger.Info(msg, args...)
	}
}

func (m *Manager) isClosed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed
}

// acquire takes a one-slot semaphore, or gives up when ctx ends.
func acquire(ctx context.Context, sem chan struct{}) error {
	select {
	case sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Database is one plugin's database. It implements [core.Database].
type Database struct {
	m        *Manager
	pluginID string
	s        settings

	lock   chan struct{} // guards the fields below, and opening
	db     *sql.DB
	keeper *sql.Conn // holds an in-memory SQLite database open
	keepDB *sql.DB
	closed bool
}

var _ core.Database = (*Database)(nil)

// Dialect is the SQL dialect of the plugin's database.
func (d *Database) Dialect() core.Dialect { return d.s.dialect() }

// MigrationsSkipped reports whether backend.database.skipMigrations (or
// the plugin's override) is set.
func (d *Database) MigrationsSkipped() bool { return d.s.skipMigrations }

// Name is the name of the plugin's database: prefix + plugin id unless the
// plugin's own connection names one; in the schema division mode, the
// shared database. For SQLite it is prefix + plugin id, the name of the
// file without .sqlite (an in-memory database has no file, but the same
// name).
func (d *Database) Name() string { return d.s.databaseName(d.pluginID) }

// DB returns the plugin's pool, opening it on the first call: the database
// (or schema) is created when missing and ensureExists is on, and the
// connection is checked. A failed call is retried by the next one. Do not
// close the pool; the manager does.
func (d *Database) DB(ctx context.Context) (*sql.DB, error) {
	if err := acquire(ctx, d.lock); err != nil {
		return nil, fmt.Errorf("database for plugin '%s': %w", d.pluginID, err)
	}
	defer func() { <-d.lock }()
	if d.closed || d.m.isClosed() {
		return nil, fmt.Errorf("database for plugin '%s' is closed; the backend is shutting down", d.pluginID)
	}
	if d.db != nil {
		return d.db, nil
	}
	var err error
	switch d.s.client {
	case clientPostgres:
		err = d.openPostgres(ctx)
	case clientMySQL:
		err = d.openMySQL(ctx)
	default:
		err = d.openSQLite(ctx)
	}
	if err != nil {
		return nil, err
	}
	return d.db, nil
}

func (d *Database) close() error {
	d.lock <- struct{}{}
	defer func() { <-d.lock }()
	d.closed = true
	var errs []error
	if d.db != nil {
		errs = append(errs, d.db.Close())
		d.db = nil
	}
	if d.keeper != nil {
		errs = append(errs, d.keeper.Close(), d.keepDB.Close())
		d.keeper, d.keepDB = nil, nil
	}
	return errors.Join(errs...)
}

// connKey names the config key of the connection for error messages.
func (d *Database) connKey() string {
	if d.s.connKey != "" {
		return d.s.connKey
	}
	return baseKey + ".connection"
}

// ensureError is the error for a failed creation check, in the words of
// Backstage's message, with the fix.
func (d *Database) ensureError(what string, err error) error {
	return fmt.Errorf("plugin '%s': Failed to connect to the database to make sure that %s exists: %w; check %s, or create it yourself and set %s.ensureExists to false",
		d.pluginID, what, err, d.connKey(), baseKey)
}

func (d *Database) connectError(err error) error {
	return fmt.Errorf("plugin '%s': failed to connect to %s database '%s': %w; check %s",
		d.pluginID, d.s.client, d.Name(), err, d.connKey())
}

// configure applies the pool settings and checks the connection.
func (d *Database) configure(ctx context.Context, db *sql.DB, p poolSettings) error {
	db.SetMaxOpenConns(p.maxOpen)
	db.SetMaxIdleConns(p.maxIdle)
	db.SetConnMaxIdleTime(p.maxIdleTime)
	db.SetConnMaxLifetime(p.maxLifetime)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return d.connectError(err)
	}
	d.db = db
	return nil
}

func (d *Database) openPostgres(ctx context.Context) error {
	cc, err := postgresConfig(d.s.connection)
	if err != nil {
		return fmt.Errorf("config key %q: %w", d.connKey(), err)
	}
	if d.s.mode == modeSchema {
		// The schema is the plugin id; every connection searches it first.
		schema := pgx.Identifier{d.pluginID}.Sanitize()
		if d.s.ensureExists {
			if err := d.ensurePostgresSchema(ctx, cc.Copy(), schema); err != nil {
				return err
			}
		}
		cc.RuntimeParams["search_path"] = schema
	} else {
		admin := cc.Copy()
		if d.s.pluginConn || admin.Database == "" {
			admin.Database = "postgres"
		}
		cc.Database = d.Name()
		if d.s.ensureExists {
			if err := d.ensurePostgresDatabase(ctx, admin); err != nil {
				return err
			}
		}
	}
	if _, ok := cc.RuntimeParams["application_name"]; !ok {
		cc.RuntimeParams["application_name"] = "greenroom_plugin_" + d.pluginID
	}
	return d.configure(ctx, stdlib.OpenDB(*cc), d.s.pool)
}

// PostgreSQL error codes tolerated when another process creates the same
// database or schema at the same time.
const (
	pgDuplicateDatabase = "42P04"
	pgDuplicateSchema   = "42P06"
	pgUniqueViolation   = "23505"
)

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func (d *Database) ensurePostgresDatabase(ctx context.Context, admin *pgx.ConnConfig) error {
	name := d.Name()
	if err := acquire(ctx, d.m.ddl); err != nil {
		return d.ensureError("'"+name+"'", err)
	}
	defer func() { <-d.m.ddl }()
	conn, err := pgx.ConnectConfig(ctx, admin)
	if err != nil {
		return d.ensureError("'"+name+"'", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return d.ensureError("'"+name+"'", err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	switch pgCode(err) {
	case "":
		if err != nil {
			return d.ensureError("'"+name+"'", err)
		}
		d.m.logInfo("created database", "plugin", d.pluginID, "database", name)
	case pgDuplicateDatabase, pgUniqueViolation:
		// Created by someone else in the meantime.
	default:
		return d.ensureError("'"+name+"'", err)
	}
	return nil
}

func (d *Database) ensurePostgresSchema(ctx context.Context, cc *pgx.ConnConfig, schema string) error {
	what := fmt.Sprintf("schema for plugin '%s'", d.pluginID)
	if err := acquire(ctx, d.m.ddl); err != nil {
		return d.ensureError(what, err)
	}
	defer func() { <-d.m.ddl }()
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return d.ensureError(what, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+schema)
	switch pgCode(err) {
	case "":
		if err != nil {
			return d.ensureError(what, err)
		}
	case pgDuplicateSchema, pgUniqueViolation:
	default:
		return d.ensureError(what, err)
	}
	return nil
}

func (d *Database) openMySQL(ctx context.Context) error {
	mc, err := mysqlConfig(d.s.connection)
	if err != nil {
		return fmt.Errorf("config key %q: %w", d.connKey(), err)
	}
	name := d.Name()
	if d.s.ensureExists {
		admin := mc.Clone()
		admin.DBName = ""
		if err := d.ensureMySQLDatabase(ctx, admin, name); err != nil {
			return err
		}
	}
	mc.DBName = name
	connector, err := mysql.NewConnector(mc)
	if err != nil {
		return fmt.Errorf("config key %q: %w", d.connKey(), err)
	}
	return d.configure(ctx, sql.OpenDB(connector), d.s.pool)
}

func (d *Database) ensureMySQLDatabase(ctx context.Context, admin *mysql.Config, name string) error {
	what := "'" + name + "'"
	if err := acquire(ctx, d.m.ddl); err != nil {
		return d.ensureError(what, err)
	}
	defer func() { <-d.m.ddl }()
	connector, err := mysql.NewConnector(admin)
	if err != nil {
		return d.ensureError(what, err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	res, err := db.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS "+mysqlIdentifier(name))
	if err != nil {
		return d.ensureError(what, err)
	}
	if n, err := res.RowsAffected(); err == nil && n > 0 {
		d.m.logInfo("created database", "plugin", d.pluginID, "database", name)
	}
	return nil
}

// mysqlIdentifier quotes a MySQL identifier.
func mysqlIdentifier(name string) string {
	out := []byte{'`'}
	for i := 0; i < len(name); i++ {
		if name[i] == '`' {
			out = append(out, '`')
		}
		out = append(out, name[i])
	}
	return string(append(out, '`'))
}

// sqlitePragmas are run on every SQLite connection.
const sqlitePragmas = "_pragma=foreign_keys(1)&_pragma=busy_timeout(5000)"

func (d *Database) openSQLite(ctx context.Context) error {
	file := d.s.sqliteFile(d.pluginID)
	if file == "" {
		return d.openSQLiteMemory(ctx)
	}
	if err := os.MkdirAll(d.s.connection, 0o755); err != nil {
		return d.ensureError("'"+file+"'", err)
	}
	db, err := sql.Open("sqlite", file+"?"+sqlitePragmas+"&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		return d.connectError(err)
	}
	return d.configure(ctx, db, d.s.pool)
}

// openSQLiteMemory opens a private in-memory database: a shared-cache
// database whose name is unique to this plugin and manager, kept alive by a
// pinned connection of its own, since SQLite drops an in-memory database
// when its last connection closes. The pool holds a single connection, so
// that writers never meet SQLite's table locks of the shared cache.
func (d *Database) openSQLiteMemory(ctx context.Context) error {
	var b [8]byte
	_, _ = rand.Read(b[:])
	dsn := fmt.Sprintf("file:greenroom_%s_%s?mode=memory&cache=shared&%s", d.pluginID, hex.EncodeToString(b[:]), sqlitePragmas)
	keepDB, err := sql.Open("sqlite", dsn)
	if err != nil {
		return d.connectError(err)
	}
	keeper, err := keepDB.Conn(ctx)
	if err != nil {
		keepDB.Close()
		return d.connectError(err)
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		keeper.Close()
		keepDB.Close()
		return d.connectError(err)
	}
	if err := d.configure(ctx, db, poolSettings{maxOpen: 1, maxIdle: 1}); err != nil {
		keeper.Close()
		keepDB.Close()
		return err
	}
	d.keeper, d.keepDB = keeper, keepDB
	return nil
}

// Factory returns the factory of the core.database service. Its root
// context is a [Manager] built from the root config, whose pools are closed
// by a root lifecycle shutdown hook.
func Factory() *backend.ServiceFactory {
	return backend.NewPluginServiceFactoryWithContext(core.DatabaseRef,
		func(ctx context.Context, deps struct {
			Config    core.RootConfig
			Logger    core.RootLogger
			Lifecycle core.RootLifecycle
		}) (*Manager, error) {
			m, err := NewManager(deps.Config, deps.Logger)
			if err != nil {
				return nil, err
			}
			if err := deps.Lifecycle.AddShutdownHook(func(context.Context) error { return m.Close() }); err != nil {
				m.Close()
				return nil, err
			}
			return m, nil
		},
		func(ctx context.Context, m *Manager, deps struct {
			Plugin core.PluginMetadata
		}) (core.Database, error) {
			return m.ForPlugin(deps.Plugin.ID())
		})
}
