package httprouter_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/auth"
	"github.com/greenroom-dev/greenroom/defaults/config"
	"github.com/greenroom-dev/greenroom/defaults/database"
	"github.com/greenroom-dev/greenroom/defaults/discovery"
	"github.com/greenroom-dev/greenroom/defaults/health"
	"github.com/greenroom-dev/greenroom/defaults/httprouter"
	"github.com/greenroom-dev/greenroom/defaults/logger"
	"github.com/greenroom-dev/greenroom/httpjson"
)

func ExampleNewRoot() {
	root := httprouter.NewRoot(httprouter.RootOptions{})
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello from", r.URL.Path)
	})
	if err := root.Use("/api/hello", hello); err != nil {
		panic(err)
	}
	fmt.Println(root.Use("/api/hello/world", hello))

	for _, path := range []string{"/api/hello/x", "/api/nope"} {
		rec := httptest.NewRecorder()
		root.Handler().ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		fmt.Print(rec.Code, " ", rec.Body)
	}
	// Output:
	// httprouter: Path /api/hello/world conflicts with the existing path /api/hello; mounted paths may not be prefixes of one another
	// 200 hello from /api/hello/x
	// 404 {"error":{"name":"NotFoundError","message":"No plugin with id 'nope' is mounted at /api/nope; check that the plugin is added to the backend"},"request":{"method":"GET","url":"/api/nope"},"response":{"statusCode":404}}
}

// healthy is a core.RootHealth that is always ok.
type healthy struct{}

func (healthy) Liveness(context.Context) core.HealthStatus  { return core.HealthStatus{Status: "ok"} }
func (healthy) Readiness(context.Context) core.HealthStatus { return core.HealthStatus{Status: "ok"} }

func ExampleRoot_Listen() {
	root := httprouter.NewRoot(httprouter.RootOptions{Health: healthy{}})
	if err := root.Listen(context.Background(), "127.0.0.1:0"); err != nil {
		panic(err)
	}
	defer root.Shutdown(context.Background())

	resp, err := http.Get("http://" + root.Addr().String() + health.LivenessPath)
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print(resp.StatusCode, " ", string(body))
	// Output: 200 {"status":"ok"}
}

// lifecycle is a plugin lifecycle whose hooks run when start is called.
type lifecycle struct{ startup []core.Hook }

func (l *lifecycle) AddStartupHook(h core.Hook) error { l.startup = append(l.startup, h); return nil }
func (l *lifecycle) AddShutdownHook(core.Hook) error  { return nil }
func (l *lifecycle) start() {
	for _, h := range l.startup {
		if err := h(context.Background()); err != nil {
			panic(err)
		}
	}
}

// A test toolkit that starts the same plugins many times shares the
// routers' ServeMux values through a MuxCache it owns; each router still
// serves its own handlers. Production routers have their own ServeMux.
func ExampleMuxCache() {
	cfg, _ := config.FromMap(nil)
	disc, _ := discovery.New(cfg, nil)
	keyring, _ := auth.NewKeyring(cfg)
	todoAuth, _ := auth.NewAuth(keyring, "todo", disc, nil)
	httpAuth, _ := auth.NewHTTPAuth(todoAuth, "http://localhost:7007/api/todo")

	cache := httprouter.NewMuxCache() // or httprouter.Factory(httprouter.WithMuxCache(cache))
	for _, backend := range []string{"first", "second"} {
		lc := &lifecycle{}
		router, err := httprouter.New(httprouter.Options{
			PluginID: "todo", Auth: todoAuth, HTTPAuth: httpAuth, Lifecycle: lc,
			MuxCache:                            cache,
			DangerouslyDisableDefaultAuthPolicy: true,
		})
		if err != nil {
			panic(err)
		}
		router.HandleFunc("GET /todos", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintln(w, "todos of the", backend, "backend")
		})
		lc.start()
		rec := httptest.NewRecorder()
		router.ServeHTTP(rec, httptest.NewRequest("GET", "/api/todo/todos", nil))
		fmt.Print(rec.Code, " ", rec.Body)
	}
	// Output:
	// 200 todos of the first backend
	// 200 todos of the second backend
}

// Build a plugin router by hand with the default auth services, as a test
// toolkit does. Plugins receive theirs from Factory instead.
func ExampleNew() {
	cfg, _ := config.FromMap(nil)
	disc, _ := discovery.New(cfg, nil)
	keyring, _ := auth.NewKeyring(cfg)
	todoAuth, _ := auth.NewAuth(keyring, "todo", disc, nil)
	httpAuth, _ := auth.NewHTTPAuth(todoAuth, "http://localhost:7007/api/todo")
	lc := &lifecycle{}

	router, err := httprouter.New(httprouter.Options{
		PluginID: "todo", Auth: todoAuth, HTTPAuth: httpAuth, Lifecycle: lc,
	})
	if err != nil {
		panic(err)
	}
	router.HandleFunc("GET /todos", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "[]")
	})
	router.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	router.AddAuthPolicy("/health", core.AllowUnauthenticated)
	lc.start() // the backend runs the plugin's startup hooks after its init

	// Another plugin of the backend calls todo with its service token.
	callerAuth, _ := auth.NewAuth(keyring, "caller", disc, nil)
	token, _ := callerAuth.PluginRequestToken(context.Background(), callerAuth.OwnServiceCredentials(), "todo")

	for _, c := range []struct{ path, token string }{
		{"/api/todo/health", ""},
		{"/api/todo/todos", ""},
		{"/api/todo/todos", token},
		{"/api/todo/nothing-here", ""},
		{"/api/todo/nothing-here", token},
	} {
		r := httptest.NewRequest("GET", c.path, nil)
		if c.token != "" {
			r.Header.Set("Authorization", "Bearer "+c.token)
		}
		rec := httptest.NewRecorder()
		router.ServeHTTP(rec, r)
		fmt.Println(c.path, c.token != "", rec.Code)
	}
	// Output:
	// /api/todo/health false 200
	// /api/todo/todos false 401
	// /api/todo/todos true 200
	// /api/todo/nothing-here false 401
	// /api/todo/nothing-here true 404
}

func ExampleRouter_Routes() {
	router, _ := newTodoRouter()

	noop := http.NotFoundHandler()
	router.Handle("GET /todos/{id}", noop)
	router.Handle("GET /health", noop)
	router.Handle("GET /images/{name}", noop)
	router.AddAuthPolicy("/health", core.AllowUnauthenticated)
	router.AddAuthPolicy("/images", core.AllowUserCookie)
	router.AddAuthPolicy("/todos/public", core.AllowUnauthenticated) // opens only part of /todos/{id}

	for _, r := range router.Routes() {
		fmt.Printf("%-20s %q\n", r.Pattern, r.Policy)
	}
	// Output:
	// GET /todos/{id}      ""
	// GET /health          "unauthenticated"
	// GET /images/{name}   "user-cookie"
}

// A production backend installs RootFactory and Factory as the defaults
// of the root and plugin routers; every plugin is then served under
// /api/<pluginId> of the listener.
func ExampleFactory() {
	b := backend.New(backend.WithDefaults(
		config.Factory(config.Env([]string{"GREENROOM_CONFIG_backend_listen_host=127.0.0.1", "GREENROOM_CONFIG_backend_listen_port=0"})),
		logger.RootFactory(logger.Writer(io.Discard)),
		logger.Factory(),
		health.Factory(),
		httprouter.RootFactory(),
		httprouter.Factory(),
		auth.AuthFactory(),
		auth.HTTPAuthFactory(),
		database.Factory(),
		discovery.Factory(),
	))
	type deps struct{ Router core.HTTPRouter }
	_ = b.Add(backend.NewPlugin("todo", backend.Init(func(ctx context.Context, d deps) error {
		d.Router.Handle("GET /health", httpjson.Handler(func(w http.ResponseWriter, r *http.Request) error {
			return httpjson.Write(w, http.StatusOK, map[string]string{"status": "ok"})
		}))
		d.Router.AddAuthPolicy("/health", core.AllowUnauthenticated)
		return nil
	})))
	ctx := context.Background()
	if err := b.Start(ctx); err != nil {
		panic(err)
	}
	defer b.Stop(ctx)

	// The root router of RootFactory reports the port it bound.
	root, _ := backend.Resolve(ctx, b, core.RootHTTPRouterRef, "")
	base := "http://" + root.(*httprouter.Root).Addr().String()
	for _, path := range []string{health.ReadinessPath, "/api/todo/health", "/api/todo/todos"} {
		resp, err := http.Get(base + path)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(path, resp.StatusCode, strings.Contains(string(body), "error"))
	}
	// Output:
	// /.greenroom/health/v1/readiness 200 false
	// /api/todo/health 200 false
	// /api/todo/todos 401 true
}

// newTodoRouter returns an unstarted router for plugin todo with the
// default auth services, and its lifecycle.
func newTodoRouter() (*httprouter.Router, *lifecycle) {
	cfg, _ := config.FromMap(nil)
	disc, _ := discovery.New(cfg, nil)
	keyring, _ := auth.NewKeyring(cfg)
	a, _ := auth.NewAuth(keyring, "todo", disc, nil)
	ha, _ := auth.NewHTTPAuth(a, "http://localhost:7007/api/todo")
	lc := &lifecycle{}
	router, err := httprouter.New(httprouter.Options{PluginID: "todo", Auth: a, HTTPAuth: ha, Lifecycle: lc})
	if err != nil {
		panic(err)
	}
	return router, lc
}

func status(h http.Handler, method, path string) int {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Code
}

func ExampleRouter_AddAuthPolicy() {
	router, lc := newTodoRouter()
	ok := func(w http.ResponseWriter, r *http.Request) {}
	router.HandleFunc("GET /health", ok)
	router.HandleFunc("GET /health/deep", ok)
	router.HandleFunc("GET /healthz", ok)
	router.HandleFunc("GET /todos/{id}/badge", ok)
	router.AddAuthPolicy("/health", core.AllowUnauthenticated)
	router.AddAuthPolicy("/todos/:id/badge", core.AllowUnauthenticated)
	lc.start()

	for _, path := range []string{"/health", "/health/deep", "/healthz", "/todos/7/badge"} {
		fmt.Println(path, status(router, "GET", "/api/todo"+path))
	}
	// Output:
	// /health 200
	// /health/deep 200
	// /healthz 401
	// /todos/7/badge 200
}

// A mistake in the use of the router, such as an unknown policy, fails the
// plugin's startup with an error naming the plugin.
func ExampleRouter_AddAuthPolicy_mistake() {
	router, lc := newTodoRouter()
	router.AddAuthPolicy("/health", "public")
	for _, h := range lc.startup {
		fmt.Println(h(context.Background()))
	}
	// Output:
	// httprouter: plugin 'todo': AddAuthPolicy("/health", "public"): unknown auth policy "public"; use core.AllowUnauthenticated ("unauthenticated") or core.AllowUserCookie ("user-cookie"); the path stays protected
}

// Use hands every request that no Handle pattern matches to another
// handler, with the path relative to the mount.
func ExampleRouter_Use() {
	router, lc := newTodoRouter()
	legacy := http.NewServeMux()
	legacy.HandleFunc("GET /v1/items", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "legacy", r.URL.Path)
	})
	router.HandleFunc("GET /todos", func(w http.ResponseWriter, r *http.Request) {})
	router.Use(legacy)
	router.AddAuthPolicy("/", core.AllowUnauthenticated) // for the example only
	lc.start()

	rec := httptest.NewRecorder()
	router.ServeHTTP(rec, httptest.NewRequest("GET", "/api/todo/v1/items", nil))
	fmt.Print(rec.Body)
	// Output: legacy /v1/items
}

func ExampleRootFactory() {
	b := backend.New(backend.WithDefaults(
		config.Factory(config.Env([]string{"GREENROOM_CONFIG_backend_listen_host=127.0.0.1", "GREENROOM_CONFIG_backend_listen_port=0"})),
		logger.RootFactory(logger.Writer(io.Discard)),
		logger.Factory(),
		health.Factory(),
		httprouter.RootFactory(),
	))
	ctx := context.Background()
	if err := b.Start(ctx); err != nil {
		panic(err)
	}
	root, _ := backend.Resolve(ctx, b, core.RootHTTPRouterRef, "")
	url := "http://" + root.(*httprouter.Root).Addr().String() + health.ReadinessPath

	resp, err := http.Get(url)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println("started:", resp.StatusCode)

	_ = b.Stop(ctx) // the root drain hook stops the server
	_, err = http.Get(url)
	fmt.Println("stopped:", err != nil)
	// Output:
	// started: 200
	// stopped: true
}

// CORS for a browser app at https://app.example.com: its preflight is
// answered without credentials; another origin's goes on to the plugin's
// auth barrier. In a backend, RootFactory reads the same settings from the
// config under backend.cors.
func ExampleCORSOptions() {
	root := httprouter.NewRoot(httprouter.RootOptions{CORS: &httprouter.CORSOptions{
		AllowedOrigins:   []string{"https://app.example.com"},
		AllowedHeaders:   []string{"Authorization", "Content-Type"},
		AllowCredentials: true,
	}})
	deny := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "credentials needed", http.StatusUnauthorized)
	})
	if err := root.Use("/api/todo", deny); err != nil {
		panic(err)
	}
	for _, origin := range []string{"https://app.example.com", "https://evil.example"} {
		r := httptest.NewRequest("OPTIONS", "/api/todo/todos", nil)
		r.Header.Set("Origin", origin)
		r.Header.Set("Access-Control-Request-Method", "POST")
		r.Header.Set("Access-Control-Request-Headers", "authorization")
		rec := httptest.NewRecorder()
		root.Handler().ServeHTTP(rec, r)
		fmt.Printf("%s: %d %q\n", origin, rec.Code, rec.Header().Get("Access-Control-Allow-Origin"))
	}
	// Output:
	// https://app.example.com: 204 "https://app.example.com"
	// https://evil.example: 401 ""
}

func ExampleCORSOptionsFromConfig() {
	cfg, err := config.FromYAML(`
backend:
  cors:
    origin: [https://app.example.com, https://*.preview.example.com]
    methods: [GET, POST]
    credentials: true
    maxAge: 600
`)
	if err != nil {
		panic(err)
	}
	opts, err := httprouter.CORSOptionsFromConfig(cfg)
	if err != nil {
		panic(err)
	}
	fmt.Println(opts.AllowedOrigins, opts.AllowedMethods, opts.AllowCredentials, opts.MaxAge)
	// Output: [https://app.example.com https://*.preview.example.com] [GET POST] true 10m0s
}

// Timeouts for a backend that accepts large uploads and streams: a longer
// read timeout, and no write timeout (a streaming handler could also lift
// it for its own response with http.ResponseController).
func ExampleServerTimeouts() {
	t := httprouter.DefaultServerTimeouts()
	t.Read = 5 * time.Minute
	t.Write = 0
	root := httprouter.NewRoot(httprouter.RootOptions{Timeouts: &t})
	if err := root.Listen(context.Background(), "127.0.0.1:0"); err != nil {
		panic(err)
	}
	defer root.Shutdown(context.Background())
	fmt.Println(httprouter.DefaultServerTimeouts())
	// Output: {10s 30s 1m0s 2m0s}
}

// A test toolkit installs the plugin router factory with its own cache in
// place of the production one (package testbackend does).
func ExampleWithMuxCache() {
	cache := httprouter.NewMuxCache()
	routers := httprouter.Factory(httprouter.WithMuxCache(cache))
	fmt.Println(routers)
	// Output: factory of serviceRef{core.httpRouter}
}
