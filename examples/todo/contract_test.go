package todo_test

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/examples/todo"
	"github.com/greenroom-dev/greenroom/httpjson"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/testbackend"
	"github.com/greenroom-dev/greenroom/testbackend/openapitest"
	"github.com/greenroom-dev/greenroom/testdatabases"
)

// TestContract runs the CRUD flow, refused requests and the errors of the
// plugin on every engine with the plugin's OpenAPI document checked on
// every request and response, and its routes compared with the document's
// operations when the test ends.
func TestContract(t *testing.T) {
	t.Parallel()
	setup := testbackend.New(openapitest.WithOpenAPI(todo.PluginID, todo.OpenAPI))
	testdatabases.New(t, testdatabases.WithMigrator(todo.Migrations)).Each(t, func(t *testing.T, db *testdatabases.DB) {
		tb := setup.Start(t, todo.Plugin, mockservices.DatabaseFactory(t, mockservices.FromTestDatabase(db)))
		steps := []struct {
			name       string
			req        *testbackend.Request
			wantStatus int
		}{
			{"health", tb.Get("/api/todo/health").WithoutCredentials(), http.StatusOK},
			{"empty list", tb.Get("/api/todo/todos").AsUser(alice), http.StatusOK},
			{"create", tb.Post("/api/todo/todos", map[string]any{"title": "buy milk"}).AsUser(alice), http.StatusCreated},
			{"create done", tb.Post("/api/todo/todos", map[string]any{"title": "walk", "done": true}).AsUser(alice), http.StatusCreated},
			{"duplicate", tb.Post("/api/todo/todos", map[string]any{"title": "walk"}).AsUser(alice), http.StatusConflict},
			{"get", tb.Get("/api/todo/todos/1").AsUser(alice), http.StatusOK},
			{"list", tb.Get("/api/todo/todos").AsUser(alice), http.StatusOK},
			{"mark done", tb.Patch("/api/todo/todos/1", map[string]any{"done": true}).AsUser(alice), http.StatusOK},
			{"rename", tb.Patch("/api/todo/todos/1", map[string]any{"title": "buy oat milk"}).AsUser(alice), http.StatusOK},
			{"another user's", tb.Get("/api/todo/todos/1").AsUser(bob), http.StatusNotFound},
			{"delete", tb.Delete("/api/todo/todos/2").AsUser(alice), http.StatusNoContent},
			{"get deleted", tb.Get("/api/todo/todos/2").AsUser(alice), http.StatusNotFound},
			{"patch deleted", tb.Patch("/api/todo/todos/2", map[string]any{"done": false}).AsUser(alice), http.StatusNotFound},
			// Invalid requests on purpose: refused, so not reported.
			{"missing title", tb.Post("/api/todo/todos", map[string]any{"done": true}).AsUser(alice), http.StatusBadRequest},
			{"unknown field", tb.Post("/api/todo/todos", map[string]any{"title": "x", "priority": 1}).AsUser(alice), http.StatusBadRequest},
			{"not a number", tb.Get("/api/todo/todos/abc").AsUser(alice), http.StatusBadRequest},
			{"blank title", tb.Patch("/api/todo/todos/1", map[string]any{"title": "  "}).AsUser(alice), http.StatusBadRequest},
			{"no credentials", tb.Get("/api/todo/todos").WithoutCredentials(), http.StatusUnauthorized},
			{"a service", tb.Get("/api/todo/todos").AsService("plugin:catalog"), http.StatusForbidden},
		}
		for _, s := range steps {
			s.req.Do(t).ExpectStatus(t, s.wantStatus)
		}
		// The real listener is checked too.
		resp, err := http.Get(tb.URL() + "/api/todo/health")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	})
}

// TestContractReportsViolations proves the check can fail: a plugin
// mounted as todo that serves a route the document does not describe,
// answers /health with a body the schema refuses, accepts a body the
// document forbids and lacks the document's other operations.
func TestContractReportsViolations(t *testing.T) {
	t.Parallel()
	impostor := backend.NewPlugin(todo.PluginID, backend.Init(func(ctx context.Context, d struct {
		Router core.HTTPRouter
	}) error {
		d.Router.Handle("GET /health", httpjson.Handler(func(w http.ResponseWriter, r *http.Request) error {
			return httpjson.Write(w, http.StatusOK, map[string]string{"status": "fine"})
		}))
		d.Router.Handle("POST /todos", httpjson.Handler(func(w http.ResponseWriter, r *http.Request) error {
			return httpjson.Write(w, http.StatusCreated, map[string]any{"id": 1, "title": "x", "done": false, "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z"})
		}))
		d.Router.Handle("GET /stats", httpjson.Handler(func(w http.ResponseWriter, r *http.Request) error {
			return httpjson.Write(w, http.StatusOK, map[string]int{"count": 0})
		}))
		d.Router.AddAuthPolicy("/", core.AllowUnauthenticated)
		return nil
	}))
	f := record(t, func(ft testing.TB) {
		tb := testbackend.New(openapitest.WithOpenAPI(todo.PluginID, todo.OpenAPI)).Start(ft, impostor)
		tb.Get("/api/todo/health").Do(ft)
		tb.Post("/api/todo/todos", map[string]any{"title": ""}).Do(ft)
		tb.Get("/api/todo/stats").Do(ft)
	})
	got := f.output()
	for _, want := range []string{
		// The response that breaks the schema.
		"plugin 'todo': GET /api/todo/health, operation GET /health (health)",
		"the response 200",
		`value is not one of the allowed values ["ok"]`,
		// The request the document forbids, accepted.
		"POST /api/todo/todos, operation POST /todos (createTodo)",
		"the request does not match the document, yet the plugin answered 201",
		// The request to a route the document lacks, answered 2xx.
		"GET /api/todo/stats was answered 200 but the document describes no operation GET /stats",
		// At the end: the route missing from the document, and the
		// document's operations the plugin does not serve, in one message.
		`route "GET /stats" is served but the document does not describe it`,
		`operation "GET /todos" is in the document but the plugin does not serve it`,
		`operation "DELETE /todos/{id}" is in the document but the plugin does not serve it`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the failures do not contain %q; they are:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "its routes and its OpenAPI document differ"); n != 1 {
		t.Errorf("the coverage is reported %d times, want once:\n%s", n, got)
	}
}

// TestContractLogCoverageGaps: with LogCoverageGaps, the coverage gaps do
// not fail the test.
func TestContractLogCoverageGaps(t *testing.T) {
	t.Parallel()
	partial := backend.NewPlugin(todo.PluginID, backend.Init(func(ctx context.Context, d struct {
		Router core.HTTPRouter
	}) error {
		d.Router.Handle("GET /health", httpjson.Handler(func(w http.ResponseWriter, r *http.Request) error {
			return httpjson.Write(w, http.StatusOK, map[string]string{"status": "ok"})
		}))
		d.Router.AddAuthPolicy("/health", core.AllowUnauthenticated)
		return nil
	}))
	f := record(t, func(ft testing.TB) {
		tb := testbackend.New(openapitest.WithOpenAPI(todo.PluginID, todo.OpenAPI, openapitest.LogCoverageGaps())).Start(ft, partial)
		tb.Get("/api/todo/health").Do(ft).ExpectStatus(ft, http.StatusOK)
	})
	if got := f.output(); got != "" {
		t.Errorf("the test failed: %s", got)
	}
}

// fakeTB records failures instead of failing; the rest goes to the real
// test's TB. Run code with it through record.
type fakeTB struct {
	testing.TB
	mu       sync.Mutex
	errors   []string
	cleanups []func()
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

func (f *fakeTB) Error(args ...any) { f.Errorf("%s", fmt.Sprint(args...)) }

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	runtime.Goexit()
}

func (f *fakeTB) Fatal(args ...any) { f.Fatalf("%s", fmt.Sprint(args...)) }
func (f *fakeTB) FailNow()          { f.Fatalf("FailNow") }
func (f *fakeTB) Fail()             { f.Errorf("Fail") }

func (f *fakeTB) Failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.errors) > 0
}

func (f *fakeTB) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}

func (f *fakeTB) output() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.errors, "\n")
}

// record runs fn with a fakeTB in a goroutine of its own, as the testing
// package runs a test, then the cleanups it registered, last first.
func record(t *testing.T, fn func(tb testing.TB)) *fakeTB {
	t.Helper()
	f := &fakeTB{TB: t}
	for _, run := range []func(){
		func() { fn(f) },
		func() {
			f.mu.Lock()
			cleanups := f.cleanups
			f.mu.Unlock()
			for _, c := range slices.Backward(cleanups) {
				c()
			}
		},
	} {
		done := make(chan struct{})
		go func() {
			defer close(done)
			run()
		}()
		<-done
	}
	return f
}
