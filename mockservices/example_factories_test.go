package mockservices_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/mockservices/mockcreds"
)

// exampleBackend starts a backend with the mock defaults, the features and
// a plugin "todo" that serves GET /whoami and GET /catalog-url.
func exampleBackend(t *exampleT, features ...backend.Feature) *backend.Backend {
	todo := backend.NewPlugin("todo", backend.Init(func(ctx context.Context, d struct {
		Router    core.HTTPRouter
		HTTPAuth  core.HTTPAuth
		Discovery core.Discovery
	}) error {
		d.Router.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
			c, _ := d.HTTPAuth.Credentials(r)
			fmt.Fprint(w, c)
		})
		d.Router.HandleFunc("GET /catalog-url", func(w http.ResponseWriter, r *http.Request) {
			u, _ := d.Discovery.BaseURL(r.Context(), "catalog")
			fmt.Fprint(w, u)
		})
		return nil
	}))
	b := backend.New(backend.WithDefaults(mockservices.DefaultFactories(t)...))
	_ = b.Add(append(features, todo)...)
	if err := b.Start(context.Background()); err != nil {
		panic(err)
	}
	t.Cleanup(func() { _ = b.Stop(context.Background()) })
	return b
}

// get serves GET path with the Authorization header (if any) and returns
// the status and body.
func get(b *backend.Backend, path, header string) string {
	root, _ := backend.Resolve(context.Background(), b, core.RootHTTPRouterRef, "")
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if header != "" {
		req.Header.Set("Authorization", header)
	}
	rec := httptest.NewRecorder()
	root.Handler().ServeHTTP(rec, req)
	return fmt.Sprint(rec.Code, " ", strings.TrimSpace(rec.Body.String()))
}

func ExampleConfigFactory() {
	t := newExampleT() // in a test, the test's t
	defer t.finish()

	b := exampleBackend(t, mockservices.ConfigFactory(map[string]any{
		"backend": map[string]any{"auth": map[string]any{"dangerouslyDisableDefaultAuthPolicy": true}},
	}))
	a, _ := backend.Resolve(context.Background(), b, core.AuthRef, "todo")
	token, err := a.PluginRequestToken(context.Background(), a.NoneCredentials(), "catalog")
	fmt.Printf("%q %v\n", token, err)
	// Output: "" <nil>
}

func ExampleRootLoggerFactory() {
	t := newExampleT() // in a test, the test's t
	defer t.finish()

	log := mockservices.Logger(t)
	exampleBackend(t, mockservices.RootLoggerFactory(log))
	fmt.Println(log.Contains("Plugin started", "plugin", "todo"))
	// Output: true
}

func ExampleAuthFactory() {
	t := newExampleT() // in a test, the test's t
	defer t.finish()

	b := exampleBackend(t, mockservices.AuthFactory())
	a, _ := backend.Resolve(context.Background(), b, core.AuthRef, "todo")
	fmt.Println(a.OwnServiceCredentials())
	fmt.Println(get(b, "/api/todo/whoami", mockcreds.ServiceCaller(mockcreds.ServiceOptions{TargetPluginID: "catalog"}).Header()))
	// Output:
	// credentials{service plugin:todo}
	// 401 {"error":{"name":"AuthenticationError","message":"Invalid mock token target plugin ID, got 'catalog' but expected 'todo'"},"request":{"method":"GET","url":"/api/todo/whoami"},"response":{"statusCode":401}}
}

func ExampleHTTPAuthFactory() {
	t := newExampleT() // in a test, the test's t
	defer t.finish()

	b := exampleBackend(t, mockservices.HTTPAuthFactory(mockservices.WithDefaultCredentials(mockcreds.User("user:default/alice").Credentials())))
	fmt.Println(get(b, "/api/todo/whoami", ""))
	// Output: 200 credentials{user user:default/alice}
}

func ExampleUserInfoFactory() {
	t := newExampleT() // in a test, the test's t
	defer t.finish()

	b := exampleBackend(t, mockservices.UserInfoFactory())
	u, _ := backend.Resolve(context.Background(), b, core.UserInfoRef, "todo")
	d, _ := u.Get(context.Background(), mockcreds.User().Credentials())
	fmt.Println(d.UserEntityRef, d.OwnershipEntityRefs)
	// Output: user:default/mock [user:default/mock]
}

func ExampleDiscoveryFactory() {
	t := newExampleT() // in a test, the test's t
	defer t.finish()

	srv := httptest.NewUnstartedServer(nil) // started on demand, after the backend
	b := exampleBackend(t, mockservices.DiscoveryFactory(func() string { return "http://" + srv.Listener.Addr().String() }))
	fmt.Println(get(b, "/api/todo/catalog-url", mockcreds.User().Header()) == "200 http://"+srv.Listener.Addr().String()+"/api/catalog")
	srv.Close()
	// Output: true
}

func ExampleDatabaseFactory() {
	t := newExampleT() // in a test, the test's t
	defer t.finish()
	ctx := context.Background()

	b := exampleBackend(t, mockservices.DatabaseFactory(t))
	a, _ := backend.Resolve(ctx, b, core.DatabaseRef, "todo")
	c, _ := backend.Resolve(ctx, b, core.DatabaseRef, "catalog")
	dbA, _ := a.DB(ctx)
	dbC, _ := c.DB(ctx)
	_, _ = dbA.Exec("CREATE TABLE todos (title TEXT)")
	_, err := dbC.Exec("SELECT * FROM todos")
	fmt.Println(a.Dialect(), err != nil)
	// Output: sqlite true
}

func ExampleRootHealthFactory() {
	t := newExampleT() // in a test, the test's t
	defer t.finish()

	b := exampleBackend(t, mockservices.RootHealthFactory())
	fmt.Println(get(b, "/.greenroom/health/v1/readiness", ""))
	_ = b.Stop(context.Background())
	fmt.Println(get(b, "/.greenroom/health/v1/readiness", ""))
	// Output:
	// 200 {"status":"ok"}
	// 503 {"status":"error","message":"Backend is shutting down"}
}

func ExampleRootHTTPRouterFactory() {
	t := newExampleT() // in a test, the test's t
	defer t.finish()

	b := exampleBackend(t, mockservices.RootHTTPRouterFactory())
	fmt.Println(get(b, "/api/nothing", ""))
	// Output: 404 {"error":{"name":"NotFoundError","message":"No plugin with id 'nothing' is mounted at /api/nothing; check that the plugin is added to the backend"},"request":{"method":"GET","url":"/api/nothing"},"response":{"statusCode":404}}
}

func ExampleHTTPRouterFactory() {
	t := newExampleT() // in a test, the test's t
	defer t.finish()

	b := exampleBackend(t, mockservices.HTTPRouterFactory())
	fmt.Println(get(b, "/api/todo/whoami", ""))
	fmt.Println(get(b, "/api/todo/whoami", mockcreds.User().Header()))
	// Output:
	// 401 {"error":{"name":"AuthenticationError","message":"Missing credentials"},"request":{"method":"GET","url":"/api/todo/whoami"},"response":{"statusCode":401}}
	// 200 credentials{user user:default/mock}
}
