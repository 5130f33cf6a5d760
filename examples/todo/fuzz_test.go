package todo_test

import (
	"testing"

	"github.com/greenroom-dev/greenroom/examples/todo"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/testbackend"
	"github.com/greenroom-dev/greenroom/testdatabases"
)

// The route fuzzer on every engine of the database matrix: one target per
// engine, so that go test replays the seed corpus on each (a server engine
// without its GREENROOM_TEST_DATABASE_* variable skips, or fails under
// CI=true) and go test -fuzz fuzzes one engine at a time:
//
//	go test -run '^$' -fuzz '^FuzzTodoRoutesPostgres15$' -fuzztime 10s ./examples/todo

func FuzzTodoRoutesSQLite(f *testing.F)     { fuzzTodoRoutes(f, testdatabases.SQLite3) }
func FuzzTodoRoutesPostgres15(f *testing.F) { fuzzTodoRoutes(f, testdatabases.Postgres15) }
func FuzzTodoRoutesMariaDB10(f *testing.F)  { fuzzTodoRoutes(f, testdatabases.MariaDB10) }

// fuzzTodoRoutes fuzzes every route of todo on a database of engine id,
// one backend per fuzz process.
func fuzzTodoRoutes(f *testing.F, id testdatabases.ID) {
	db := testdatabases.New(f, testdatabases.WithMigrator(todo.Migrations)).Init(f, id)
	tb := testbackend.Start(f, todo.Plugin, mockservices.DatabaseFactory(f, mockservices.FromTestDatabase(db)))
	tb.FuzzRoutes(f,
		testbackend.FuzzPublic("GET /api/todo/health"),
		testbackend.FuzzBodies(`{"title":"milk"}`, `{"title":"milk","done":true}`, `{"done":true}`, `{"title":" "}`, `{"title":1}`, `{"title":"milk","extra":1}`),
	)
}
