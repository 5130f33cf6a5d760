package database_test

import (
	"context"
	"fmt"

	"github.com/greenroom-dev/greenroom/defaults/config"
	"github.com/greenroom-dev/greenroom/defaults/database"
)

func ExampleNewManager() {
	// Nothing configured: every plugin gets its own SQLite database in
	// memory.
	cfg, _ := config.FromYAML("")
	m, err := database.NewManager(cfg, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()

	ctx := context.Background()
	todo, _ := m.ForPlugin("todo")
	db, err := todo.DB(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	db.ExecContext(ctx, "CREATE TABLE todos (id INTEGER PRIMARY KEY, title TEXT NOT NULL)")
	db.ExecContext(ctx, "INSERT INTO todos (title) VALUES ('write docs')")

	other, _ := m.ForPlugin("other")
	odb, _ := other.DB(ctx)
	_, err = odb.ExecContext(ctx, "SELECT * FROM todos")
	fmt.Println(todo.Dialect(), todo.Name())
	fmt.Println("other plugin sees todos:", err == nil)
	// Output:
	// sqlite greenroom_plugin_todo
	// other plugin sees todos: false
}

func ExampleNewManager_postgres() {
	cfg, _ := config.FromYAML(`
backend:
  database:
    client: pg
    connection: postgres://greenroom:secret@db.internal:5432/postgres
    plugin:
      catalog:
        connection: postgres://catalog@catalog-db:5432/catalog
        skipMigrations: true
`)
	m, err := database.NewManager(cfg, nil) // checks the configuration; does not connect
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	for _, id := range []string{"todo", "catalog"} {
		d, _ := m.ForPlugin(id)
		fmt.Println(id, d.Dialect(), d.Name(), d.MigrationsSkipped())
	}
	// Output:
	// todo postgres greenroom_plugin_todo false
	// catalog postgres catalog true
}

func ExampleNewManager_unsupportedClient() {
	cfg, _ := config.FromYAML("backend:\n  database:\n    plugin:\n      todo:\n        client: oracle\n")
	_, err := database.NewManager(cfg, nil)
	fmt.Println(err)
	// Output:
	// config key "backend.database.plugin.todo.client": unsupported database client type 'oracle' specified for plugin 'todo'; use sqlite, postgres or mysql
}

func ExampleManager_ForPlugin() {
	cfg, _ := config.FromYAML("backend:\n  database:\n    prefix: app_\n")
	m, _ := database.NewManager(cfg, nil)
	defer m.Close()
	d, _ := m.ForPlugin("search")
	fmt.Println(d.Name())
	// Output:
	// app_search
}

func ExampleDatabase_DB() {
	cfg, _ := config.FromYAML("")
	m, _ := database.NewManager(cfg, nil)
	d, _ := m.ForPlugin("todo")
	db, _ := d.DB(context.Background())
	var fk int
	db.QueryRow("PRAGMA foreign_keys").Scan(&fk)
	fmt.Println("foreign keys:", fk)

	m.Close()
	_, err := d.DB(context.Background())
	fmt.Println(err)
	// Output:
	// foreign keys: 1
	// database for plugin 'todo' is closed; the backend is shutting down
}

func ExampleFactory() {
	fmt.Println(database.Factory().Ref().ID())
	// Output:
	// core.database
}
