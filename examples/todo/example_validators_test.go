package todo_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/examples/todo"
	"github.com/greenroom-dev/greenroom/testbackend"
)

// A module adds a title validator through the plugin's extension point; a
// title it rejects is answered 400, naming the validator.
func ExampleValidatorsExtensionPoint() {
	t := &exampleT{} // in a test, the test's t
	defer t.finish()

	noShouting := backend.NewModule(todo.PluginID, "noshouting", backend.Init(
		func(ctx context.Context, d struct{ Validators todo.Validators }) error {
			return d.Validators.Add("no-shouting", func(ctx context.Context, c todo.Candidate) error {
				if c.Title == strings.ToUpper(c.Title) && c.Title != strings.ToLower(c.Title) {
					return todo.Reject("titles must not be all capitals")
				}
				return nil
			})
		}))
	tb := testbackend.New(testbackend.WithDefaultUser("user:default/alice")).Start(t, todo.Plugin, noShouting)

	fmt.Println(tb.Post("/api/todo/todos", map[string]any{"title": "BUY MILK"}).Do(t).StatusCode)
	fmt.Println(tb.Post("/api/todo/todos", map[string]any{"title": "buy milk"}).Do(t).StatusCode)
	// Output:
	// 400
	// 201
}

// A validator refuses a title with Reject; the reason is what the user
// reads.
func ExampleReject() {
	err := todo.Reject("the word %q is not allowed", "darn")
	fmt.Println(err)
	// Output: title rejected: the word "darn" is not allowed
}
