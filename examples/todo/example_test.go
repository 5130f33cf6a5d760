package todo_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"testing"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults"
	"github.com/greenroom-dev/greenroom/examples/todo"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/testbackend"
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

// A test runs the purge task when it wants, with the scheduler fake of
// package mockservices: here a todo completed just now is kept, since the
// default age is 30 days.
func Example_purgeCompleted() {
	t := &exampleT{} // in a test, the test's t
	defer t.finish()
	ctx := context.Background()

	s := mockservices.Scheduler()
	tb := testbackend.New(testbackend.WithDefaultUser("user:default/alice")).Start(t, todo.Plugin, mockservices.SchedulerFactory(s))
	tb.Post("/api/todo/todos", map[string]any{"title": "milk", "done": true}).Do(t).ExpectStatus(t, http.StatusCreated)

	run, err := s.Run(ctx, todo.PluginID, todo.PurgeTaskID)
	fmt.Println(run, err)
	fmt.Println(tb.Get("/api/todo/todos/1").Do(t).StatusCode)
	// Output:
	// todo/purge-completed run 1 at 2026-01-01T00:00:00Z: ok <nil>
	// 200
}

// exampleT stands in for the *testing.T of a test so that an example can
// start a test backend: it runs the cleanups when the example ends.
type exampleT struct {
	testing.TB
	cleanups []func()
}

func (t *exampleT) Helper()                           {}
func (t *exampleT) Failed() bool                      { return false }
func (t *exampleT) Cleanup(fn func())                 { t.cleanups = append(t.cleanups, fn) }
func (t *exampleT) Errorf(format string, args ...any) { fmt.Printf("FAIL: "+format+"\n", args...) }
func (t *exampleT) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (t *exampleT) Context() context.Context          { return context.Background() }
func (t *exampleT) Name() string                      { return "Example" }
func (t *exampleT) Logf(string, ...any)               {}
func (t *exampleT) TempDir() string {
	dir, err := os.MkdirTemp("", "todo-example-")
	if err != nil {
		panic(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func (t *exampleT) finish() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}
