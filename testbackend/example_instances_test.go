package testbackend_test

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/greenroom-dev/greenroom/examples/todo"
	"github.com/greenroom-dev/greenroom/testbackend"
	"github.com/greenroom-dev/greenroom/testdatabases"
)

func ExampleStartInstances() {
	t := newExampleT() // in a test: func TestTodosAcrossInstances(t *testing.T) {
	defer t.finish()

	// Three instances of one backend, as behind a load balancer, sharing
	// a SQLite database of the test; each migrates it in its init, once.
	tbs := testbackend.StartInstances(t, 3, todo.Plugin)

	tbs[0].Post("/api/todo/todos", map[string]any{"title": "written by instance 0"}).
		AsUser("user:default/alice").
		Do(t).
		ExpectStatus(t, http.StatusCreated)

	var list struct{ Items []todo.Todo }
	tbs[2].Get("/api/todo/todos").AsUser("user:default/alice").Do(t).DecodeJSON(t, &list)
	fmt.Println(len(list.Items), list.Items[0].Title)
	fmt.Println(tbs[0].URL() != tbs[2].URL())
	// Output:
	// 1 written by instance 0
	// true
}

func ExampleSetup_StartInstances() {
	t := newExampleT()
	defer t.finish()

	// With real auth, every instance trusts the user tokens that any
	// instance's helpers mint.
	tbs := testbackend.New(testbackend.WithRealAuth()).StartInstances(t, 2, todo.Plugin)
	req := tbs[0].Get("/api/todo/todos").AsUser("user:default/alice").Build(t)
	resp, err := tbs[1].Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
	// Output: 200 OK
}

func ExampleTryStartInstances() {
	t := newExampleT()
	defer t.finish()

	_, err := testbackend.TryStartInstances(t, 0, todo.Plugin)
	fmt.Println(err)
	// Output: InputError: 0 instances requested; StartInstances starts at least 1 (use Start for one backend)
}

func ExampleSetup_TryStartInstances() {
	t := newExampleT()
	defer t.finish()

	// quotaPlugin refuses to start without quota.limit: every instance
	// fails, and the error names each.
	_, err := testbackend.New().TryStartInstances(t, 2, quotaPlugin)
	fmt.Println(errors.Is(err, errNoQuota))
	// Output: true
}

func ExampleWithDatabase() {
	t := newExampleT() // in a test: testdatabases.New(t).With(testdatabases.Clone).Each(t, ...)
	defer t.finish()

	db := testdatabases.New(t, testdatabases.SQLite3).Init(t, testdatabases.SQLite3, testdatabases.Clone)
	asAlice := testbackend.New(testbackend.WithDatabase(db), testbackend.WithDefaultUser("user:default/alice"))
	tb := asAlice.Start(t, todo.Plugin)
	tb.Post("/api/todo/todos", map[string]any{"title": "in the test database"}).Do(t).ExpectStatus(t, http.StatusCreated)

	// The backend's pool and the test's *sql.DB open the same database.
	var title string
	if err := db.QueryRow("SELECT title FROM todos").Scan(&title); err != nil {
		t.Fatal(err)
	}
	fmt.Println(title)
	// Output: in the test database
}

func ExampleBackend_Stop() {
	t := newExampleT()
	defer t.finish()

	tbs := testbackend.New(testbackend.WithDefaultUser("user:default/alice")).StartInstances(t, 2, todo.Plugin)
	tbs[0].Stop(t) // as a production instance stops: drain, plugins, root services

	_, err := tbs[0].Client().Get("/api/todo/todos")
	fmt.Println(err != nil)
	fmt.Println(tbs[1].Get("/api/todo/todos").Do(t).Status)
	// Output:
	// true
	// 200 OK
}
