package migrate_test

import (
	"context"
	"embed"
	"fmt"
	"log/slog"
	"os"
	"testing"

	"github.com/greenroom-dev/greenroom/defaults/config"
	"github.com/greenroom-dev/greenroom/defaults/database"
	"github.com/greenroom-dev/greenroom/defaults/logger"
	"github.com/greenroom-dev/greenroom/migrate"
	"github.com/greenroom-dev/greenroom/testdatabases"
)

// migrations holds portable SQL in testdata/migrations and MySQL's own
// variant in testdata/migrations/mysql.
//
//go:embed testdata/migrations
var migrations embed.FS

func ExampleUp() {
	cfg, _ := config.FromYAML("") // SQLite in memory
	m, _ := database.NewManager(cfg, nil)
	defer m.Close()
	todo, _ := m.ForPlugin("todo")

	// In a plugin's init: d.Database is the plugin's core.Database.
	ctx := context.Background()
	if err := migrate.Up(ctx, todo, migrations, migrate.Dir("testdata/migrations")); err != nil {
		fmt.Println(err)
		return
	}
	// Running again is a no-op.
	if err := migrate.Up(ctx, todo, migrations, migrate.Dir("testdata/migrations")); err != nil {
		fmt.Println(err)
		return
	}
	db, _ := todo.DB(ctx)
	var title string
	db.QueryRow("SELECT title FROM todos").Scan(&title)
	fmt.Println(title)
	// Output:
	// try Greenroom
}

func ExampleLogger() {
	cfg, _ := config.FromYAML("")
	m, _ := database.NewManager(cfg, nil)
	defer m.Close()
	todo, _ := m.ForPlugin("todo")
	log := logger.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "duration" {
				return slog.Attr{}
			}
			return a
		},
	}))
	migrate.Up(context.Background(), todo, migrations, migrate.Dir("testdata/migrations"), migrate.Logger(log))
	// Output:
	// level=INFO msg="applied migration" file=testdata/migrations/00001_create_todos.sql version=1
	// level=INFO msg="applied migration" file=testdata/migrations/00002_seed.sql version=2
}

func ExampleTable() {
	cfg, _ := config.FromYAML("")
	m, _ := database.NewManager(cfg, nil)
	defer m.Close()
	todo, _ := m.ForPlugin("todo")
	ctx := context.Background()
	migrate.Up(ctx, todo, migrations, migrate.Dir("testdata/migrations"), migrate.Table("todo_schema_versions"))
	db, _ := todo.DB(ctx)
	var n int
	db.QueryRow("SELECT count(*) FROM todo_schema_versions WHERE version_id > 0").Scan(&n)
	fmt.Println(n, "versions recorded")
	// Output:
	// 2 versions recorded
}

func ExampleDir() {
	cfg, _ := config.FromYAML("")
	m, _ := database.NewManager(cfg, nil)
	defer m.Close()
	todo, _ := m.ForPlugin("todo")
	err := migrate.Up(context.Background(), todo, migrations) // the default Dir is "."
	fmt.Println(err)
	// Output:
	// migrate: no migrations for dialect sqlite: "." has no .sql files and there is no "sqlite" directory
}

func ExampleMigrator() {
	cfg, _ := config.FromYAML("")
	m, _ := database.NewManager(cfg, nil)
	defer m.Close()
	todo, _ := m.ForPlugin("todo")
	db, _ := todo.DB(context.Background())

	// A test-database helper migrates a template database once per hash.
	mig := migrate.Migrator(migrations, "testdata/migrations")
	hash, _ := mig.Hash()
	err := mig.Migrate(context.Background(), db, "sqlite")
	fmt.Println(len(hash), err)
	// Output:
	// 64 <nil>
}

// A plugin exports its migrations, and its tests start every database
// from them, on every engine, with no adapter:
//
//	// package todo
//	var Migrations = migrate.Migrator(migrationFiles, "migrations")
//
//	// package todo_test
//	testdatabases.New(t, testdatabases.WithMigrator(todo.Migrations)).Each(t, ...)
func ExampleMigrator_testDatabases() {
	mig := migrate.Migrator(migrations, "testdata/migrations")
	dbs := testdatabases.New(&testing.T{}, testdatabases.SQLite3, testdatabases.WithMigrator(mig))
	db, err := dbs.Open(context.Background(), testdatabases.SQLite3)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	var n int
	err = db.QueryRow("SELECT count(*) FROM " + migrate.DefaultTable + " WHERE version_id > 0").Scan(&n)
	fmt.Println(n > 0, err)
	// Output:
	// true <nil>
}

func ExampleMigrations_Hash() {
	a, _ := migrate.Migrator(migrations, "testdata/migrations").Hash()
	b, _ := migrate.Migrator(migrations, "testdata/migrations", migrate.Table("other")).Hash()
	fmt.Println(a == b)
	// Output:
	// false
}
