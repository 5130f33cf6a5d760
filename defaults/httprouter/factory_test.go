package httprouter

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/config"
	"github.com/greenroom-dev/greenroom/errs"
)

func TestOptionsFromConfig(t *testing.T) {
	tests := []struct {
		name    string
		config  string
		want    Options
		wantErr string
	}{
		{name: "defaults", config: `{}`, want: Options{}},
		{
			name: "all set",
			config: `
backend:
  lifecycle: {startupRequestPauseTimeout: 30s}
  http: {maxRequestBodyBytes: 2048}
  auth: {dangerouslyDisableDefaultAuthPolicy: true}`,
			want: Options{StartupRequestPauseTimeout: 30 * time.Second, MaxRequestBodyBytes: 2048, DangerouslyDisableDefaultAuthPolicy: true},
		},
		{name: "pause in seconds", config: `backend: {lifecycle: {startupRequestPauseTimeout: 2}}`, want: Options{StartupRequestPauseTimeout: 2 * time.Second}},
		{name: "zero pause", config: `backend: {lifecycle: {startupRequestPauseTimeout: 0s}}`, wantErr: "config key backend.lifecycle.startupRequestPauseTimeout is 0s; use a positive duration such as 5s"},
		{name: "bad pause", config: `backend: {lifecycle: {startupRequestPauseTimeout: soon}}`, wantErr: "backend.lifecycle.startupRequestPauseTimeout"},
		{name: "zero limit", config: `backend: {http: {maxRequestBodyBytes: 0}}`, wantErr: "config key backend.http.maxRequestBodyBytes is 0; use a positive number of bytes such as 1048576"},
		{name: "bad limit", config: `backend: {http: {maxRequestBodyBytes: lots}}`, wantErr: "backend.http.maxRequestBodyBytes"},
		{name: "bad flag", config: `backend: {auth: {dangerouslyDisableDefaultAuthPolicy: [yes]}}`, wantErr: "backend.auth.dangerouslyDisableDefaultAuthPolicy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.FromYAML(tt.config)
			if err != nil {
				t.Fatal(err)
			}
			got, err := optionsFromConfig(cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

type pluginMetadata string

func (p pluginMetadata) ID() string { return string(p) }

// pluginDepsFor returns the dependencies of Factory for plugin todo.
func pluginDepsFor(t *testing.T, yaml string, root core.RootHTTPRouter) (pluginDeps, *fakeLifecycle) {
	t.Helper()
	cfg, err := config.FromYAML(yaml)
	if err != nil {
		t.Fatal(err)
	}
	a := &fakeAuth{}
	lc := &fakeLifecycle{}
	logger, _ := newTestLogger()
	return pluginDeps{
		Plugin: pluginMetadata("todo"), Root: root, HTTPAuth: &fakeHTTPAuth{auth: a}, Auth: a,
		Lifecycle: lc, Logger: logger, Config: cfg,
	}, lc
}

func TestFactoryMountsTheRouter(t *testing.T) {
	root := NewRoot(RootOptions{})
	d, lc := pluginDepsFor(t, `backend: {http: {maxRequestBodyBytes: 10}}`, root)
	svc, err := newPluginService(t.Context(), d, factoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc.Handle("POST /todos", echo("create"))
	if err := lc.start(t.Context()); err != nil {
		t.Fatal(err)
	}
	rec := serve(root.Handler(), req{method: "POST", path: "/api/todo/todos", token: userToken, body: `{"title":"milk"}`})
	if rec.Code != 413 {
		t.Errorf("got %d %s, want 413 from the configured limit", rec.Code, rec.Body)
	}
	rec = serve(root.Handler(), req{method: "POST", path: "/api/todo/todos", token: userToken, body: `{}`})
	if rec.Code != 200 || rec.Body.String() != "create /todos" {
		t.Errorf("got %d %s", rec.Code, rec.Body)
	}
}

func TestFactoryFails(t *testing.T) {
	taken := NewRoot(RootOptions{})
	if err := taken.Use("/api/todo", echo("other")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		yaml    string
		root    core.RootHTTPRouter
		refuse  error
		wantErr string
	}{
		{"bad config", `backend: {http: {maxRequestBodyBytes: -1}}`, NewRoot(RootOptions{}), nil, "httprouter: plugin 'todo': config key backend.http.maxRequestBodyBytes is -1"},
		{"mount taken", `{}`, taken, nil, "httprouter: plugin 'todo': mount its router at /api/todo: httprouter: Path /api/todo conflicts with the existing path /api/todo"},
		{"lifecycle refuses", `{}`, NewRoot(RootOptions{}), errors.New("too late"), "add the startup hook that opens the router: too late"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, lc := pluginDepsFor(t, tt.yaml, tt.root)
			lc.refuseStartup = tt.refuse
			_, err := newPluginService(t.Context(), d, factoryOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestPolicyMatches(t *testing.T) {
	tests := []struct {
		policy string
		path   string
		want   bool
	}{
		{"/health", "/health", true},
		{"/health", "/health/", true},
		{"/health", "/health/x/y", true},
		{"/health", "/healthz", false},
		{"/health", "/", false},
		{"/health", "/x/health", false},
		{"/a/b", "/a", false},
		{"/a/:id", "/a/7", true},
		{"/a/:id", "/a/7/x", true},
		{"/a/:id", "/a/", false},
		{"/a/:id/b", "/a/7/c", false},
		{"/:p", "/anything", true},
		{"/", "/anything/at/all", true},
		{"*", "/", true},
		{"/a%2Fb", "/a%2Fb/c", true},
		{"/a%2Fb", "/a/b", false},
		{"/a/./b/", "/a/b/c", true},
	}
	for _, tt := range tests {
		p, err := parsePolicy(tt.policy, core.AllowUnauthenticated)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.matches(pathSegments(tt.path)); got != tt.want {
			t.Errorf("policy %q matches %q = %v, want %v", tt.policy, tt.path, got, tt.want)
		}
	}
}

func TestPolicyCovers(t *testing.T) {
	tests := []struct {
		policy  string
		pattern string
		want    bool
	}{
		{"/health", "GET /health", true},
		{"/health", "/health/", true},
		{"/health", "GET /health/{rest...}", true},
		{"/health", "GET /healthz", false},
		{"/health/x", "GET /health", false},
		{"/health/x", "GET /health/", false},
		{"/health/x", "GET /health/{rest...}", false},
		{"/a/:id", "GET /a/{id}", true},
		{"/a/:id", "GET /a/b", true},
		{"/a/b", "GET /a/{id}", false},
		{"/a", "GET /a/{$}", true},
		{"/", "GET /{$}", true},
		{"/a", "GET /{$}", false},
		{"/a b", "GET /a%20b", true},
		{"/a", "GET host.example/a/b", true},
		{"/a", "no path", false},
	}
	for _, tt := range tests {
		p, err := parsePolicy(tt.policy, core.AllowUnauthenticated)
		if err != nil {
			t.Fatal(err)
		}
		segs, ok := patternSegments(tt.pattern)
		if got := ok && p.covers(segs); got != tt.want {
			t.Errorf("policy %q covers %q = %v, want %v", tt.policy, tt.pattern, got, tt.want)
		}
	}
}

func TestCookieIssueFailure(t *testing.T) {
	tr := startedRouter(t, Options{}, nil)
	tr.Router.httpAuth = failingCookies{tr.httpAuth}
	for _, method := range []string{"GET", "DELETE"} {
		rec := serve(tr, req{method: method, path: "/api/todo" + CookiePath, token: userToken})
		if rec.Code != 500 || !strings.Contains(tr.log.String(), "cookie jar on fire") {
			t.Errorf("%s: got %d %s, want a logged 500", method, rec.Code, rec.Body)
		}
	}
}

type failingCookies struct{ *fakeHTTPAuth }

func (failingCookies) IssueUserCookie(http.ResponseWriter, *http.Request, core.Credentials) (time.Time, error) {
	return time.Time{}, errors.New("cookie jar on fire")
}

func TestResponseWriterKeepsOptionalInterfaces(t *testing.T) {
	// Each request reports the outcome of using an optional interface of
	// the writer the plugin handler got, through two layers of wrapping.
	results := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/flush":
			f, ok := w.(http.Flusher)
			if !ok {
				results <- errors.New("not a Flusher")
				return
			}
			f.Flush()
			results <- nil
		case "/deadline":
			results <- http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Minute))
		case "/hijack":
			conn, rw, err := w.(http.Hijacker).Hijack()
			results <- err
			if err != nil {
				return
			}
			defer conn.Close()
			_, _ = rw.WriteString("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
			_ = rw.Flush()
		}
	})
	tr := startedRouter(t, Options{DangerouslyDisableDefaultAuthPolicy: true}, func(rt *Router) { rt.Use(h) })
	root := NewRoot(RootOptions{})
	if err := root.Use(tr.MountPath(), tr); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(root.Handler())
	t.Cleanup(srv.Close)

	for _, path := range []string{"/api/todo/flush", "/api/todo/deadline"} {
		resp, _ := get(t, srv.Client(), srv.URL+path)
		if err := <-results; resp.StatusCode != 200 || err != nil {
			t.Errorf("%s: %d, %v", path, resp.StatusCode, err)
		}
	}
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = conn.Write([]byte("GET /api/todo/hijack HTTP/1.1\r\nHost: x\r\n\r\n"))
	if err := <-results; err != nil {
		t.Fatalf("Hijack: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil || resp.StatusCode != 204 {
		t.Errorf("hijacked response: %v, %v", resp, err)
	}

	// Hijacking a writer that cannot be hijacked reports the error.
	w := &responseWriter{ResponseWriter: httptest.NewRecorder()}
	if _, _, err := w.Hijack(); err == nil || w.started {
		t.Errorf("Hijack of a recorder = %v (started %v), want an error", err, w.started)
	}
}

func TestSlogLoggerWith(t *testing.T) {
	logger, log := newTestLogger()
	logger.With("plugin", "todo").Info("hello")
	if !hasLine(log.String(), "msg=hello", "plugin=todo") {
		t.Errorf("log = %s", log)
	}
}

func TestBodyLimitClosesTheConnection(t *testing.T) {
	// A body over the limit that the handler reads leaves the rest of it
	// unread: the server must close the connection rather than reuse it.
	tr := startedRouter(t, Options{MaxRequestBodyBytes: 8, DangerouslyDisableDefaultAuthPolicy: true}, func(rt *Router) {
		rt.HandleFunc("POST /upload", func(w http.ResponseWriter, r *http.Request) {
			if _, err := io.ReadAll(r.Body); err != nil {
				errs.WriteJSON(w, r, errs.New(errs.PayloadTooLarge, "too large"))
			}
		})
	})
	root := NewRoot(RootOptions{})
	if err := root.Use(tr.MountPath(), tr); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(root.Handler())
	t.Cleanup(srv.Close)
	r, _ := http.NewRequest("POST", srv.URL+"/api/todo/upload", io.NopCloser(strings.NewReader(strings.Repeat("x", 64))))
	r.ContentLength = -1 // chunked: only reading finds out
	resp, err := srv.Client().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 || !resp.Close {
		t.Errorf("got %d, Connection: close %v; want 413 and the connection closed", resp.StatusCode, resp.Close)
	}
}
