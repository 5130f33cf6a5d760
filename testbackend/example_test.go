package testbackend_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/examples/todo"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/mockservices/mockcreds"
	"github.com/greenroom-dev/greenroom/testbackend"
)

// exampleT stands in for the *testing.T of a test function, so that the
// examples run. It implements what the helpers use: a failure prints the
// message and panics, which fails the example; cleanups run at finish.
type exampleT struct {
	testing.TB // nil: only the methods below are called
	cleanups   []func()
	ctx        context.Context
	cancel     context.CancelFunc
	dirs       []string
	failed     bool
}

func newExampleT() *exampleT {
	ctx, cancel := context.WithCancel(context.Background())
	return &exampleT{ctx: ctx, cancel: cancel}
}

func (t *exampleT) Helper()                         {}
func (t *exampleT) Name() string                    { return "Example" }
func (t *exampleT) Context() context.Context        { return t.ctx }
func (t *exampleT) Cleanup(f func())                { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) Failed() bool                    { return t.failed }
func (t *exampleT) Log(args ...any)                 { fmt.Println(args...) }
func (t *exampleT) Logf(format string, args ...any) { fmt.Printf(format+"\n", args...) }
func (t *exampleT) Error(args ...any)               { t.failed = true; fmt.Println(args...) }
func (t *exampleT) Errorf(format string, args ...any) {
	t.failed = true
	fmt.Printf(format+"\n", args...)
}
func (t *exampleT) Fatal(args ...any)                 { panic(fmt.Sprint(args...)) }
func (t *exampleT) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (t *exampleT) FailNow()                          { panic("FailNow") }
func (t *exampleT) TempDir() string {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		panic(err)
	}
	t.dirs = append(t.dirs, dir)
	return dir
}

// finish ends the "test": the context is cancelled and the cleanups run,
// as the testing package does when a test returns.
func (t *exampleT) finish() {
	t.cancel()
	for _, f := range slices.Backward(t.cleanups) {
		f()
	}
	for _, d := range t.dirs {
		os.RemoveAll(d)
	}
}

// ignoreTimes skips the timestamps of todos in comparisons.
var ignoreTimes = cmpopts.IgnoreFields(todo.Todo{}, "CreatedAt", "UpdatedAt")

func ExampleStart() {
	t := newExampleT() // in a test: func TestTodos(t *testing.T) {
	defer t.finish()

	tb := testbackend.Start(t, todo.Plugin)

	tb.Post("/api/todo/todos", map[string]any{"title": "write tests"}).
		AsUser("user:default/alice").
		Do(t).
		ExpectStatus(t, http.StatusCreated).
		ExpectJSON(t, todo.Todo{ID: 1, Title: "write tests"}, ignoreTimes)

	// Secure by default: no credentials, no todos.
	resp := tb.Get("/api/todo/todos").Do(t)
	fmt.Println(resp.Status)
	// Output: 401 Unauthorized
}

func ExampleNew() {
	t := newExampleT()
	defer t.finish()

	// A Setup holds options and may start any number of backends.
	asAlice := testbackend.New(testbackend.WithDefaultUser("user:default/alice"))
	for range 2 {
		tb := asAlice.Start(t, todo.Plugin)
		fmt.Println(tb.Get("/api/todo/todos").Do(t).Status)
	}
	// Output:
	// 200 OK
	// 200 OK
}

// errNoQuota is what the quota plugin of the next examples fails with.
var errNoQuota = errors.New("quota.limit must be positive")

// quotaPlugin refuses to start when its config is invalid.
var quotaPlugin = backend.NewPlugin("quota", backend.Init(func(ctx context.Context, d struct{ Config core.RootConfig }) error {
	limit, _, err := d.Config.OptionalInt("quota.limit")
	if err != nil {
		return err
	}
	if limit <= 0 {
		return fmt.Errorf("%w, got %d", errNoQuota, limit)
	}
	return nil
}))

func ExampleTryStart() {
	t := newExampleT() // in a test: func TestQuotaNeedsALimit(t *testing.T) {
	defer t.finish()

	// Without config the plugin refuses to start: assert the error.
	_, err := testbackend.TryStart(t, quotaPlugin)
	fmt.Println(errors.Is(err, errNoQuota))
	fmt.Println(err)
	// Output:
	// true
	// Plugin 'quota' startup failed: quota.limit must be positive, got 0
}

func ExampleSetup_TryStart() {
	t := newExampleT()
	defer t.finish()

	for _, limit := range []int{-1, 10} {
		_, err := testbackend.New(testbackend.WithConfig(map[string]any{"quota.limit": limit})).TryStart(t, quotaPlugin)
		fmt.Printf("limit %d: %v\n", limit, err)
	}
	// Output:
	// limit -1: Plugin 'quota' startup failed: quota.limit must be positive, got -1
	// limit 10: <nil>
}

func ExampleWithConfig() {
	t := newExampleT()
	defer t.finish()

	tb := testbackend.New(testbackend.WithConfig(map[string]any{
		"backend.http.maxRequestBodyBytes": 64,
	})).Start(t, todo.Plugin)
	resp := tb.Post("/api/todo/todos", map[string]any{"title": strings.Repeat("x", 100)}).
		AsUser("user:default/alice").
		Do(t)
	fmt.Println(resp.Status)
	// Output: 413 Request Entity Too Large
}

func ExampleWithDefaultUser() {
	t := newExampleT()
	defer t.finish()

	tb := testbackend.New(testbackend.WithDefaultUser("user:default/alice")).Start(t, todo.Plugin)
	fmt.Println(tb.Get("/api/todo/todos").Do(t).Status)
	fmt.Println(tb.Get("/api/todo/todos").WithoutCredentials().Do(t).Status)
	// Output:
	// 200 OK
	// 401 Unauthorized
}

// Handlers is an extension point of a "webhooks" plugin: its modules add
// handlers for events.
type Handlers interface {
	Add(event string, handle func(payload string))
}

var handlersPoint = core.NewExtensionPoint[Handlers]("example.webhooks.handlers")

// handlerSet records the events handlers were added for.
type handlerSet []string

func (h *handlerSet) Add(event string, _ func(string)) { *h = append(*h, event) }

func ExampleWithExtensionPoint() {
	t := newExampleT()
	defer t.finish()

	// The module under test, without its plugin.
	githubModule := backend.NewModule("webhooks", "github", backend.Init(func(ctx context.Context, d struct{ Handlers Handlers }) error {
		d.Handlers.Add("push", func(string) {})
		d.Handlers.Add("pull_request", func(string) {})
		return nil
	}))

	var added handlerSet
	testbackend.New(testbackend.WithExtensionPoint[Handlers](handlersPoint, &added)).Start(t, githubModule)
	fmt.Println(added)
	// Output: [push pull_request]
}

func ExampleWithRealAuth() {
	t := newExampleT()
	defer t.finish()

	tb := testbackend.New(testbackend.WithRealAuth()).Start(t, todo.Plugin)

	// The same helpers send real signed tokens...
	req := tb.Get("/api/todo/todos").AsUser("user:default/alice").Build(t)
	fmt.Println(strings.Count(req.Header.Get("Authorization"), "."), "dots: a JWT")
	fmt.Println(tb.Get("/api/todo/todos").AsUser("user:default/alice").Do(t).Status)

	// ...and the production verification rejects mock tokens.
	resp := tb.Get("/api/todo/todos").WithHeader("Authorization", mockcreds.User().Header()).Do(t)
	fmt.Println(resp.Status)
	// Output:
	// 2 dots: a JWT
	// 200 OK
	// 401 Unauthorized
}

func ExampleBackend_Client() {
	t := newExampleT()
	defer t.finish()

	tb := testbackend.Start(t, todo.Plugin)
	// A plain *http.Client, served in-process: no listener, no socket.
	resp, err := tb.Client().Get("/api/todo/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Status, strings.TrimSpace(string(body)))
	// Output: 200 OK {"status":"ok"}
}

func ExampleBackend_URL() {
	t := newExampleT()
	defer t.finish()

	tb := testbackend.Start(t, todo.Plugin)
	// A real server, started on first use, for any client.
	resp, err := http.Get(tb.URL() + "/.greenroom/health/v1/liveness")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
	// Output: 200 OK
}

func ExampleBackend_Get() {
	t := newExampleT()
	defer t.finish()

	tb := testbackend.Start(t, todo.Plugin)
	var list struct{ Items []todo.Todo }
	tb.Get("/api/todo/todos").AsUser("user:default/alice").Do(t).ExpectStatus(t, http.StatusOK).DecodeJSON(t, &list)
	fmt.Println(len(list.Items), "todos")
	// Output: 0 todos
}

func ExampleBackend_Post() {
	t := newExampleT()
	defer t.finish()

	tb := testbackend.Start(t, todo.Plugin)
	var created todo.Todo
	tb.Post("/api/todo/todos", map[string]any{"title": "buy milk"}).
		AsUser("user:default/alice").
		Do(t).
		ExpectStatus(t, http.StatusCreated).
		DecodeJSON(t, &created)
	fmt.Println(created.ID, created.Title)
	// Output: 1 buy milk
}

func ExampleBackend_Patch() {
	t := newExampleT()
	defer t.finish()

	tb := testbackend.New(testbackend.WithDefaultUser("user:default/alice")).Start(t, todo.Plugin)
	tb.Post("/api/todo/todos", map[string]any{"title": "buy milk"}).Do(t).ExpectStatus(t, http.StatusCreated)
	tb.Patch("/api/todo/todos/1", map[string]any{"done": true}).Do(t).
		ExpectJSON(t, todo.Todo{ID: 1, Title: "buy milk", Done: true}, ignoreTimes)
	fmt.Println(t.Failed())
	// Output: false
}

func ExampleBackend_Put() {
	t := newExampleT()
	defer t.finish()

	tb := testbackend.New(testbackend.WithDefaultUser("user:default/alice")).Start(t, todo.Plugin)
	// The todo plugin has no PUT route: the router answers 405.
	fmt.Println(tb.Put("/api/todo/todos/1", map[string]any{"title": "x"}).Do(t).Status)
	// Output: 405 Method Not Allowed
}

func ExampleBackend_Delete() {
	t := newExampleT()
	defer t.finish()

	tb := testbackend.New(testbackend.WithDefaultUser("user:default/alice")).Start(t, todo.Plugin)
	tb.Post("/api/todo/todos", map[string]any{"title": "buy milk"}).Do(t).ExpectStatus(t, http.StatusCreated)
	fmt.Println(tb.Delete("/api/todo/todos/1").Do(t).Status)
	fmt.Println(tb.Delete("/api/todo/todos/1").Do(t).Status)
	// Output:
	// 204 No Content
	// 404 Not Found
}

func ExampleBackend_NewRequest() {
	t := newExampleT()
	defer t.finish()

	tb := testbackend.Start(t, todo.Plugin)
	resp := tb.NewRequest(http.MethodPost, "/api/todo/todos", `{"title": "raw JSON"}`).
		WithHeader("Content-Type", "application/json").
		AsUser("user:default/alice").
		Do(t)
	fmt.Println(resp.Status)
	// Output: 201 Created
}

func ExampleBackend_PluginIDs() {
	t := newExampleT()
	defer t.finish()

	orphan := backend.NewModule("catalog", "extras", backend.Init(func(context.Context, struct{}) error { return nil }))
	tb := testbackend.Start(t, todo.Plugin, orphan)
	fmt.Println(tb.PluginIDs()) // catalog is the empty host plugin of the module
	// Output: [catalog todo]
}

func ExampleBackend_AssertSecureByDefault() {
	t := newExampleT()
	defer t.finish()

	tb := testbackend.Start(t, todo.Plugin)
	// Every route of every plugin answers 401 without credentials, except
	// the routes the test lists as public: the todo plugin's health check.
	// An auth policy broader than meant, such as AddAuthPolicy("/", ...),
	// would open the other routes too, and the sweep would report them.
	tb.AssertSecureByDefault(t, "GET /api/todo/health")
	fmt.Println(t.Failed())
	// Output: false
}

func ExampleService() {
	t := newExampleT()
	defer t.finish()

	tb := testbackend.New(testbackend.WithDefaultUser("user:default/alice")).Start(t, todo.Plugin)
	tb.Post("/api/todo/todos", map[string]any{"title": "buy milk"}).Do(t).ExpectStatus(t, http.StatusCreated)

	// The mock root logger captured what the plugin logged.
	log := testbackend.Service(t, tb, core.RootLoggerRef, "").(*mockservices.LoggerService)
	fmt.Println(log.Contains("todo created", "plugin", "todo", "owner", "user:default/alice"))

	// The plugin's database is there to inspect.
	db, err := testbackend.Service(t, tb, core.DatabaseRef, "todo").DB(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM todos").Scan(&n); err != nil {
		t.Fatal(err)
	}
	fmt.Println(n, "row")
	// Output:
	// true
	// 1 row
}

func ExampleNewFactoryTester() {
	t := newExampleT()
	defer t.finish()

	// greeterFactory reads greeter.greeting from the config and builds a
	// Greeter for each plugin.
	ft := testbackend.New(testbackend.WithConfig(map[string]any{
		"greeter.greeting": "Hello",
	})).NewFactoryTester(t, greeterFactory)
	g := testbackend.Service(t, ft, greeterRef, "catalog")
	fmt.Println(g.Greet("Ada"))
	// Output: Hello, Ada, from catalog
}

func ExampleRequest_AsUser() {
	t := newExampleT()
	defer t.finish()

	tb := testbackend.Start(t, todo.Plugin)
	tb.Post("/api/todo/todos", map[string]any{"title": "alice's"}).AsUser("user:default/alice").Do(t)
	// Another user's todo is not found, exactly like a missing one.
	fmt.Println(tb.Get("/api/todo/todos/1").AsUser("user:default/bob").Do(t).Status)
	// Output: 404 Not Found
}

func ExampleRequest_AsService() {
	t := newExampleT()
	defer t.finish()

	tb := testbackend.Start(t, todo.Plugin)
	// Todos belong to users: the plugin refuses service callers.
	body := tb.Get("/api/todo/todos").AsService("plugin:catalog").Do(t).ExpectError(t, errs.NotAllowed)
	fmt.Println(body.Error.Message)
	// Output: This endpoint does not allow 'service' credentials
}

func ExampleRequest_OnBehalfOf() {
	t := newExampleT()
	defer t.finish()

	tb := testbackend.Start(t, todo.Plugin)
	// A plugin calling on behalf of a user acts as that user.
	tb.Post("/api/todo/todos", map[string]any{"title": "via catalog"}).
		AsService("plugin:catalog").OnBehalfOf("user:default/alice").
		Do(t).ExpectStatus(t, http.StatusCreated)
	var list struct{ Items []todo.Todo }
	tb.Get("/api/todo/todos").AsUser("user:default/alice").Do(t).DecodeJSON(t, &list)
	fmt.Println(list.Items[0].Title)
	// Output: via catalog
}

func ExampleRequest_AsLimitedUser() {
	t := newExampleT()
	defer t.finish()

	tb := testbackend.Start(t, todo.Plugin)
	// The auth cookie is only accepted where a user-cookie policy says so.
	fmt.Println(tb.Get("/api/todo/todos").AsLimitedUser("user:default/alice").Do(t).Status)
	// Output: 401 Unauthorized
}

func ExampleRequest_WithoutCredentials() {
	t := newExampleT()
	defer t.finish()

	tb := testbackend.New(testbackend.WithDefaultUser("user:default/alice")).Start(t, todo.Plugin)
	body := tb.Get("/api/todo/todos").WithoutCredentials().Do(t).ExpectError(t, errs.Authentication)
	fmt.Println(body.Error.Message)
	// Output: Missing credentials
}

func ExampleRequest_WithInvalidToken() {
	t := newExampleT()
	defer t.finish()

	tb := testbackend.Start(t, todo.Plugin)
	body := tb.Get("/api/todo/todos").AsUser("user:default/alice").WithInvalidToken().Do(t).ExpectError(t, errs.Authentication)
	fmt.Println(body.Error.Message)
	// Output: User token is invalid
}

func ExampleRequest_WithHeader() {
	t := newExampleT()
	defer t.finish()

	tb := testbackend.Start(t, todo.Plugin)
	resp := tb.Get("/api/todo/todos").WithHeader("Authorization", mockcreds.User("user:default/alice").Header()).Do(t)
	fmt.Println(resp.Status)
	// Output: 200 OK
}

func ExampleRequest_WithContext() {
	t := newExampleT()
	defer t.finish()

	tb := testbackend.Start(t, todo.Plugin)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	fmt.Println(tb.Get("/api/todo/health").WithContext(ctx).Do(t).Status)
	// Output: 200 OK
}

func ExampleRequest_Build() {
	t := newExampleT()
	defer t.finish()

	tb := testbackend.Start(t, todo.Plugin)
	req := tb.Get("/api/todo/todos").AsService("plugin:catalog").Build(t)
	fmt.Println(req.Method, req.URL, req.Header.Get("Authorization"))
	// Output: GET /api/todo/todos Bearer mock-service-token:{"sub":"plugin:catalog","target":"todo"}
}

func ExampleRequest_Do() {
	t := newExampleT()
	defer t.finish()

	tb := testbackend.Start(t, todo.Plugin)
	resp := tb.Get("/api/todo/health").Do(t)
	fmt.Println(resp.StatusCode, resp.Header.Get("Content-Type"))
	// Output: 200 application/json; charset=utf-8
}

func ExampleResponse_ExpectStatus() {
	t := newExampleT()
	defer t.finish()

	tb := testbackend.Start(t, todo.Plugin)
	tb.Get("/api/todo/health").Do(t).ExpectStatus(t, http.StatusOK)
	fmt.Println(t.Failed())
	// Output: false
}

func ExampleResponse_ExpectJSON() {
	t := newExampleT()
	defer t.finish()

	tb := testbackend.Start(t, todo.Plugin)
	// A map compares the JSON as decoded, field by field.
	tb.Get("/api/todo/health").Do(t).ExpectJSON(t, map[string]any{"status": "ok"})
	fmt.Println(t.Failed())
	// Output: false
}

func ExampleResponse_DecodeJSON() {
	t := newExampleT()
	defer t.finish()

	tb := testbackend.Start(t, todo.Plugin)
	var health struct{ Status string }
	tb.Get("/api/todo/health").Do(t).DecodeJSON(t, &health)
	fmt.Println(health.Status)
	// Output: ok
}

func ExampleResponse_ExpectError() {
	t := newExampleT()
	defer t.finish()

	tb := testbackend.Start(t, todo.Plugin)
	body := tb.Post("/api/todo/todos", map[string]any{"title": ""}).AsUser("user:default/alice").Do(t).ExpectError(t, errs.Input)
	fmt.Println(body.Response.StatusCode, body.Error.Message)
	// Output: 400 Invalid request body: title is required
}

func ExampleResponse_Bytes() {
	t := newExampleT()
	defer t.finish()

	tb := testbackend.Start(t, todo.Plugin)
	fmt.Printf("%s", tb.Get("/api/todo/health").Do(t).Bytes())
	// Output: {"status":"ok"}
}

func ExampleResponse_String() {
	t := newExampleT()
	defer t.finish()

	tb := testbackend.Start(t, todo.Plugin)
	fmt.Println(tb.Get("/api/todo/health").Do(t))
	// Output: GET /api/todo/health: 200 OK {"status":"ok"}
}

// A fuzz target of a plugin's repository: go test replays the seed corpus
// (every route, caller and a few bodies), go test -fuzz mutates it. The
// backend is started once per fuzz process, with f.
func ExampleBackend_FuzzRoutes() {
	fuzzTodoRoutes := func(f *testing.F) {
		tb := testbackend.Start(f, todo.Plugin)
		tb.FuzzRoutes(f,
			testbackend.FuzzPublic("GET /api/todo/health"),
			testbackend.FuzzBodies(`{"title":"milk"}`, `{"done":true}`),
		)
	}
	_ = fuzzTodoRoutes // in a _test.go file: func FuzzTodoRoutes(f *testing.F) { ... }
}
