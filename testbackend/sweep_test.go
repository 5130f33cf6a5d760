package testbackend_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/testbackend"
)

// insecureRouter is a plugin router that mounts the plugin's routes on
// the root router without any credentials barrier, as a hand-written
// router replacing the default one might. It reports its routes, so the
// sweep can find them.
type insecureRouter struct {
	mux      *http.ServeMux
	patterns []string
}

func (r *insecureRouter) Handle(p string, h http.Handler) {
	r.mux.Handle(p, h)
	r.patterns = append(r.patterns, p)
}

func (r *insecureRouter) HandleFunc(p string, h func(http.ResponseWriter, *http.Request)) {
	r.Handle(p, http.HandlerFunc(h))
}
func (r *insecureRouter) Use(http.Handler)                                 {}
func (r *insecureRouter) AddAuthPolicy(string, core.AuthPolicy)            {}
func (r *insecureRouter) ServeHTTP(w http.ResponseWriter, q *http.Request) { r.mux.ServeHTTP(w, q) }

func (r *insecureRouter) Routes() []core.Route {
	var rs []core.Route
	for _, p := range r.patterns {
		rs = append(rs, core.Route{Pattern: p})
	}
	return rs
}

var insecureRouterFactory = backend.NewPluginServiceFactory(core.HTTPRouterRef, func(ctx context.Context, d struct {
	Root   core.RootHTTPRouter
	Plugin core.PluginMetadata
}) (core.HTTPRouter, error) {
	mux := http.NewServeMux()
	r := &insecureRouter{mux: mux}
	prefix := "/api/" + d.Plugin.ID()
	return r, d.Root.Use(prefix, http.StripPrefix(prefix, r))
}, backend.Eager())

// plainRouter is a router that does not report its routes.
type plainRouter struct{ insecureRouter }

func (plainRouter) Routes() {}

var plainRouterFactory = backend.NewPluginServiceFactory(core.HTTPRouterRef, func(ctx context.Context, _ struct{}) (core.HTTPRouter, error) {
	return &plainRouter{insecureRouter{mux: http.NewServeMux()}}, nil
})

// badPatternRouter reports a pattern the sweep cannot request.
type badPatternRouter struct{ insecureRouter }

func (*badPatternRouter) Routes() []core.Route { return []core.Route{{Pattern: "GET nopath"}} }

var badPatternRouterFactory = backend.NewPluginServiceFactory(core.HTTPRouterRef, func(ctx context.Context, _ struct{}) (core.HTTPRouter, error) {
	return &badPatternRouter{insecureRouter{mux: http.NewServeMux()}}, nil
})

// tooOpen is a plugin whose auth policy is broader than meant: it opens
// "/" so that GET /health answers without credentials, and so opens
// POST /admin/{thing} too.
var tooOpen = backend.NewPlugin("admin", backend.Init(func(ctx context.Context, d struct{ Router core.HTTPRouter }) error {
	ok := func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }
	d.Router.HandleFunc("GET /health", ok)
	d.Router.HandleFunc("POST /admin/{thing}", ok)
	d.Router.AddAuthPolicy("/", core.AllowUnauthenticated)
	return nil
}))

func TestAssertSecureByDefault(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		features []backend.Feature
		opts     []testbackend.Option
		public   []string
		// want are substrings of the failure; none means the sweep passes.
		want    []string
		notWant []string
	}{
		{
			name:     "secure plugins pass",
			features: []backend.Feature{echo, newEcho("other")},
			public:   []string{"GET /api/echo/health", "GET /api/other/health"},
		},
		{
			name:     "secure with real auth",
			features: []backend.Feature{echo},
			opts:     []testbackend.Option{testbackend.WithRealAuth()},
			public:   []string{"GET /api/echo/health"},
		},
		{
			name:     "default user does not hide an open route",
			features: []backend.Feature{echo},
			opts:     []testbackend.Option{testbackend.WithDefaultUser("user:default/mock")},
			public:   []string{"GET /api/echo/health"},
		},
		{
			name:     "public routes are written loosely",
			features: []backend.Feature{echo},
			public:   []string{"  GET   /api/echo/health "},
		},
		{
			// The regression: the sweep skipped every route an
			// unauthenticated policy covers, so "/" hid POST /admin/{thing}.
			name:     "policy broader than meant",
			features: []backend.Feature{tooOpen},
			public:   []string{"GET /api/admin/health"},
			want: []string{
				"1 of 2 routes answer requests without credentials",
				`plugin 'admin': POST /api/admin/admin/1 (route "POST /admin/{thing}") answered 204 No Content without credentials; want 401 Unauthorized: AddAuthPolicy("/", core.AllowUnauthenticated) opens it`,
			},
			notWant: []string{"GET /api/admin/health"},
		},
		{
			name:     "policy broader than meant, nothing listed",
			features: []backend.Feature{tooOpen},
			want: []string{
				"2 of 2 routes answer requests without credentials",
				`plugin 'admin': GET /api/admin/health (route "GET /health") answered 204 No Content without credentials; want 401 Unauthorized: AddAuthPolicy("/", core.AllowUnauthenticated) opens it`,
				`plugin 'admin': POST /api/admin/admin/1 (route "POST /admin/{thing}")`,
				`tb.AssertSecureByDefault(t, "GET /api/todo/health")`,
			},
		},
		{
			name:     "open route not listed",
			features: []backend.Feature{echo},
			want: []string{
				"1 of 5 routes answer requests without credentials",
				`plugin 'echo': GET /api/echo/health (route "GET /health") answered 200 OK without credentials; want 401 Unauthorized: AddAuthPolicy("/health", core.AllowUnauthenticated) opens it`,
			},
		},
		{
			name:     "listed route that requires credentials",
			features: []backend.Feature{echo},
			public:   []string{"GET /api/echo/health", "GET /api/echo/whoami"},
			want: []string{
				"the public routes the test lists are not the public routes of the backend",
				`"GET /api/echo/whoami" (plugin 'echo', route "GET /whoami") is listed as public but answered 401 Unauthorized without credentials`,
			},
			notWant: []string{"answer requests without credentials"},
		},
		{
			name:     "listed route that does not exist",
			features: []backend.Feature{echo},
			public:   []string{"GET /api/echo/health", "GET /health"},
			want:     []string{`"GET /health" is listed as public but no plugin has that route`},
		},
		{
			name:     "barrier disabled by config",
			features: []backend.Feature{echo},
			opts: []testbackend.Option{testbackend.WithConfig(map[string]any{
				"backend.auth.dangerouslyDisableDefaultAuthPolicy": true,
			})},
			want: []string{
				// Every route is checked, those with a policy too; the
				// others check credentials themselves and still answer 401.
				"2 of 5 routes answer requests without credentials",
				`plugin 'echo': GET /api/echo/health (route "GET /health") answered 200 OK`,
				`plugin 'echo': POST /api/echo/echo (route "POST /echo") answered 200 OK without credentials; want 401 Unauthorized: backend.auth.dangerouslyDisableDefaultAuthPolicy is set`,
				"turns the credentials barrier off for every plugin",
			},
			notWant: []string{"/api/echo/whoami ", "/api/echo/call/1 "},
		},
		{
			name:     "router without a barrier",
			features: []backend.Feature{echo, insecureRouterFactory},
			want: []string{
				"2 of 5 routes answer requests without credentials",
				`plugin 'echo': GET /api/echo/health (route "GET /health") answered 200 OK without credentials; want 401 Unauthorized: no auth policy covers it`,
				`plugin 'echo': POST /api/echo/echo (route "POST /echo") answered 200 OK without credentials; want 401 Unauthorized: no auth policy covers it`,
			},
		},
		{
			name:     "router that cannot be swept",
			features: []backend.Feature{echo, plainRouterFactory},
			want:     []string{"could not check every route", "does not implement core.RouteLister"},
		},
		{
			name:     "pattern that cannot be requested",
			features: []backend.Feature{newEcho("odd"), badPatternRouterFactory},
			want:     []string{`plugin 'odd': route "GET nopath": cannot build a request`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tb := testbackend.New(tt.opts...).Start(t, tt.features...)
			f := record(t, func(ft testing.TB) { tb.AssertSecureByDefault(ft, tt.public...) })
			out := f.output()
			if f.fatal {
				t.Errorf("the sweep stopped the test; it should report with Errorf: %s", out)
			}
			if len(tt.want) == 0 && out != "" {
				t.Fatalf("the sweep failed: %s", out)
			}
			if len(tt.want) > 0 && out == "" {
				t.Fatal("the sweep passed; want a failure")
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("the failure does not contain %q:\n%s", w, out)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out, w) {
					t.Errorf("the failure contains %q:\n%s", w, out)
				}
			}
		})
	}
}
