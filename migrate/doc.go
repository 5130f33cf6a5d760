// Package migrate runs a plugin's SQL migrations against its own database.
// Plugin code calls [Up] from its init, with the migrations embedded in the
// plugin's binary:
//
//	//go:embed migrations
//	var migrations embed.FS
//
//	func initTodo(ctx context.Context, d deps) error {
//		if err := migrate.Up(ctx, d.Database, migrations, migrate.Dir("migrations")); err != nil {
//			return err
//		}
//		...
//	}
//
// Migrations are goose SQL files (github.com/pressly/goose/v3): named
// <version>_<description>.sql, such as 00001_create_todos.sql, each with a
// "-- +goose Up" section and optionally a "-- +goose Down" section. Each file
// runs in a transaction unless it says "-- +goose NO TRANSACTION".
//
// Where dialects differ, give each its own directory: Up runs the files of
// <dir>/<dialect> (sqlite, postgres or mysql) when that directory exists,
// and the files of <dir> otherwise. A plugin can thus ship portable SQL in
// <dir> and only, say, <dir>/mysql for the one engine that needs other SQL.
//
// Applied versions are recorded in a table of the plugin's database,
// greenroom_migrations unless [Table] says otherwise, so running Up again
// applies only new files. Up does nothing when the database reports
// MigrationsSkipped (config backend.database.skipMigrations). Runs on one
// database are serialized: within the process (on SQLite, every pool of the
// process on one file), and across processes with a PostgreSQL advisory
// lock or a MySQL named lock, so that several replicas starting together
// migrate once. SQLite has no such lock: processes sharing one SQLite file
// must not migrate it at the same time.
//
// [Migrator] offers the same migrations to tools that work on a plain
// *sql.DB. Its result is a migrator of package testdatabases as it is, so a
// plugin that exports its migrations lets its tests start every test
// database from them, migrated once per engine into a template:
//
//	// package todo
//	var Migrations = migrate.Migrator(migrationFiles, "migrations")
//
//	// package todo_test
//	testdatabases.New(t, testdatabases.WithMigrator(todo.Migrations))
//
// The plugin's own Up at start then finds nothing to apply.
package migrate
