package sqlitefake

import (
	"context"
	"database/sql"
	"testing"

	"github.com/greenroom-dev/greenroom/core"
)

// newDB returns a database released when t ends, as mockservices.Database
// makes it.
func newDB(t testing.TB) *DB {
	t.Helper()
	d := New(t.TempDir)
	t.Cleanup(func() {
		if err := d.Release(); err != nil {
			t.Errorf("%v", err)
		}
	})
	return d
}

// coreDatabase is a DB as a core.Database, which migrate.Up migrates
// through UpFromTemplate, as it does the database of mockservices.
type coreDatabase struct{ d *DB }

func (c coreDatabase) DB(ctx context.Context) (*sql.DB, error) { return c.d.DB(ctx) }
func (c coreDatabase) UpFromTemplate(ctx context.Context, key string, up func(context.Context, *sql.DB) error) error {
	return c.d.UpFromTemplate(ctx, key, up)
}
func (coreDatabase) Dialect() core.Dialect   { return core.DialectSQLite }
func (coreDatabase) MigrationsSkipped() bool { return false }

// testDatabase returns a new database as a core.Database.
func testDatabase(t testing.TB) coreDatabase {
	t.Helper()
	return coreDatabase{newDB(t)}
}
