package todo_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults"
	"github.com/greenroom-dev/greenroom/examples/todo"
	"github.com/greenroom-dev/greenroom/testdatabases"
)

// The todo plugin in a production backend on a free port, with its
// database in memory: /health is open, the todos need a user.
func Example() {
	b := defaults.New(
		defaults.ConfigYAML("example", "backend:\n  listen:\n    host: 127.0.0.1\n    port: 0\n"),
		defaults.Env(nil),
		defaults.LogOutput(io.Discard),
	)
	if err := b.Add(todo.Plugin); err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	if err := b.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer b.Stop(ctx)

	disc, _ := backend.Resolve(ctx, b, core.DiscoveryRef, todo.PluginID)
	base, _ := disc.BaseURL(ctx, todo.PluginID)
	for _, path := range []string{"/health", "/todos"} {
		res, err := http.Get(base + path)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fmt.Printf("%s %d %s", path, res.StatusCode, body)
	}
	// Output:
	// /health 200 {"status":"ok"}
	// /todos 401 {"error":{"name":"AuthenticationError","message":"Missing credentials"},"request":{"method":"GET","url":"/api/todo/todos"},"response":{"statusCode":401}}
}

// A test database starts from the plugin's migrations, on every engine the
// run has (here SQLite), exactly as the plugin's database service would be
// migrated.
func ExampleMigrations() {
	dbs := testdatabases.New(&testing.T{}, testdatabases.SQLite3, testdatabases.WithMigrator(todo.Migrations))
	db, err := dbs.Open(context.Background(), testdatabases.SQLite3)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	var n int
	fmt.Println(db.QueryRow("SELECT count(*) FROM todos").Scan(&n), n)
	// Output: <nil> 0
}
