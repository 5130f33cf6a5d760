package mockservices_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"testing"
	"testing/fstest"

	"github.com/DATA-DOG/go-sqlmock"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/migrate"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/mockservices/mockcreds"
	"github.com/greenroom-dev/greenroom/testbackend"
	"github.com/greenroom-dev/greenroom/testdatabases"
)

// exampleT stands in for the *testing.T of a test so that the examples of
// functions that take one can run: it runs the cleanups when the example
// ends, as the testing package does when a test ends.
type exampleT struct {
	testing.TB
	cleanups []func()
	dir      string
}

func newExampleT() *exampleT { return &exampleT{} }

func (t *exampleT) Helper()                           {}
func (t *exampleT) Failed() bool                      { return false }
func (t *exampleT) Cleanup(fn func())                 { t.cleanups = append(t.cleanups, fn) }
func (t *exampleT) Errorf(format string, args ...any) { fmt.Printf("FAIL: "+format+"\n", args...) }
func (t *exampleT) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (t *exampleT) Context() context.Context          { return context.Background() }
func (t *exampleT) Name() string                      { return "Example" }
func (t *exampleT) Logf(string, ...any)               {}
func (t *exampleT) TempDir() string {
	if t.dir == "" {
		var err error
		if t.dir, err = os.MkdirTemp("", "mockservices-example-"); err != nil {
			panic(err)
		}
		t.Cleanup(func() { os.RemoveAll(t.dir) })
	}
	return t.dir
}

func (t *exampleT) finish() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}

func ExampleAuth() {
	ctx := context.Background()
	todo := mockservices.Auth("todo")

	// A token for the catalog plugin, on behalf of alice.
	alice := mockcreds.User("user:default/alice").Credentials()
	token, _ := todo.PluginRequestToken(ctx, alice, "catalog")
	fmt.Println(token)

	c, _ := mockservices.Auth("catalog").Authenticate(ctx, token)
	fmt.Println("catalog sees", c)
	_, err := mockservices.Auth("search").Authenticate(ctx, token)
	fmt.Println("search:", err)
	_, err = todo.Authenticate(ctx, mockcreds.InvalidUserToken)
	fmt.Println(err)

	for _, call := range todo.Calls() {
		fmt.Println(call)
	}
	// Output:
	// mock-service-token:{"sub":"plugin:todo","target":"catalog","obo":"user:default/alice"}
	// catalog sees credentials{user user:default/alice}
	// search: AuthenticationError: Invalid mock token target plugin ID, got 'catalog' but expected 'search'
	// AuthenticationError: User token is invalid
	// PluginRequestToken(credentials{user user:default/alice}, "catalog")
	// Authenticate("mock-invalid-user-token") = AuthenticationError: User token is invalid
}

func ExampleHTTPAuth() {
	h := mockservices.HTTPAuth(mockservices.Auth("todo"))

	req := httptest.NewRequest(http.MethodGet, "/api/todo/todos", nil)
	_, err := h.Credentials(req, core.PrincipalUser)
	fmt.Println(err)

	req.Header.Set("Authorization", mockcreds.ServiceCaller(mockcreds.ServiceOptions{}).Header())
	_, err = h.Credentials(req, core.PrincipalUser)
	fmt.Println(err)
	// Output:
	// AuthenticationError: Missing credentials
	// NotAllowedError: This endpoint does not allow 'service' credentials
}

func ExampleWithDefaultCredentials() {
	h := mockservices.HTTPAuth(mockservices.Auth("todo"),
		mockservices.WithDefaultCredentials(mockcreds.User().Credentials()))
	c, _ := h.Credentials(httptest.NewRequest(http.MethodGet, "/api/todo/todos", nil))
	fmt.Println(c)
	// Output: credentials{user user:default/mock}
}

func ExampleUserInfo() {
	_, err := mockservices.UserInfo().Get(context.Background(), mockcreds.None().Credentials())
	fmt.Println(err)
	// Output: InputError: Only user credentials are supported
}

func ExampleDiscovery() {
	d := mockservices.Discovery("http://127.0.0.1:7007")
	u, _ := d.BaseURL(context.Background(), "catalog")
	fmt.Println(u)
	fmt.Println(d.Calls())
	// Output:
	// http://127.0.0.1:7007/api/catalog
	// [BaseURL("catalog")]
}

func ExampleConfig() {
	cfg := mockservices.Config(map[string]any{
		"backend": map[string]any{"listen": map[string]any{"port": 8080}},
	})
	port, _ := cfg.Int("backend.listen.port")
	_, err := cfg.String("backend.baseUrl")
	fmt.Println(port)
	fmt.Println(err)
	// Output:
	// 8080
	// config key "backend.baseUrl" is missing
}

func ExampleLogger() {
	t := newExampleT() // in a test, the test's t
	defer t.finish()

	log := mockservices.Logger(t)
	log.With("plugin", "todo").Info("todo created", "id", 42)

	fmt.Println(log.Contains("todo created", "plugin", "todo", "id", 42))
	fmt.Println(log.Records())
	errors := log.Filter(func(r mockservices.LogRecord) bool { return r.Level >= slog.LevelError })
	fmt.Println(len(errors))
	// Output:
	// true
	// [INFO todo created id=42 plugin=todo]
	// 0
}

func ExampleLifecycle() {
	ctx := context.Background()
	lc := mockservices.Lifecycle()
	_ = lc.AddStartupHook(func(context.Context) error { fmt.Println("started"); return nil })
	_ = lc.AddShutdownHook(func(context.Context) error { fmt.Println("stopped"); return nil })

	_ = lc.RunStartupHooks(ctx)
	fmt.Println(lc.AddStartupHook(func(context.Context) error { return nil }))
	_ = lc.RunShutdownHooks(ctx)
	// Output:
	// started
	// attempted to add a startup hook after startup; add hooks in the plugin's init
	// stopped
}

func ExampleRootHealth() {
	h := mockservices.RootHealth()
	h.SetReadiness(core.HealthStatus{Status: "error", Message: "warming up"})
	fmt.Println(h.Readiness(context.Background()))
	// Output: {error warming up}
}

func ExampleDatabase() {
	t := newExampleT() // in a test, the test's t
	defer t.finish()

	db, _ := mockservices.Database(t).DB(context.Background())
	_, _ = db.Exec("CREATE TABLE todos (title TEXT)")
	_, _ = db.Exec("INSERT INTO todos VALUES ('write tests')")
	var title string
	_ = db.QueryRow("SELECT title FROM todos").Scan(&title)
	fmt.Println(title)
	// Output: write tests
}

func ExampleSQLMock() {
	t := newExampleT() // in a test, the test's t
	defer t.finish()

	d, mock := mockservices.SQLMock(t, core.DialectPostgres)
	mock.ExpectQuery("SELECT title FROM todos").WillReturnError(errors.New("connection reset"))

	db, _ := d.DB(context.Background())
	_, err := db.Query("SELECT title FROM todos")
	fmt.Println(err)
	// Output: connection reset
}

// A plugin that migrates its database in init, like examples/todo, starts
// on the sqlmock database when its migrations are skipped; the mock then
// answers the queries of its routes.
func ExampleSQLMock_migratingPlugin() {
	t := newExampleT() // in a test, the test's t
	defer t.finish()

	migrations := fstest.MapFS{"migrations/00001_todos.sql": {Data: []byte("-- +goose Up\nCREATE TABLE todos (title TEXT NOT NULL);\n")}}
	plugin := backend.NewPlugin("todo", backend.Init(func(ctx context.Context, d struct {
		Router   core.HTTPRouter
		Database core.Database
	}) error {
		if err := migrate.Up(ctx, d.Database, migrations, migrate.Dir("migrations")); err != nil {
			return err
		}
		db, err := d.Database.DB(ctx)
		if err != nil {
			return err
		}
		d.Router.HandleFunc("GET /count", func(w http.ResponseWriter, r *http.Request) {
			var n int
			if err := db.QueryRowContext(r.Context(), "SELECT count(*) FROM todos").Scan(&n); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			fmt.Fprint(w, n)
		})
		return nil
	}))

	d, mock := mockservices.SQLMock(t, core.DialectPostgres, mockservices.WithMigrationsSkipped())
	mock.ExpectQuery(regexp.QuoteMeta("SELECT count(*) FROM todos")).WillReturnRows(sqlmock.NewRows([]string{"count"}).AddRow(3))

	tb := testbackend.Start(t, plugin, mockservices.Factory(core.DatabaseRef, d))
	fmt.Printf("%s\n", tb.Get("/api/todo/count").AsUser("user:default/alice").Do(t).Bytes())
	// Output: 3
}

func ExampleWithSQLDB() {
	t := newExampleT() // in a test, the test's t
	defer t.finish()

	shared, _ := mockservices.Database(t).DB(context.Background()) // or any *sql.DB
	d := mockservices.Database(t, mockservices.WithSQLDB(shared, core.DialectSQLite), mockservices.WithMigrationsSkipped())
	fmt.Println(d.Dialect(), d.MigrationsSkipped())
	// Output: sqlite true
}

// This example is compiled but not run: the reaper process that package
// testdatabases starts keeps the example's captured output open.
func ExampleFromTestDatabase() {
	var t *testing.T // the test's t

	db := testdatabases.New(t).Init(t, testdatabases.SQLite3)
	d := mockservices.Database(t, mockservices.FromTestDatabase(db))
	fmt.Println(d.Dialect()) // sqlite
}

func ExampleDefaultFactories() {
	t := newExampleT() // in a test, the test's t
	defer t.finish()
	ctx := context.Background()

	plugin := backend.NewPlugin("todo", backend.Init(func(ctx context.Context, d struct{ Router core.HTTPRouter }) error {
		d.Router.HandleFunc("GET /todos", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "[]") })
		return nil
	}))
	b := backend.New(backend.WithDefaults(mockservices.DefaultFactories(t)...))
	_ = b.Add(plugin)
	if err := b.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer b.Stop(ctx)

	root, _ := backend.Resolve(ctx, b, core.RootHTTPRouterRef, "")
	for _, header := range []string{"", mockcreds.User().Header()} {
		req := httptest.NewRequest(http.MethodGet, "/api/todo/todos", nil)
		req.Header.Set("Authorization", header)
		rec := httptest.NewRecorder()
		root.Handler().ServeHTTP(rec, req)
		fmt.Println(rec.Code)
	}
	// Output:
	// 401
	// 200
}

func ExampleFactory() {
	t := newExampleT() // in a test, the test's t
	defer t.finish()

	d, _ := mockservices.SQLMock(t, core.DialectPostgres)
	factories := []*backend.ServiceFactory{
		mockservices.Factory(core.DatabaseRef, d),
		mockservices.ConfigFactory(map[string]any{"app": map[string]any{"title": "Todo"}}),
		mockservices.RootLoggerFactory(mockservices.Logger(t)),
		mockservices.AuthFactory(),
		mockservices.HTTPAuthFactory(mockservices.WithDefaultCredentials(mockcreds.User().Credentials())),
		mockservices.UserInfoFactory(),
		mockservices.DiscoveryFactory(func() string { return "http://127.0.0.1:7007" }),
		mockservices.DatabaseFactory(t),
		mockservices.RootHealthFactory(),
		mockservices.RootHTTPRouterFactory(),
		mockservices.HTTPRouterFactory(),
	}
	for _, f := range factories {
		fmt.Println(f.Ref())
	}
	// Output:
	// serviceRef{core.database}
	// serviceRef{core.rootConfig}
	// serviceRef{core.rootLogger}
	// serviceRef{core.auth}
	// serviceRef{core.httpAuth}
	// serviceRef{core.userInfo}
	// serviceRef{core.discovery}
	// serviceRef{core.database}
	// serviceRef{core.rootHealth}
	// serviceRef{core.rootHttpRouter}
	// serviceRef{core.httpRouter}
}
