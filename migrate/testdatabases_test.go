package migrate_test

import (
	"testing"
	"testing/fstest"

	"github.com/greenroom-dev/greenroom/migrate"
	"github.com/greenroom-dev/greenroom/testdatabases"
)

// A plugin's migrations are a test database's migrator as they are.
var _ testdatabases.Migrator = (*migrate.Migrations)(nil)

// Test databases migrated by a plugin's migrations hold what production's
// migrate.Up makes: the dialect's directory and the version table.
func TestMigrationsMigrateTestDatabasesLikeProduction(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"m/00001_items.sql":        {Data: []byte("-- +goose Up\nCREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n")},
		"m/sqlite/00001_items.sql": {Data: []byte("-- +goose Up\nCREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, dialect TEXT DEFAULT 'sqlite');\n")},
	}
	set := testdatabases.New(t, testdatabases.SQLite3, testdatabases.WithMigrator(migrate.Migrator(fsys, "m")))
	db := set.Init(t, testdatabases.SQLite3)
	if _, err := db.Exec("INSERT INTO items (name) VALUES ('x')"); err != nil {
		t.Fatal(err)
	}
	var dialect string
	if err := db.QueryRow("SELECT dialect FROM items").Scan(&dialect); err != nil || dialect != "sqlite" {
		t.Fatalf("dialect column = %q, %v; want the sqlite directory's schema", dialect, err)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM " + migrate.DefaultTable + " WHERE version_id = 1").Scan(&n); err != nil || n != 1 {
		t.Fatalf("%s has %d rows for version 1, %v", migrate.DefaultTable, n, err)
	}
}
