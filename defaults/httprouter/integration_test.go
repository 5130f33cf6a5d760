package httprouter_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

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

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestProductionWiring starts a backend with the production factories
// (config, logger, health, routers, auth, discovery) on a free port and
// calls one plugin from another over HTTP: the callee verifies the
// caller's service token with the keys the caller's router serves at its
// JWKS path, unauthenticated.
func TestProductionWiring(t *testing.T) {
	var logs syncBuffer
	b := backend.New(backend.WithDefaults(
		config.Factory(config.Env([]string{
			"GREENROOM_CONFIG_backend_listen_host=127.0.0.1",
			"GREENROOM_CONFIG_backend_listen_port=0",
		})),
		logger.RootFactory(logger.Writer(&logs)),
		logger.Factory(),
		health.Factory(),
		httprouter.RootFactory(),
		httprouter.Factory(),
		auth.AuthFactory(),
		auth.HTTPAuthFactory(),
		database.Factory(),
		discovery.Factory(),
	))

	type todoDeps struct {
		Router   core.HTTPRouter
		HTTPAuth core.HTTPAuth
	}
	todo := backend.NewPlugin("todo", backend.Init(func(ctx context.Context, d todoDeps) error {
		d.Router.Handle("GET /todos", httpjson.Handler(func(w http.ResponseWriter, r *http.Request) error {
			creds, err := d.HTTPAuth.Credentials(r)
			if err != nil {
				return err
			}
			return httpjson.Write(w, http.StatusOK, map[string]string{"caller": creds.Principal.Subject})
		}))
		d.Router.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
			_ = httpjson.Write(w, http.StatusOK, map[string]string{"status": "ok"})
		})
		d.Router.AddAuthPolicy("/health", core.AllowUnauthenticated)
		return nil
	}))

	type callerDeps struct {
		Auth core.Auth
	}
	var callerAuth core.Auth
	caller := backend.NewPlugin("caller", backend.Init(func(ctx context.Context, d callerDeps) error {
		callerAuth = d.Auth
		return nil
	}))

	if err := b.Add(todo, caller); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v\nlogs:\n%s", err, logs.String())
	}
	t.Cleanup(func() { _ = b.Stop(context.Background()) })

	root, err := backend.Resolve(t.Context(), b, core.RootHTTPRouterRef, "")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + root.(*httprouter.Root).Addr().String()
	c := &http.Client{}
	t.Cleanup(c.CloseIdleConnections)

	call := func(path, token string) (int, string) {
		t.Helper()
		r, _ := http.NewRequestWithContext(t.Context(), "GET", base+path, nil)
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := c.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(body))
	}

	if code, body := call(health.ReadinessPath, ""); code != 200 {
		t.Errorf("readiness after start: %d %s", code, body)
	}
	if code, body := call("/api/todo/health", ""); code != 200 || body != `{"status":"ok"}` {
		t.Errorf("open path: %d %s", code, body)
	}
	if code, body := call("/api/todo/todos", ""); code != 401 || !strings.Contains(body, "Missing credentials") {
		t.Errorf("no credentials: %d %s", code, body)
	}
	if code, _ := call("/api/todo/no-such-path", ""); code != 401 {
		t.Errorf("unknown path without credentials: %d, want 401", code)
	}
	if code, body := call("/api/todo/todos", "not-a-token"); code != 401 {
		t.Errorf("invalid token: %d %s", code, body)
	}
	if code, body := call("/api/caller/.greenroom/auth/v1/jwks.json", ""); code != 200 || !strings.Contains(body, `"keys"`) {
		t.Errorf("jwks: %d %s", code, body)
	}

	token, err := callerAuth.PluginRequestToken(t.Context(), callerAuth.OwnServiceCredentials(), "todo")
	if err != nil {
		t.Fatal(err)
	}
	code, body := call("/api/todo/todos", token)
	var got map[string]string
	_ = json.Unmarshal([]byte(body), &got)
	if code != 200 || got["caller"] != "plugin:caller" {
		t.Errorf("service call: %d %s, want 200 from plugin:caller\nlogs:\n%s", code, body, logs.String())
	}
	if code, _ := call("/api/todo/no-such-path", token); code != 404 {
		t.Errorf("unknown path with credentials: %d, want 404", code)
	}
	if code, _ := call("/api/nope/x", token); code != 404 {
		t.Errorf("unknown plugin: %d, want 404", code)
	}

	routes := httprouterRoutes(t, b, "todo")
	want := []core.Route{{Pattern: "GET /todos"}, {Pattern: "GET /health", Policy: core.AllowUnauthenticated, PolicyPath: "/health"}}
	if len(routes) != 2 || routes[0] != want[0] || routes[1] != want[1] {
		t.Errorf("Routes = %v, want %v", routes, want)
	}

	if err := b.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(base + health.LivenessPath); err == nil {
		t.Error("the server answers after Stop")
	}
}

func httprouterRoutes(t *testing.T, b *backend.Backend, pluginID string) []core.Route {
	t.Helper()
	r, err := backend.Resolve(t.Context(), b, core.HTTPRouterRef, pluginID)
	if err != nil {
		t.Fatal(err)
	}
	rep, ok := r.(core.RouteLister)
	if !ok {
		t.Fatalf("the router of %s (%T) is not a core.RouteLister", pluginID, r)
	}
	return rep.Routes()
}
