package testdatabases

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
)

// A Migrator builds the schema (and any seed data) of a test database.
// Pass one to [WithMigrator]. A Greenroom plugin's migrations are one as
// they are (*migrate.Migrations, from migrate.Migrator), and are the way to
// migrate a plugin's test databases: they run exactly as in production.
// [Goose] reads plain goose migration directories and [SQL] takes
// statements; migrations written in Go are a type with these two methods.
//
// Migrate runs once per engine and Hash, on a template that every test's
// database is then cloned from. Hash must change whenever the result of
// Migrate would: it names the template, and templates are reused across test
// binaries and runs while the hash stays the same.
type Migrator interface {
	Hash() (string, error)
	Migrate(ctx context.Context, db *sql.DB, dialect Dialect) error
}

// SQL returns a Migrator that runs the statements listed for the database's
// dialect, in order, each with one Exec. The key "" holds statements for
// dialects not listed. Its hash covers all statements.
func SQL(statements map[Dialect][]string) Migrator { return sqlMigrator(statements) }

type sqlMigrator map[Dialect][]string

func (m sqlMigrator) Hash() (string, error) {
	h := sha256.New()
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "%q:%d\n", k, len(m[Dialect(k)]))
		for _, s := range m[Dialect(k)] {
			fmt.Fprintf(h, "%d:%s\n", len(s), s)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (m sqlMigrator) Migrate(ctx context.Context, db *sql.DB, d Dialect) error {
	stmts, ok := m[d]
	if !ok {
		stmts = m[""]
	}
	for i, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("statement %d for %s: %w", i+1, d, err)
		}
	}
	return nil
}

// Goose returns a Migrator that applies goose SQL migrations from dir in
// fsys. If dir contains "{dialect}" it is replaced by the database's dialect
// ("sqlite", "postgres", "mysql"), so each dialect can have its own
// directory. The hash covers every file in every dialect's directory.
// Only SQL migrations are supported (Go migrations cannot be hashed).
func Goose(fsys fs.FS, dir string) Migrator { return gooseMigrator{fsys, dir} }

type gooseMigrator struct {
	fsys fs.FS
	dir  string
}

func (g gooseMigrator) dirFor(d Dialect) string {
	return strings.ReplaceAll(g.dir, "{dialect}", string(d))
}

func (g gooseMigrator) Hash() (string, error) {
	h := sha256.New()
	dirs := map[string]bool{}
	for _, d := range []Dialect{DialectSQLite, DialectPostgres, DialectMySQL} {
		dirs[g.dirFor(d)] = true
	}
	var names []string
	for d := range dirs {
		err := fs.WalkDir(g.fsys, d, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				if p == d && strings.Contains(g.dir, "{dialect}") {
					return fs.SkipDir // a dialect without migrations
				}
				return err
			}
			if !e.IsDir() {
				names = append(names, p)
			}
			return nil
		})
		if err != nil {
			return "", fmt.Errorf("goose migrations in %s: %w", d, err)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		b, err := fs.ReadFile(g.fsys, n)
		if err != nil {
			return "", fmt.Errorf("goose migration %s: %w", n, err)
		}
		fmt.Fprintf(h, "%s:%d\n", n, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (g gooseMigrator) Migrate(ctx context.Context, db *sql.DB, d Dialect) error {
	var gd database.Dialect
	switch d {
	case DialectPostgres:
		gd = database.DialectPostgres
	case DialectMySQL:
		gd = database.DialectMySQL
	case DialectSQLite:
		gd = database.DialectSQLite3
	default:
		return fmt.Errorf("goose: unsupported dialect %q", d)
	}
	sub, err := fs.Sub(g.fsys, path.Clean(g.dirFor(d)))
	if err != nil {
		return fmt.Errorf("goose: %w", err)
	}
	p, err := goose.NewProvider(gd, db, sub, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("goose: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("goose up: %w", err)
	}
	return nil
}

// migrationHash returns the hash of m ("empty" for nil), shortened for names.
func migrationHash(m Migrator) (string, error) {
	if m == nil {
		return "0000000000000000", nil
	}
	h, err := m.Hash()
	if err != nil {
		return "", fmt.Errorf("migrator hash: %w", err)
	}
	sum := sha256.Sum256([]byte(h))
	return hex.EncodeToString(sum[:8]), nil
}
