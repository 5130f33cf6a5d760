package openapitest_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/examples/todo"
	"github.com/greenroom-dev/greenroom/testbackend"
	"github.com/greenroom-dev/greenroom/testbackend/openapitest"
)

// notesSpec describes the notes plugin of newContractNotes.
const notesSpec = `
openapi: 3.0.3
info: {title: notes, version: "1"}
security: [{bearer: []}]
paths:
  /notes:
    post:
      operationId: createNote
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              additionalProperties: false
              required: [text]
              properties:
                text: {type: string, minLength: 1}
      responses:
        "201":
          description: created
          content:
            application/json:
              schema:
                type: object
                additionalProperties: false
                required: [id]
                properties:
                  id: {type: integer}
        "400": {description: refused}
        "401": {description: no credentials}
  /notes/{id}:
    get:
      operationId: getNote
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      responses:
        "200":
          description: the note
          content:
            application/json:
              schema:
                type: object
                required: [id, text]
                properties:
                  id: {type: integer}
                  text: {type: string}
        "401": {description: no credentials}
  /files/{path}:
    get:
      operationId: getFile
      security: []
      parameters:
        - {name: path, in: path, required: true, schema: {type: string}}
      responses:
        "200": {description: a file}
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer}
`

// newContractNotes returns a plugin "notes" matching notesSpec, but for what the
// mode says: "strict" refuses a body without text (400); "lax" accepts
// anything with 201; "badget" answers GET /notes/{id} with text as a
// number; "teapot" answers it 418; "extra" also serves GET /extra.
func newContractNotes(mode string) *backend.Plugin {
	return backend.NewPlugin("notes", backend.Init(func(ctx context.Context, d struct{ Router core.HTTPRouter }) error {
		d.Router.HandleFunc("POST /notes", func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			if mode != "lax" && !strings.Contains(string(body), `"text":"`) {
				http.Error(w, "text is required", http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"id":1}`)
		})
		d.Router.HandleFunc("GET /notes/{id}", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if mode == "teapot" {
				w.WriteHeader(http.StatusTeapot)
				return
			}
			if mode == "badget" {
				io.WriteString(w, `{"id":1,"text":7}`)
				return
			}
			io.WriteString(w, `{"id":1,"text":"hi"}`)
		})
		// A pattern without a method, described by the operations on
		// its path.
		d.Router.HandleFunc("/files/{path...}", func(w http.ResponseWriter, r *http.Request) {})
		d.Router.AddAuthPolicy("/files", core.AllowUnauthenticated)
		if mode == "extra" {
			d.Router.HandleFunc("GET /extra", func(w http.ResponseWriter, r *http.Request) {})
		}
		return nil
	}))
}

func TestWithOpenAPIValid(t *testing.T) {
	t.Parallel()
	f := record(t, func(ft testing.TB) {
		tb := testbackend.New(openapitest.WithOpenAPI("notes", []byte(notesSpec)), testbackend.WithDefaultUser("user:default/mock")).Start(ft, newContractNotes("strict"), echo)
		tb.Post("/api/notes/notes", map[string]string{"text": "hi"}).Do(ft).ExpectStatus(ft, http.StatusCreated)
		tb.Get("/api/notes/notes/1").Do(ft).ExpectStatus(ft, http.StatusOK)
		// Refused on purpose: the invalid request is not reported.
		tb.Post("/api/notes/notes", map[string]string{"other": "x"}).Do(ft).ExpectStatus(ft, http.StatusBadRequest)
		// Refused by the barrier: 401 is documented.
		tb.Get("/api/notes/notes/1").WithoutCredentials().Do(ft).ExpectStatus(ft, http.StatusUnauthorized)
		// A route the mux does not have is not a contract problem.
		tb.Get("/api/notes/nothing").Do(ft).ExpectStatus(ft, http.StatusNotFound)
		// Another plugin's requests are not checked.
		tb.Get("/api/echo/health").Do(ft).ExpectStatus(ft, http.StatusOK)
	})
	if got := f.output(); got != "" {
		t.Errorf("valid traffic was reported:\n%s", got)
	}
}

func TestWithOpenAPIReports(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		mode string
		send func(tb *testbackend.Backend, t testing.TB)
		want []string
	}{
		{
			name: "invalid request accepted",
			mode: "lax",
			send: func(tb *testbackend.Backend, t testing.TB) {
				tb.Post("/api/notes/notes", map[string]string{"other": "x"}).Do(t)
			},
			want: []string{
				"plugin 'notes': POST /api/notes/notes, operation POST /notes (createNote)",
				"the request does not match the document, yet the plugin answered 201",
				`property "text" is missing`,
			},
		},
		{
			name: "invalid response",
			mode: "badget",
			send: func(tb *testbackend.Backend, t testing.TB) { tb.Get("/api/notes/notes/1").Do(t) },
			want: []string{
				"GET /api/notes/notes/1, operation GET /notes/{id} (getNote)",
				"the response 200",
				"value must be a string",
				`body: {"id":1,"text":7}`,
			},
		},
		{
			name: "over the real listener",
			mode: "badget",
			send: func(tb *testbackend.Backend, t testing.TB) {
				req := tb.Get(tb.URL() + "/api/notes/notes/1").AsUser("user:default/mock").Build(t)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			},
			want: []string{"GET /api/notes/notes/1, operation GET /notes/{id}", "value must be a string"},
		},
		{
			name: "invalid path parameter accepted",
			mode: "strict",
			send: func(tb *testbackend.Backend, t testing.TB) { tb.Get("/api/notes/notes/abc").Do(t) },
			want: []string{"GET /api/notes/notes/abc", "yet the plugin answered 200", `parameter "id" in path`},
		},
		{
			name: "undocumented status",
			mode: "teapot",
			send: func(tb *testbackend.Backend, t testing.TB) { tb.Get("/api/notes/notes/1").Do(t) },
			want: []string{"GET /api/notes/notes/1, operation GET /notes/{id}", "the response 418", "status is not supported"},
		},
		{
			name: "undocumented route",
			mode: "extra",
			send: func(tb *testbackend.Backend, t testing.TB) { tb.Get("/api/notes/extra").Do(t) },
			want: []string{
				"GET /api/notes/extra was answered 200 but the document describes no operation GET /extra",
				`route "GET /extra" is served but the document does not describe it`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := record(t, func(ft testing.TB) {
				tb := testbackend.New(openapitest.WithOpenAPI("notes", []byte(notesSpec)), testbackend.WithDefaultUser("user:default/mock")).Start(ft, newContractNotes(tt.mode))
				tt.send(tb, ft)
			})
			got := f.output()
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("the failures do not contain %q; they are:\n%s", w, got)
				}
			}
		})
	}
}

func TestWithOpenAPIStartErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opt  testbackend.Option
		want string
	}{
		{"not a document", openapitest.WithOpenAPI("notes", []byte("{")), "WithOpenAPI: plugin 'notes': parsing the OpenAPI document"},
		{"invalid document", openapitest.WithOpenAPI("notes", []byte("openapi: 3.0.3\ninfo: {title: x, version: '1'}\npaths:\n  /a:\n    get: {}\n")), "WithOpenAPI: plugin 'notes': the OpenAPI document is invalid"},
		{"not a plugin", openapitest.WithOpenAPI("other", []byte(notesSpec)), "WithOpenAPI: plugin 'other' is not a plugin of the backend"},
		{"invalid id", openapitest.WithOpenAPI("a/b", []byte(notesSpec)), `invalid plugin id "a/b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := testbackend.New(tt.opt).TryStart(t, newContractNotes("strict"))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("TryStart error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// Two documents for one plugin fail the start, naming the plugin.
func TestWithOpenAPITwoDocumentsForOnePlugin(t *testing.T) {
	t.Parallel()
	_, err := testbackend.New(
		openapitest.WithOpenAPI("notes", []byte(notesSpec)),
		openapitest.WithOpenAPI("notes", []byte(notesSpec)),
	).TryStart(t, newContractNotes("strict"))
	if want := "WithOpenAPI: plugin 'notes' is given two documents"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("TryStart error %v, want one containing %q", err, want)
	}
}

// helloSpec describes GET /hello of newHello, not its GET /bye.
const helloSpec = `
openapi: 3.0.3
info: {title: hello, version: "1"}
paths:
  /hello:
    get:
      responses:
        "200": {description: a greeting, content: {text/plain: {schema: {type: string}}}}
`

// newHello returns a plugin "hello" serving GET /hello and GET /bye
// without credentials.
func newHello() *backend.Plugin {
	return backend.NewPlugin("hello", backend.Init(func(ctx context.Context, d struct{ Router core.HTTPRouter }) error {
		d.Router.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, "hello")
		})
		d.Router.HandleFunc("GET /bye", func(w http.ResponseWriter, r *http.Request) {})
		d.Router.AddAuthPolicy("/", core.AllowUnauthenticated)
		return nil
	}))
}

// With the documents of two plugins, each plugin's requests are checked
// against its own document only, and each plugin's routes are compared
// with its own document.
func TestWithOpenAPITwoPlugins(t *testing.T) {
	t.Parallel()
	f := record(t, func(ft testing.TB) {
		tb := testbackend.New(
			openapitest.WithOpenAPI("notes", []byte(notesSpec)),
			openapitest.WithOpenAPI("hello", []byte(helloSpec)),
			testbackend.WithDefaultUser("user:default/mock"),
		).Start(ft, newContractNotes("badget"), newHello())
		tb.Get("/api/notes/notes/1").Do(ft)
		tb.Get("/api/hello/hello").Do(ft).ExpectStatus(ft, http.StatusOK)
	})
	got := f.output()
	for _, w := range []string{
		"plugin 'notes': GET /api/notes/notes/1, operation GET /notes/{id}",
		"plugin 'hello': its routes and its OpenAPI document differ",
		`route "GET /bye" is served but the document does not describe it`,
	} {
		if !strings.Contains(got, w) {
			t.Errorf("the failures do not contain %q; they are:\n%s", w, got)
		}
	}
	if n := strings.Count(got, "value must be a string"); n != 1 {
		t.Errorf("the response of notes was reported %d times, want once:\n%s", n, got)
	}
	if strings.Contains(got, "plugin 'hello': GET") || strings.Contains(got, "plugin 'notes': GET /api/hello") {
		t.Errorf("a plugin's request was checked against the other plugin's document:\n%s", got)
	}
	if n := strings.Count(got, "its routes and its OpenAPI document differ"); n != 1 {
		t.Errorf("want one coverage report (hello's), got %d:\n%s", n, got)
	}
}

func TestWithOpenAPIInstances(t *testing.T) {
	t.Parallel()
	f := record(t, func(ft testing.TB) {
		tbs := testbackend.New(openapitest.WithOpenAPI("notes", []byte(notesSpec)), testbackend.WithDefaultUser("user:default/mock")).StartInstances(ft, 2, newContractNotes("badget"))
		tbs[1].Get("/api/notes/notes/1").Do(ft)
	})
	if got := f.output(); strings.Count(got, "value must be a string") != 1 {
		t.Errorf("want one report of the response of instance 1, got:\n%s", got)
	}
}

// BenchmarkOpenAPIRequest is the cost of the check on a request: GET of a
// todo, with and without WithOpenAPI.
func BenchmarkOpenAPIRequest(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts []testbackend.Option
	}{
		{"plain", nil},
		{"WithOpenAPI", []testbackend.Option{openapitest.WithOpenAPI(todo.PluginID, todo.OpenAPI)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			opts := append([]testbackend.Option{testbackend.WithDefaultUser("user:default/alice")}, bc.opts...)
			tb := testbackend.New(opts...).Start(b, todo.Plugin)
			tb.Post("/api/todo/todos", map[string]any{"title": "x"}).Do(b).ExpectStatus(b, http.StatusCreated)
			req := tb.Get("/api/todo/todos/1")
			b.ReportAllocs()
			for b.Loop() {
				req.Do(b).ExpectStatus(b, http.StatusOK)
			}
		})
	}
}

// BenchmarkOpenAPIStart is the cost of WithOpenAPI on a start: the
// document is parsed once per option, so a start pays the route listing.
func BenchmarkOpenAPIStart(b *testing.B) {
	setup := testbackend.New(openapitest.WithOpenAPI(todo.PluginID, todo.OpenAPI))
	b.ReportAllocs()
	for b.Loop() {
		o := &opTB{TB: b}
		setup.Start(o, todo.Plugin)
		o.end()
	}
}
