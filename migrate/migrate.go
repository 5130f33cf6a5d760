package migrate

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/internal/dbtemplate"
)

// DefaultTable is the table that records applied migrations unless [Table]
// names another.
const DefaultTable = "greenroom_migrations"

// dialects are the dialects and their goose names.
var dialects = map[string]goose.Dialect{
	string(core.DialectSQLite):   goose.DialectSQLite3,
	string(core.DialectPostgres): goose.DialectPostgres,
	string(core.DialectMySQL):    goose.DialectMySQL,
}

// Option configures [Up] and [Migrator].
type Option func(*options)

type options struct {
	dir    string
	table  string
	logger core.Logger
}

// Dir names the directory of fsys that holds the migrations (and the
// per-dialect directories). The default is ".", the root of fsys.
func Dir(dir string) Option { return func(o *options) { o.dir = dir } }

// Table names the table that records applied migrations, instead of
// [DefaultTable]. Subsystems that keep their own migrations in a plugin's
// database use a table of their own.
func Table(name string) Option { return func(o *options) { o.table = name } }

// Logger logs each applied migration at info level.
func Logger(l core.Logger) Option { return func(o *options) { o.logger = l } }

func newOptions(opts []Option) options {
	o := options{dir: ".", table: DefaultTable}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// Up applies the migrations in fsys that the database has not applied yet,
// in version order. It does nothing when db.MigrationsSkipped(). Errors name
// the migration file.
func Up(ctx context.Context, db core.Database, fsys fs.FS, opts ...Option) error {
	if db.MigrationsSkipped() {
		return nil
	}
	o := newOptions(opts)
	dialect := string(db.Dialect())
	if t, ok := db.(dbtemplate.Templater); ok && fsys != nil {
		if hash, err := (&Migrations{fsys: fsys, o: o}).Hash(); err == nil {
			return t.UpFromTemplate(ctx, dialect+":"+hash, func(ctx context.Context, sqlDB *sql.DB) error {
				return up(ctx, sqlDB, dialect, fsys, o)
			})
		}
		// Without a hash (no .sql files), migrate as usual to report why.
	}
	sqlDB, err := db.DB(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return up(ctx, sqlDB, dialect, fsys, o)
}

// Migrations are the migrations of one directory, for tools that work on a
// plain *sql.DB. Build them with [Migrator].
//
// They are a test database's migrator as they are: *Migrations has the
// methods of testdatabases.Migrator, so a plugin that exports its
// migrations lets tests start every database from the plugin's schema,
// migrated exactly as in production (the per-dialect directory, the
// version table), with no adapter:
//
//	testdatabases.New(t, testdatabases.WithMigrator(todo.Migrations))
type Migrations struct {
	fsys fs.FS
	o    options
}

// Migrator returns the migrations in dir of fsys (with its per-dialect
// directories); dir replaces any [Dir] option.
func Migrator(fsys fs.FS, dir string, opts ...Option) *Migrations {
	o := newOptions(opts)
	o.dir = dir
	return &Migrations{fsys: fsys, o: o}
}

// Migrate applies the migrations that db has not applied yet, as [Up]
// does, to db of the given dialect.
func (m *Migrations) Migrate(ctx context.Context, db *sql.DB, dialect core.Dialect) error {
	return up(ctx, db, string(dialect), m.fsys, m.o)
}

// Hash identifies the migrations: a hex SHA-256 of the table name and of
// the names and contents of the .sql files in the directory and in its
// per-dialect directories. It changes whenever a migration is added or
// edited.
func (m *Migrations) Hash() (string, error) {
	if m.fsys == nil {
		return "", errors.New("migrate: the file system is nil")
	}
	// An embed.FS never changes, so its hash is computed once per
	// process: plugins embed their migrations and call Up on every start,
	// and tests start many backends.
	if efs, ok := m.fsys.(embed.FS); ok {
		k := hashKey{fsys: efs, dir: m.o.dir, table: m.o.table}
		if v, ok := embedHashes.Load(k); ok {
			return v.(string), nil
		}
		sum, err := m.hash()
		if err == nil {
			embedHashes.Store(k, sum)
		}
		return sum, err
	}
	return m.hash()
}

// embedHashes caches the hashes of migrations in an embed.FS, which is
// immutable, like the type caches of encoding/json.
var embedHashes sync.Map // hashKey -> string

type hashKey struct {
	fsys       embed.FS
	dir, table string
}

func (m *Migrations) hash() (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "table %q\n", m.o.table)
	dirs := []string{m.o.dir}
	for _, d := range slices.Sorted(maps.Keys(dialects)) {
		dirs = append(dirs, path.Join(m.o.dir, d))
	}
	n := 0
	for _, dir := range dirs {
		files, err := fs.Glob(m.fsys, path.Join(dir, "*.sql"))
		if err != nil {
			return "", fmt.Errorf("migrate: %w", err)
		}
		for _, f := range files {
			b, err := fs.ReadFile(m.fsys, f)
			if err != nil {
				return "", fmt.Errorf("migrate: %w", err)
			}
			fmt.Fprintf(h, "file %q %d\n", f, len(b))
			h.Write(b)
			n++
		}
	}
	if n == 0 {
		return "", fmt.Errorf("migrate: no .sql files in %q or its dialect directories", m.o.dir)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// source picks the directory of fsys to migrate from and checks its files.
func source(fsys fs.FS, dir, dialect string) (string, []string, error) {
	chosen := dir
	dialectDir := path.Join(dir, dialect)
	if fi, err := fs.Stat(fsys, dialectDir); err == nil && fi.IsDir() {
		chosen = dialectDir
	}
	files, err := fs.Glob(fsys, path.Join(chosen, "*.sql"))
	if err != nil {
		return "", nil, fmt.Errorf("migrate: %w", err)
	}
	if len(files) == 0 {
		if chosen == dir {
			return "", nil, fmt.Errorf("migrate: no migrations for dialect %s: %q has no .sql files and there is no %q directory", dialect, dir, dialectDir)
		}
		return "", nil, fmt.Errorf("migrate: no migrations for dialect %s: %q has no .sql files", dialect, chosen)
	}
	for _, f := range files {
		if _, err := goose.NumericComponent(f); err != nil {
			return "", nil, fmt.Errorf("migrate: migration %q has no version: name migration files <version>_<description>.sql, such as 00001_create_todos.sql", f)
		}
	}
	return chosen, files, nil
}

var prepareRE = regexp.MustCompile(`failed to prepare migration \(type:\w+,version:(\d+)\)`)

func up(ctx context.Context, db *sql.DB, dialect string, fsys fs.FS, o options) error {
	gd, ok := dialects[dialect]
	if !ok {
		return fmt.Errorf("migrate: unknown dialect %q; use sqlite, postgres or mysql", dialect)
	}
	if fsys == nil {
		return errors.New("migrate: the file system is nil")
	}
	dir, files, err := source(fsys, o.dir, dialect)
	if err != nil {
		return err
	}
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	fileOf := func(version int64) string {
		for _, f := range files {
			if v, _ := goose.NumericComponent(f); v == version {
				return f
			}
		}
		return dir
	}

	unlock, err := lockDB(ctx, db)
	if err != nil {
		return fmt.Errorf("migrate: waiting for another migration of the same database: %w", err)
	}
	defer unlock()
	if dialect == string(core.DialectSQLite) {
		unlockFile, err := lockSQLiteFile(ctx, db)
		if err != nil {
			return fmt.Errorf("migrate: waiting for another migration of the same SQLite file: %w", err)
		}
		defer unlockFile()
	}

	var locker lock.SessionLocker
	switch dialect {
	case string(core.DialectPostgres):
		locker = postgresLocker{table: o.table}
	case string(core.DialectMySQL):
		locker = mysqlLocker{table: o.table}
	}
	if err := ensureVersionTable(ctx, db, gd, o.table, locker); err != nil {
		return fmt.Errorf("migrate: creating the version table %s: %w", o.table, err)
	}
	popts := []goose.ProviderOption{
		goose.WithDisableGlobalRegistry(true),
		goose.WithTableName(o.table),
	}
	if locker != nil {
		popts = append(popts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(gd, db, sub, popts...)
	if err != nil {
		return fmt.Errorf("migrate: %q: %w", dir, err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		var pe *goose.PartialError
		if errors.As(err, &pe) && pe.Failed != nil && pe.Failed.Source != nil {
			return fmt.Errorf("migrate: migration %q failed: %w", path.Join(dir, pe.Failed.Source.Path), pe.Err)
		}
		if m := prepareRE.FindStringSubmatch(err.Error()); m != nil {
			v, _ := strconv.ParseInt(m[1], 10, 64)
			return fmt.Errorf("migrate: migration %q is not a valid goose SQL migration: %w", fileOf(v), err)
		}
		return fmt.Errorf("migrate: migrations in %q: %w", dir, err)
	}
	if o.logger != nil {
		for _, r := range results {
			o.logger.Info("applied migration", "file", path.Join(dir, r.Source.Path), "version", r.Source.Version,
				"duration", r.Duration.Round(time.Millisecond).String())
		}
	}
	return nil
}

// ensureVersionTable creates the version table and its zero-version row,
// under the migration lock. goose's Provider.Up first calls HasPending,
// which does not take the lock and creates the table when it is missing; on
// MySQL, whose CREATE TABLE commits at once, another replica can then see
// the table before its zero row and fail with "missing zero version
// migration" (pressly/goose pull request #1120, open). Creating the table
// here, under the lock, leaves HasPending nothing to create.
func ensureVersionTable(ctx context.Context, db *sql.DB, dialect goose.Dialect, table string, locker lock.SessionLocker) (err error) {
	store, err := database.NewStore(dialect, table)
	if err != nil {
		return err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if locker != nil {
		if err := locker.SessionLock(ctx, conn); err != nil {
			return err
		}
		defer func() {
			err = errors.Join(err, locker.SessionUnlock(context.WithoutCancel(ctx), conn))
		}()
	}
	exists, err := false, error(errors.ErrUnsupported)
	if x, ok := store.(database.StoreExtender); ok {
		exists, err = x.TableExists(ctx, conn)
	}
	if errors.Is(err, errors.ErrUnsupported) {
		_, err = store.GetMigration(ctx, conn, 0)
		exists = err == nil
		err = nil
	}
	if err != nil || exists {
		return err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := store.CreateVersionTable(ctx, tx); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	if err := store.Insert(ctx, tx, database.InsertRequest{Version: 0}); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}

// Migration locks. goose's own PostgreSQL locker polls every 5 s and its
// MySQL locker needs a lock table and a heartbeat; a blocking session lock
// is a few lines, wakes as soon as the other run ends, and is released by
// the server if the process dies.

// postgresLocker takes an advisory lock keyed by the schema and table.
type postgresLocker struct{ table string }

const pgLockKey = "hashtextextended('greenroom_migrate:' || current_schema() || '.' || $1, 0)"

func (l postgresLocker) SessionLock(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock("+pgLockKey+")", l.table)
	return err
}

func (l postgresLocker) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock("+pgLockKey+")", l.table)
	return err
}

// mysqlLocker takes a named lock keyed by the database and table. Lock
// names are server-wide and at most 64 characters, hence the hash.
type mysqlLocker struct{ table string }

const mysqlLockName = "CONCAT('greenroom_migrate_', MD5(CONCAT(DATABASE(), '.', ?)))"

func (l mysqlLocker) SessionLock(ctx context.Context, conn *sql.Conn) error {
	timeout := time.Hour
	if d, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(d), time.Second)
	}
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK("+mysqlLockName+", ?)", l.table, int(timeout.Seconds())).Scan(&got); err != nil {
		return err
	}
	if !got.Valid || got.Int64 != 1 {
		return fmt.Errorf("another process held the migration lock of table %s for %s", l.table, timeout)
	}
	return nil
}

func (l mysqlLocker) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx, "SELECT RELEASE_LOCK("+mysqlLockName+")", l.table)
	return err
}
