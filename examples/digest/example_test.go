package digest_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/greenroom-dev/greenroom/examples/digest"
	"github.com/greenroom-dev/greenroom/examples/todo"
	"github.com/greenroom-dev/greenroom/testbackend"
)

// The digest and the todo plugin in one test backend: the digest reads the
// caller's todos from todo, over HTTP on the test backend's listener, with
// a token issued on the caller's behalf.
func Example() {
	t := &exampleT{} // in a test, the test's t
	defer t.finish()
	tb := testbackend.New(testbackend.WithDefaultUser("user:default/alice")).Start(t, todo.Plugin, digest.Plugin)
	tb.Post("/api/todo/todos", map[string]any{"title": "milk"}).Do(t)
	tb.Post("/api/todo/todos", map[string]any{"title": "bread", "done": true}).Do(t)

	var s digest.Summary
	tb.Get("/api/digest/summary").Do(t).DecodeJSON(t, &s)
	fmt.Printf("%+v\n", s)
	// Output: {User:user:default/alice Open:1 Completed:1}
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
	dir, err := os.MkdirTemp("", "digest-example-")
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
