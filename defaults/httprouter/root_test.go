package httprouter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/config"
	"github.com/greenroom-dev/greenroom/defaults/health"
	"github.com/greenroom-dev/greenroom/errs"
)

func TestRootUse(t *testing.T) {
	tests := []struct {
		name    string
		prefix  string
		h       http.Handler
		wantErr string
	}{
		{"empty", "", echo("x"), "Root router path may not be empty"},
		{"slash", "/", echo("x"), `Root router path may not be "/"`},
		{"relative", "api/x", echo("x"), `Root router path "api/x" must start with "/"`},
		{"trailing slash", "/api/x/", echo("x"), `Root router path "/api/x/" is not a clean path; use "/api/x"`},
		{"double slash", "/api//x", echo("x"), `is not a clean path; use "/api/x"`},
		{"dot segment", "/api/./x", echo("x"), `is not a clean path; use "/api/x"`},
		{"nil handler", "/api/x", nil, "the handler is nil"},
		{"same path", "/api/a", echo("x"), "Path /api/a conflicts with the existing path /api/a"},
		{"under an existing path", "/api/a/b", echo("x"), "Path /api/a/b conflicts with the existing path /api/a"},
		{"over an existing path", "/api", echo("x"), "Path /api conflicts with the existing path /api/a"},
		{"sibling sharing a prefix", "/api/ab", echo("x"), ""},
		{"other tree", "/static", echo("x"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := NewRoot(RootOptions{})
			if err := rt.Use("/api/a", echo("a")); err != nil {
				t.Fatal(err)
			}
			err := rt.Use(tt.prefix, tt.h)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Use(%q) = %v", tt.prefix, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Use(%q) = %v, want it to contain %q", tt.prefix, err, tt.wantErr)
			}
		})
	}
}

// staticHealth is a RootHealth with fixed answers.
type staticHealth struct{ ready bool }

func (h staticHealth) Liveness(context.Context) core.HealthStatus {
	return core.HealthStatus{Status: "ok"}
}
func (h staticHealth) Readiness(context.Context) core.HealthStatus {
	if h.ready {
		return core.HealthStatus{Status: "ok"}
	}
	return core.HealthStatus{Status: "error", Message: "Backend has not started yet"}
}

func TestRootHandler(t *testing.T) {
	tests := []struct {
		name         string
		noHealth     bool
		method, path string
		wantCode     int
		wantBody     string // exact for 2xx, the error message for errors
		wantLocation string
	}{
		{name: "mount", path: "/api/todo", wantCode: 200, wantBody: "todo /api/todo"},
		{name: "under a mount", path: "/api/todo/x/y", wantCode: 200, wantBody: "todo /api/todo/x/y"},
		{name: "longest mount", path: "/api/todo-extra/x", wantCode: 200, wantBody: "extra /api/todo-extra/x"},
		{name: "unknown plugin", path: "/api/nope/x", wantCode: 404, wantBody: "No plugin with id 'nope' is mounted at /api/nope; check that the plugin is added to the backend"},
		{name: "prefix of a plugin id is another plugin", path: "/api/tod", wantCode: 404, wantBody: "No plugin with id 'tod' is mounted at /api/tod; check that the plugin is added to the backend"},
		{name: "outside /api", path: "/index.html", wantCode: 404, wantBody: "Nothing is served at /index.html; plugin routes are under /api/<pluginId>"},
		{name: "liveness", path: "/.greenroom/health/v1/liveness", wantCode: 200, wantBody: "{\"status\":\"ok\"}\n"},
		{name: "readiness", path: "/.greenroom/health/v1/readiness", wantCode: 503},
		{name: "health without a health service", noHealth: true, path: "/.greenroom/health/v1/liveness", wantCode: 404},
		{name: "unclean path", path: "/api/todo//x/../y?a=1", wantCode: 307, wantLocation: "/api/todo/y?a=1"},
		{name: "unclean path keeps escapes", path: "/api/todo/./a%20b", wantCode: 307, wantLocation: "/api/todo/a%20b"},
		{name: "no open redirect", path: "//evil.example/x", wantCode: 307, wantLocation: "/evil.example/x"},
		{name: "dot dot above root", path: "/../api/todo", wantCode: 307, wantLocation: "/api/todo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := RootOptions{Health: staticHealth{}}
			if tt.noHealth {
				opts.Health = nil
			}
			rt := NewRoot(opts)
			for prefix, name := range map[string]string{"/api/todo": "todo", "/api/todo-extra": "extra"} {
				if err := rt.Use(prefix, echo(name)); err != nil {
					t.Fatal(err)
				}
			}
			method := tt.method
			if method == "" {
				method = "GET"
			}
			r := httptest.NewRequest(method, "/", nil)
			r.URL.Path, r.URL.RawQuery, _ = strings.Cut(tt.path, "?")
			if esc := strings.Split(tt.path, "?")[0]; strings.Contains(esc, "%") {
				r.URL.RawPath = esc
				r.URL.Path, _ = url.PathUnescape(esc)
			}
			r.RequestURI = tt.path
			rec := httptest.NewRecorder()
			rt.Handler().ServeHTTP(rec, r)
			if rec.Code != tt.wantCode {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.wantCode, rec.Body)
			}
			switch {
			case tt.wantLocation != "":
				if got := rec.Header().Get("Location"); got != tt.wantLocation {
					t.Errorf("Location = %q, want %q", got, tt.wantLocation)
				}
			case rec.Code >= 400 && tt.wantBody != "":
				if b := errorBody(t, rec); b.Error.Name != errs.NotFound || b.Error.Message != tt.wantBody {
					t.Errorf("error = %s %q, want NotFoundError %q", b.Error.Name, b.Error.Message, tt.wantBody)
				}
			case tt.wantBody != "":
				if rec.Body.String() != tt.wantBody {
					t.Errorf("body = %q, want %q", rec.Body, tt.wantBody)
				}
			}
		})
	}
}

func TestRootRecoversPanics(t *testing.T) {
	logger, log := newTestLogger()
	rt := NewRoot(RootOptions{Logger: logger})
	boom := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(fmt.Errorf("token %s leaked", "s3cret")) })
	if err := rt.Use("/boom", boom); err != nil {
		t.Fatal(err)
	}
	if err := rt.Use("/ok", echo("ok")); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rt.Handler())
	t.Cleanup(srv.Close)

	resp, body := get(t, srv.Client(), srv.URL+"/boom")
	if resp.StatusCode != 500 || !strings.Contains(body, `"name":"InternalError"`) || strings.Contains(body, "s3cret") {
		t.Errorf("got %d %s, want a 500 InternalError that does not reveal the panic", resp.StatusCode, body)
	}
	if !hasLine(log.String(), "level=ERROR", "panic serving request", "s3cret", "stack=") {
		t.Errorf("log = %s, want the panic with its stack", log)
	}
	if resp, body := get(t, srv.Client(), srv.URL+"/ok"); resp.StatusCode != 200 || body != "ok /ok" {
		t.Errorf("next request: %d %q, want 200: the server keeps serving", resp.StatusCode, body)
	}
	if !hasLine(log.String(), "level=DEBUG", "msg=request", "method=GET", "path=/ok", "status=200") {
		t.Errorf("log = %s, want the request logged at debug level", log)
	}
}

func TestRootAbortsResponseThatBegan(t *testing.T) {
	rt := NewRoot(RootOptions{})
	half := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		_, _ = w.Write([]byte("partial"))
		w.(http.Flusher).Flush() // the client has the headers and part of the body
		panic("late")
	})
	if err := rt.Use("/half", half); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rt.Handler())
	t.Cleanup(srv.Close)
	resp, err := srv.Client().Get(srv.URL + "/half")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.ReadAll(resp.Body); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("reading the body: %v, want io.ErrUnexpectedEOF: the connection is dropped, not the response completed", err)
	}
}

func get(t *testing.T, c *http.Client, url string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestRootNamesFullURLForInProcessRequests(t *testing.T) {
	tr := startedRouter(t, Options{}, func(rt *Router) {
		rt.HandleFunc("GET /todos/{id}", func(w http.ResponseWriter, r *http.Request) {
			errs.WriteJSON(w, r, errs.NewNotFound("todo %s not found", r.PathValue("id")))
		})
	})
	root := NewRoot(RootOptions{})
	if err := root.Use(tr.MountPath(), tr); err != nil {
		t.Fatal(err)
	}
	// A client request, as an in-process transport hands it over: no
	// RequestURI.
	r, err := http.NewRequest("GET", "http://backend/api/todo/todos/7?full=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Authorization", "Bearer "+userToken)
	rec := httptest.NewRecorder()
	root.Handler().ServeHTTP(rec, r)
	if b := errorBody(t, rec); rec.Code != 404 || b.Request.URL != "/api/todo/todos/7?full=1" {
		t.Errorf("got %d, request.url %q; want 404 naming /api/todo/todos/7?full=1", rec.Code, b.Request.URL)
	}
}

func TestRootListen(t *testing.T) {
	rt := NewRoot(RootOptions{Health: staticHealth{ready: true}})
	if rt.Addr() != nil {
		t.Errorf("Addr before Listen = %v, want nil", rt.Addr())
	}
	if err := rt.Shutdown(t.Context()); err != nil {
		t.Errorf("Shutdown before Listen = %v, want nil", err)
	}
	if err := rt.Listen(t.Context(), "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Shutdown(context.Background()) })
	addr := rt.Addr()
	if addr == nil || addr.(*net.TCPAddr).Port == 0 {
		t.Fatalf("Addr = %v, want the bound port", addr)
	}
	if err := rt.Listen(t.Context(), "127.0.0.1:0"); err == nil || !strings.Contains(err.Error(), "already listens on "+addr.String()) {
		t.Errorf("second Listen = %v, want an error naming the address", err)
	}
	// Mounting after the server started works.
	if err := rt.Use("/api/todo", echo("todo")); err != nil {
		t.Fatal(err)
	}
	c := &http.Client{}
	if resp, body := get(t, c, "http://"+addr.String()+"/api/todo/x"); resp.StatusCode != 200 || body != "todo /api/todo/x" {
		t.Errorf("got %d %q", resp.StatusCode, body)
	}
	if resp, _ := get(t, c, "http://"+addr.String()+health.ReadinessPath); resp.StatusCode != 200 {
		t.Errorf("readiness: %d", resp.StatusCode)
	}
	c.CloseIdleConnections()
	if err := rt.Shutdown(t.Context()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if _, err := c.Get("http://" + addr.String() + "/api/todo/x"); err == nil {
		t.Error("the server still answers after Shutdown")
	}
}

func TestRootListenFails(t *testing.T) {
	taken := NewRoot(RootOptions{})
	if err := taken.Listen(t.Context(), "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = taken.Shutdown(context.Background()) })
	err := NewRoot(RootOptions{}).Listen(t.Context(), taken.Addr().String())
	if err == nil || !strings.Contains(err.Error(), "listen on "+taken.Addr().String()) {
		t.Errorf("Listen on a taken port = %v, want an error naming the address", err)
	}
}

func TestRootShutdownClosesRequestsThatOutliveTheDeadline(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	rt := NewRoot(RootOptions{})
	hang := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	})
	if err := rt.Use("/hang", hang); err != nil {
		t.Fatal(err)
	}
	if err := rt.Listen(t.Context(), "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	clientErr := make(chan error)
	go func() {
		resp, err := http.Get("http://" + rt.Addr().String() + "/hang")
		if err == nil {
			resp.Body.Close()
		}
		clientErr <- err
	}()
	<-entered
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // no grace period left
	err := rt.Shutdown(ctx)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "open connections were closed") {
		t.Errorf("Shutdown = %v, want the context error and the connections closed", err)
	}
	if err := <-clientErr; err == nil {
		t.Error("the hanging request completed, want its connection closed")
	}
	close(release)
}

// rootDepsFor returns the dependencies of RootFactory with config from m.
func rootDepsFor(t *testing.T, m map[string]any) (rootDeps, *fakeLifecycle, *logBuffer) {
	t.Helper()
	cfg, err := config.FromMap(m)
	if err != nil {
		t.Fatal(err)
	}
	logger, log := newTestLogger()
	lc := &fakeLifecycle{}
	return rootDeps{Config: cfg, Logger: logger, Lifecycle: lc, Health: staticHealth{}}, lc, log
}

func TestRootFactory(t *testing.T) {
	d, lc, log := rootDepsFor(t, map[string]any{"backend": map[string]any{"listen": map[string]any{"host": "127.0.0.1", "port": 0}}})
	svc, err := newRootService(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lc.stop(context.Background()) })
	root := svc.(*Root)
	addr := root.Addr().String()
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Errorf("Addr = %s, want 127.0.0.1:<port>", addr)
	}
	if !hasLine(log.String(), "level=INFO", "Listening on "+addr) {
		t.Errorf("log = %s, want the address", log)
	}
	// Readiness answers while plugins have not started.
	resp, _ := get(t, &http.Client{}, "http://"+addr+health.ReadinessPath)
	if resp.StatusCode != 503 {
		t.Errorf("readiness before start: %d, want 503", resp.StatusCode)
	}
	// The root drain hook stops the server.
	if err := lc.stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + addr + health.LivenessPath); err == nil {
		t.Error("the server answers after the root drain hooks ran")
	}
}

func TestRootFactoryFails(t *testing.T) {
	taken := NewRoot(RootOptions{})
	if err := taken.Listen(t.Context(), "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = taken.Shutdown(context.Background()) })
	takenPort := taken.Addr().(*net.TCPAddr).Port

	listen := func(v map[string]any) map[string]any {
		return map[string]any{"backend": map[string]any{"listen": v}}
	}
	tests := []struct {
		name     string
		config   map[string]any
		lcRefuse error
		wantErr  string
	}{
		{"port taken", listen(map[string]any{"host": "127.0.0.1", "port": takenPort}), nil, "free the port, or choose another with the config key backend.listen.port (0 picks a free one)"},
		{"port out of range", listen(map[string]any{"port": 70000}), nil, "config key backend.listen.port is 70000; use a port from 1 to 65535, or 0 to pick a free one"},
		{"port not a number", listen(map[string]any{"port": "http"}), nil, "backend.listen.port"},
		{"host not a string", listen(map[string]any{"host": []any{"a"}}), nil, "backend.listen.host"},
		{"lifecycle refuses the hook", listen(map[string]any{"host": "127.0.0.1", "port": 0}), errors.New("Attempted to add drain hook after draining has started"), "add the root drain hook that stops the HTTP server: Attempted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, lc, _ := rootDepsFor(t, tt.config)
			lc.refuseDrain = tt.lcRefuse
			svc, err := newRootService(t.Context(), d)
			if err == nil {
				_ = svc.(*Root).Shutdown(context.Background())
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestListenAddr(t *testing.T) {
	tests := []struct {
		name   string
		config map[string]any
		want   string
	}{
		{"defaults", map[string]any{}, ":7007"},
		{"port", map[string]any{"backend": map[string]any{"listen": map[string]any{"port": 8080}}}, ":8080"},
		{"host and port", map[string]any{"backend": map[string]any{"listen": map[string]any{"host": "::1", "port": 0}}}, "[::1]:0"},
		{"port as a string, as from the environment", map[string]any{"backend": map[string]any{"listen": map[string]any{"port": "9000"}}}, ":9000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.FromMap(tt.config)
			if err != nil {
				t.Fatal(err)
			}
			got, err := listenAddr(cfg)
			if err != nil || got != tt.want {
				t.Errorf("listenAddr = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
