package mockservices_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/mockservices/mockcreds"
)

// todoDeps depends on every replaceable core service.
type todoDeps struct {
	Config    core.RootConfig
	Logger    core.Logger
	Router    core.HTTPRouter
	HTTPAuth  core.HTTPAuth
	Auth      core.Auth
	UserInfo  core.UserInfo
	Database  core.Database
	Discovery core.Discovery
	Health    core.RootHealth
}

// todoPlugin answers GET /whoami with the caller's user details and
// GET /catalog with the URL of the catalog plugin.
var todoPlugin = backend.NewPlugin("todo", backend.Init(func(ctx context.Context, d todoDeps) error {
	if _, err := d.Database.DB(ctx); err != nil {
		return err
	}
	d.Logger.Info("todo started")
	d.Router.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		c, err := d.HTTPAuth.Credentials(r, core.PrincipalUser)
		if err != nil {
			http.Error(w, err.Error(), 403)
			return
		}
		u, err := d.UserInfo.Get(r.Context(), c)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		_, _ = io.WriteString(w, u.UserEntityRef+" "+strings.Join(u.OwnershipEntityRefs, ","))
	})
	d.Router.HandleFunc("GET /catalog", func(w http.ResponseWriter, r *http.Request) {
		u, _ := d.Discovery.BaseURL(r.Context(), "catalog")
		_, _ = io.WriteString(w, u)
	})
	return nil
}))

func serve(t *testing.T, b *backend.Backend, path, header string) (int, string) {
	t.Helper()
	root, err := backend.Resolve(context.Background(), b, core.RootHTTPRouterRef, "")
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if header != "" {
		req.Header.Set("Authorization", header)
	}
	rec := httptest.NewRecorder()
	root.Handler().ServeHTTP(rec, req)
	return rec.Code, strings.TrimSpace(rec.Body.String())
}

func TestDefaultFactories(t *testing.T) {
	b := startBackend(t, todoPlugin)
	alice := mockcreds.User("user:default/alice").WithOwnership("group:default/team")
	tests := []struct {
		path, header string
		wantCode     int
		wantBody     string
	}{
		{"/api/todo/whoami", alice.Header(), 200, "user:default/alice group:default/team"},
		{"/api/todo/whoami", "", 401, `{"error":{"name":"AuthenticationError","message":"Missing credentials"},"request":{"method":"GET","url":"/api/todo/whoami"},"response":{"statusCode":401}}`},
		{"/api/todo/whoami", mockcreds.ServiceCaller(mockcreds.ServiceOptions{TargetPluginID: "catalog"}).Header(), 401, `{"error":{"name":"AuthenticationError","message":"Invalid mock token target plugin ID, got 'catalog' but expected 'todo'"},"request":{"method":"GET","url":"/api/todo/whoami"},"response":{"statusCode":401}}`},
		{"/api/todo/catalog", alice.Header(), 200, "http://localhost:0/api/catalog"},
		{"/.greenroom/health/v1/readiness", "", 200, `{"status":"ok"}`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			code, body := serve(t, b, tt.path, tt.header)
			if code != tt.wantCode || body != tt.wantBody {
				t.Errorf("GET %s = %d %s, want %d %s", tt.path, code, body, tt.wantCode, tt.wantBody)
			}
		})
	}
	log := resolve(t, b, core.RootLoggerRef, "").(*mockservices.LoggerService)
	if !log.Contains("todo started", "plugin", "todo") {
		t.Errorf("the root logger did not capture the plugin's record: %v", log.Records())
	}
	d := resolve(t, b, core.DiscoveryRef, "todo").(*mockservices.DiscoveryService)
	if calls := d.Calls(); len(calls) != 1 || calls[0].String() != `BaseURL("catalog")` {
		t.Errorf("the plugin's discovery recorded %v", calls)
	}
	a := resolve(t, b, core.AuthRef, "todo").(*mockservices.AuthService)
	if calls := a.Calls("Authenticate"); len(calls) != 3 {
		t.Errorf("the plugin's auth recorded %v, want the three requests with a token", calls)
	}
}

func TestFactoryOptions(t *testing.T) {
	ctx := context.Background()
	health := mockservices.RootHealth()
	health.SetReadiness(core.HealthStatus{Status: "error", Message: "maintenance"})
	var base string
	b := startBackend(t, todoPlugin,
		mockservices.ConfigFactory(map[string]any{"backend": map[string]any{"auth": map[string]any{"dangerouslyDisableDefaultAuthPolicy": true}}}),
		mockservices.HTTPAuthFactory(mockservices.WithDefaultCredentials(mockcreds.User("user:default/dflt").Credentials())),
		mockservices.DiscoveryFactory(func() string { return base }),
		mockservices.Factory[core.RootHealth](core.RootHealthRef, health),
	)
	base = "http://127.0.0.1:9999"
	tests := []struct{ path, wantBody string }{
		{"/api/todo/whoami", "user:default/dflt user:default/dflt"},
		{"/api/todo/catalog", "http://127.0.0.1:9999/api/catalog"},
		{"/.greenroom/health/v1/readiness", `{"status":"error","message":"maintenance"}`},
	}
	for _, tt := range tests {
		if _, body := serve(t, b, tt.path, ""); body != tt.wantBody {
			t.Errorf("GET %s = %s, want %s", tt.path, body, tt.wantBody)
		}
	}
	a := resolve(t, b, core.AuthRef, "todo")
	if tok, err := a.PluginRequestToken(ctx, a.NoneCredentials(), "catalog"); tok != "" || err != nil {
		t.Errorf("with the default auth policy disabled, PluginRequestToken(none) = %q, %v; want \"\", nil", tok, err)
	}
}

func TestDatabaseFactoryWithSQLDB(t *testing.T) {
	ctx := context.Background()
	shared := mockservices.Database(t)
	db, err := shared.DB(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := startBackend(t, todoPlugin, mockservices.DatabaseFactory(t, mockservices.WithSQLDB(db, core.DialectSQLite), mockservices.WithMigrationsSkipped()))
	for _, plugin := range []string{"todo", "other"} {
		d := resolve(t, b, core.DatabaseRef, plugin)
		got, err := d.DB(ctx)
		if err != nil || got != db || !d.MigrationsSkipped() {
			t.Errorf("plugin %s: DB() = %p, %v, skipped %v; want the shared db %p, skipped", plugin, got, err, d.MigrationsSkipped(), db)
		}
	}
}

func TestAuthFactoryConfigError(t *testing.T) {
	b := backend.New(backend.WithDefaults(mockservices.DefaultFactories(t)...))
	_ = b.Add(mockservices.ConfigFactory(map[string]any{"backend": map[string]any{"auth": map[string]any{"dangerouslyDisableDefaultAuthPolicy": "maybe"}}}))
	_, err := backend.Resolve(context.Background(), b, core.AuthRef, "todo")
	if err == nil || !strings.Contains(err.Error(), "backend.auth.dangerouslyDisableDefaultAuthPolicy") {
		t.Errorf("Resolve(auth) with a bad config = %v, want an error naming the key", err)
	}
}

func TestConfigPanics(t *testing.T) {
	for name, fn := range map[string]func(){
		"Config":        func() { mockservices.Config(map[string]any{"bad": func() {}}) },
		"ConfigFactory": func() { mockservices.ConfigFactory(map[string]any{"bad": struct{}{}}) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if s, _ := recover().(string); !strings.HasPrefix(s, "mockservices: "+name+": ") || !strings.Contains(s, "bad") {
					t.Errorf("panic %q, want one naming %s and the key", s, name)
				}
			}()
			fn()
		})
	}
}

// startBackend starts a backend with the mock defaults and the given
// features, stopped when the test ends.
func startBackend(t *testing.T, features ...backend.Feature) *backend.Backend {
	t.Helper()
	b := backend.New(backend.WithDefaults(mockservices.DefaultFactories(t)...))
	if err := b.Add(features...); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Stop(context.Background()); err != nil {
			t.Errorf("stopping the backend: %v", err)
		}
	})
	return b
}

func resolve[T any](t *testing.T, b *backend.Backend, ref core.ServiceRef[T], pluginID string) T {
	t.Helper()
	v, err := backend.Resolve(context.Background(), b, ref, pluginID)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
