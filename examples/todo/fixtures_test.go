package todo_test

import (
	"context"
	"net/http"
	"os"
	"testing"

	"github.com/greenroom-dev/greenroom/examples/todo"
	"github.com/greenroom-dev/greenroom/fixtures"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/testbackend"
	"github.com/greenroom-dev/greenroom/testdatabases"
)

// todoFixtures are the shared fixture files of this plugin, in the
// repository's top-level fixtures directory.
var todoFixtures = os.DirFS("../../fixtures/todo")

// TestGetRoutesWithFixtures loads fixtures/todo on every engine after the
// plugin's migrations and checks the plugin's GET routes against golden
// files: one file per route for all engines, so the engines must also
// answer alike. Rewrite them with GREENROOM_UPDATE_GOLDEN=1.
func TestGetRoutesWithFixtures(t *testing.T) {
	t.Parallel()
	testdatabases.New(t, testdatabases.WithMigrator(todo.Migrations)).Each(t, func(t *testing.T, db *testdatabases.DB) {
		t.Parallel()
		fixtures.MustLoad(t, db.DB, todoFixtures)
		tb := testbackend.Start(t, todo.Plugin, mockservices.DatabaseFactory(t, mockservices.FromTestDatabase(db)))

		routes := []struct {
			golden string
			req    *testbackend.Request
			status int
		}{
			{"list-alice", tb.Get("/api/todo/todos").AsUser(alice), http.StatusOK},
			{"list-bob", tb.Get("/api/todo/todos").AsUser(bob), http.StatusOK},
			{"get-2", tb.Get("/api/todo/todos/2").AsUser(alice), http.StatusOK},
			{"get-5", tb.Get("/api/todo/todos/5").AsUser(alice), http.StatusOK},
			{"get-other-owner", tb.Get("/api/todo/todos/7").AsUser(alice), http.StatusNotFound},
		}
		for _, r := range routes {
			resp := r.req.Do(t).ExpectStatus(t, r.status)
			fixtures.GoldenJSON(t, r.golden, resp.Bytes())
		}

		// The loaded ids were explicit; a new todo gets the next one.
		resp := tb.Post("/api/todo/todos", map[string]any{"title": "after the fixtures"}).AsUser(bob).Do(t).ExpectStatus(t, http.StatusCreated)
		fixtures.GoldenJSON(t, "create-after-fixtures", resp.Bytes(), fixtures.Mask("createdAt", "updatedAt"))
	})
}

// TestFixturesCleanReload loads the fixtures twice with Clean: the second
// load replaces the first instead of failing on duplicate ids.
func TestFixturesCleanReload(t *testing.T) {
	t.Parallel()
	testdatabases.New(t, testdatabases.WithMigrator(todo.Migrations)).Each(t, func(t *testing.T, db *testdatabases.DB) {
		t.Parallel()
		l := fixtures.Loader{Clean: true}
		for i := 0; i < 2; i++ {
			if err := l.Load(context.Background(), db.DB, todoFixtures); err != nil {
				t.Fatalf("load %d: %v", i+1, err)
			}
		}
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM todos").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 4 {
			t.Errorf("%d todos after two clean loads, want 4", n)
		}
	})
}
