package openapitest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/examples/todo"
	"github.com/greenroom-dev/greenroom/testbackend"
	"github.com/greenroom-dev/greenroom/testbackend/openapitest"
)

// Every request to the todo plugin, and every answer, is checked against
// its OpenAPI document; at the end of the test its routes are compared
// with the document's operations. A request refused on purpose (400) is
// not a contract problem.
func ExampleWithOpenAPI() {
	t := newExampleT()
	defer t.finish()

	tb := testbackend.New(
		openapitest.WithOpenAPI(todo.PluginID, todo.OpenAPI),
		testbackend.WithDefaultUser("user:default/alice"),
	).Start(t, todo.Plugin)
	fmt.Println(tb.Post("/api/todo/todos", map[string]any{"title": "write docs"}).Do(t).Status)
	fmt.Println(tb.Post("/api/todo/todos", map[string]any{"title": ""}).Do(t).Status)
	fmt.Println(tb.Get("/api/todo/todos/1").Do(t).Status)
	// Output:
	// 201 Created
	// 400 Bad Request
	// 200 OK
}

// While a document is being written, LogCoverageGaps logs the routes it
// lacks instead of failing the test; requests and responses are still
// checked.
func ExampleLogCoverageGaps() {
	t := newExampleT()

	spec := []byte(`
openapi: 3.0.3
info: {title: hello, version: "1"}
paths:
  /hello:
    get:
      responses:
        "200": {description: a greeting, content: {text/plain: {schema: {type: string}}}}
`)
	hello := backend.NewPlugin("hello", backend.Init(func(ctx context.Context, d struct{ Router core.HTTPRouter }) error {
		d.Router.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, "hello")
		})
		d.Router.HandleFunc("GET /bye", func(w http.ResponseWriter, r *http.Request) {})
		d.Router.AddAuthPolicy("/", core.AllowUnauthenticated)
		return nil
	}))
	tb := testbackend.New(openapitest.WithOpenAPI("hello", spec, openapitest.LogCoverageGaps())).Start(t, hello)
	fmt.Println(string(tb.Get("/api/hello/hello").Do(t).Bytes()))
	t.finish() // the end of the test: the gap is logged
	fmt.Println("failed:", t.Failed())
	// Output:
	// hello
	// openapitest: WithOpenAPI: plugin 'hello': its routes and its OpenAPI document differ:
	//   route "GET /bye" is served but the document does not describe it
	// Describe every route under paths (relative to /api/hello), remove operations the plugin does not have, or pass openapitest.LogCoverageGaps() while the document is being written.
	// failed: false
}
