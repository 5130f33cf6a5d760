// Package openapitest checks a plugin against its OpenAPI 3 document in
// the tests of package testbackend: [WithOpenAPI] is a testbackend.Option
// that validates every request sent to the plugin, and every response it
// answers, against the document, and compares the plugin's routes with the
// document's operations when the test ends.
//
//	func TestTodoContract(t *testing.T) {
//		tb := testbackend.New(openapitest.WithOpenAPI(todo.PluginID, todo.OpenAPI)).Start(t, todo.Plugin)
//		tb.Post("/api/todo/todos", map[string]any{"title": "milk"}).AsUser("").Do(t)
//	}
//
// The check is a package of its own, not an option of testbackend, because
// it compiles github.com/getkin/kin-openapi and what that brings (a router,
// a JSON Schema validator, a YAML parser): only the tests that import
// openapitest pay for them, not every plugin test that imports
// testbackend. See docs/contract-testing.md.
package openapitest
