package nobadwords_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/greenroom-dev/greenroom/examples/todo"
	"github.com/greenroom-dev/greenroom/examples/todo/modules/nobadwords"
	"github.com/greenroom-dev/greenroom/testbackend"
)

// The module next to the todo plugin: a title with a refused word is
// answered 400, naming the validator; other titles are stored.
func Example() {
	t := &exampleT{} // in a test, the test's t
	defer t.finish()
	tb := testbackend.New(testbackend.WithDefaultUser("user:default/alice")).Start(t, todo.Plugin, nobadwords.Module)

	fmt.Println(tb.Post("/api/todo/todos", map[string]any{"title": "fix the darn printer"}).Do(t))
	fmt.Println(tb.Post("/api/todo/todos", map[string]any{"title": "fix the printer"}).Do(t).StatusCode)
	// Output:
	// POST /api/todo/todos: 400 Bad Request {"error":{"name":"InputError","message":"Invalid request body: title rejected by validator \"no-bad-words\": the word \"darn\" is not allowed in titles","details":[{"field":"title","message":"the word \"darn\" is not allowed in titles"}]},"request":{"method":"POST","url":"/api/todo/todos"},"response":{"statusCode":400}}
	// 201
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
	dir, err := os.MkdirTemp("", "nobadwords-example-")
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
