package mockservices_test

import (
	"testing"
	"testing/fstest"

	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/testdatabases"
)

func TestMigrationsMigrateTestDatabasesLikeProduction(t *testing.T) {
	fsys := fstest.MapFS{
		"m/00001_items.sql":        {Data: []byte("-- +goose Up\nCREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n")},
		"m/sqlite/00001_items.sql": {Data: []byte("-- +goose Up\nCREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, dialect TEXT DEFAULT 'sqlite');\n")},
	}
	set := testdatabases.New(t, testdatabases.SQLite3, testdatabases.WithMigrator(mockservices.Migrations(fsys, "m")))
	db := set.Init(t, testdatabases.SQLite3)
	// The dialect directory was chosen, as migrate.Up does in production.
	if _, err := db.Exec("INSERT INTO items (name) VALUES ('x')"); err != nil {
		t.Fatal(err)
	}
	var dialect string
	if err := db.QueryRow("SELECT dialect FROM items").Scan(&dialect); err != nil || dialect != "sqlite" {
		t.Fatalf("dialect column = %q, %v; want the sqlite directory's schema", dialect, err)
	}
	// And the versions are in production's table.
	var n int
	if err := db.QueryRow("SELECT count(*) FROM greenroom_migrations WHERE version_id = 1").Scan(&n); err != nil || n != 1 {
		t.Fatalf("greenroom_migrations has %d rows for version 1, %v", n, err)
	}
}
