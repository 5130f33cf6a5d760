package mockservices

import (
	"context"
	"database/sql"
	"io/fs"

	"github.com/greenroom-dev/greenroom/migrate"
	"github.com/greenroom-dev/greenroom/testdatabases"
)

// Migrations returns a plugin's migrations (package migrate: dir of fsys
// with its per-dialect directories, the greenroom_migrations table) as the
// migrator of a testdatabases set, so that test databases are migrated
// exactly as the plugin's database service would be:
//
//	set := testdatabases.New(t, testdatabases.WithMigrator(mockservices.Migrations(todo.Migrations, "migrations")))
func Migrations(fsys fs.FS, dir string, opts ...migrate.Option) testdatabases.Migrator {
	return migrations{migrate.Migrator(fsys, dir, opts...)}
}

type migrations struct{ m *migrate.Migrations }

func (m migrations) Hash() (string, error) { return m.m.Hash() }

func (m migrations) Migrate(ctx context.Context, db *sql.DB, dialect testdatabases.Dialect) error {
	return m.m.Migrate(ctx, db, string(dialect))
}
