package httprouter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/httpjson"
	"github.com/greenroom-dev/greenroom/internal/reqctx"
)

// req describes a test request.
type req struct {
	method, path string
	token        string // bearer token
	cookie       string // value of the auth cookie
	body         string
	chunked      bool // send the body without a Content-Length
}

func (q req) build() *http.Request {
	method := q.method
	if method == "" {
		method = "GET"
	}
	var body io.Reader
	if q.body != "" {
		body = strings.NewReader(q.body)
	}
	r := httptest.NewRequest(method, q.path, body)
	if q.body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if q.chunked {
		r.ContentLength = -1
	}
	if q.token != "" {
		r.Header.Set("Authorization", "Bearer "+q.token)
	}
	if q.cookie != "" {
		r.AddCookie(&http.Cookie{Name: cookieName, Value: q.cookie})
	}
	return r
}

func serve(h http.Handler, q req) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, q.build())
	return rec
}

// errorBody decodes a JSON error body.
func errorBody(t *testing.T, rec *httptest.ResponseRecorder) errs.Body {
	t.Helper()
	var b errs.Body
	if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
		t.Fatalf("body %q is not the JSON error shape: %v", rec.Body, err)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want JSON", ct)
	}
	return b
}

// echo answers 200 with "<name> <path>" and the path value "id", if any.
func echo(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s%s", name, r.URL.Path, map[bool]string{true: " id=" + r.PathValue("id")}[r.PathValue("id") != ""])
	})
}

func todoRoutes(rt *Router) {
	rt.Handle("GET /todos", echo("list"))
	rt.Handle("POST /todos", echo("create"))
	rt.Handle("GET /todos/{id}", echo("get"))
	rt.Handle("GET /todos/{id}/public", echo("public"))
	rt.Handle("GET /todos/{id}/private", echo("private"))
	rt.Handle("GET /health", echo("health"))
	rt.Handle("GET /health/deep", echo("deep"))
	rt.Handle("GET /healthz", echo("healthz"))
	rt.Handle("GET /images/{name}", echo("image"))
	rt.Handle("GET /p/{a}/admin", echo("admin"))
	rt.Handle("GET /dir/", echo("dir"))
	rt.Handle("GET /{$}", echo("root"))
}

func TestRouterStatus(t *testing.T) {
	type policies = map[string]core.AuthPolicy
	tests := []struct {
		name        string
		policies    policies
		disableAuth bool
		req         req
		wantCode    int
		wantBody    string    // exact body for 2xx/3xx
		wantErr     errs.Name // error name for 4xx/5xx
		wantMessage string
	}{
		{name: "no credentials", req: req{path: "/api/todo/todos"}, wantCode: 401, wantErr: errs.Authentication, wantMessage: "Missing credentials"},
		{name: "invalid token", req: req{path: "/api/todo/todos", token: "forged"}, wantCode: 401, wantErr: errs.Authentication, wantMessage: "Illegal token"},
		{name: "user", req: req{path: "/api/todo/todos", token: userToken}, wantCode: 200, wantBody: "list /todos"},
		{name: "service", req: req{path: "/api/todo/todos/7", token: serviceToken}, wantCode: 200, wantBody: "get /todos/7 id=7"},
		{name: "limited token as bearer off a user-cookie path", req: req{path: "/api/todo/todos", token: limitedToken}, wantCode: 401, wantErr: errs.Authentication, wantMessage: "Limited user token is not allowed here"},
		{name: "unknown path without credentials is 401, not 404", req: req{path: "/api/todo/no-such-path"}, wantCode: 401, wantErr: errs.Authentication},
		{name: "unknown path with credentials is 404", req: req{path: "/api/todo/no-such-path", token: userToken}, wantCode: 404, wantErr: errs.NotFound, wantMessage: "Plugin 'todo' has no route for GET /api/todo/no-such-path"},
		{name: "method not allowed", req: req{method: "DELETE", path: "/api/todo/todos", token: userToken}, wantCode: 405, wantErr: errs.MethodNotAllowed, wantMessage: "Plugin 'todo' does not allow DELETE for /api/todo/todos; allowed: GET, HEAD, POST"},
		{name: "mount root", req: req{path: "/api/todo", token: userToken}, wantCode: 200, wantBody: "root /"},
		{name: "mount root with slash", req: req{path: "/api/todo/", token: userToken}, wantCode: 200, wantBody: "root /"},

		// Policies.
		{name: "unauthenticated policy opens its path", policies: policies{"/health": core.AllowUnauthenticated}, req: req{path: "/api/todo/health"}, wantCode: 200, wantBody: "health /health"},
		{name: "unauthenticated policy opens sub paths", policies: policies{"/health": core.AllowUnauthenticated}, req: req{path: "/api/todo/health/deep"}, wantCode: 200, wantBody: "deep /health/deep"},
		{name: "policy /health does not open /healthz", policies: policies{"/health": core.AllowUnauthenticated}, req: req{path: "/api/todo/healthz"}, wantCode: 401, wantErr: errs.Authentication},
		{name: "policy with trailing slash", policies: policies{"/health/": core.AllowUnauthenticated}, req: req{path: "/api/todo/health"}, wantCode: 200, wantBody: "health /health"},
		{name: "unknown path under an open prefix is 404", policies: policies{"/health": core.AllowUnauthenticated}, req: req{path: "/api/todo/health/nope"}, wantCode: 404, wantErr: errs.NotFound},
		{name: "invalid token on an open path passes", policies: policies{"/health": core.AllowUnauthenticated}, req: req{path: "/api/todo/health", token: "forged"}, wantCode: 200, wantBody: "health /health"},
		{name: "param segment opens matching path", policies: policies{"/todos/:id/public": core.AllowUnauthenticated}, req: req{path: "/api/todo/todos/7/public"}, wantCode: 200, wantBody: "public /todos/7/public id=7"},
		{name: "param segment needs the literal rest", policies: policies{"/todos/:id/public": core.AllowUnauthenticated}, req: req{path: "/api/todo/todos/7/private"}, wantCode: 401, wantErr: errs.Authentication},
		{name: "param segment needs a segment", policies: policies{"/todos/:id": core.AllowUnauthenticated}, req: req{path: "/api/todo/todos"}, wantCode: 401, wantErr: errs.Authentication},
		{name: "slash opens everything", policies: policies{"/": core.AllowUnauthenticated}, req: req{path: "/api/todo/todos"}, wantCode: 200, wantBody: "list /todos"},
		{name: "star opens everything", policies: policies{"*": core.AllowUnauthenticated}, req: req{path: "/api/todo/no-such-path"}, wantCode: 404, wantErr: errs.NotFound},
		// An escaped slash would be one segment for the policies but two
		// for a handler that decodes the path: it is not served.
		{name: "escaped slash is rejected before the policies", policies: policies{"/p/public": core.AllowUnauthenticated}, req: req{path: "/api/todo/p/public%2Fsecret/admin"}, wantCode: 400, wantErr: errs.Input},
		{name: "escaped slash is rejected with credentials too", req: req{path: "/api/todo/p/public%2Fsecret/admin", token: userToken}, wantCode: 400, wantErr: errs.Input},
		{name: "an escaped colon stays in its segment", req: req{path: "/api/todo/p/component%3Adefault%3Aa/admin", token: userToken}, wantCode: 200, wantBody: "admin /p/component:default:a/admin"},
		{name: "escaped policy segment", policies: policies{"/p/a%20b": core.AllowUnauthenticated}, req: req{path: "/api/todo/p/a%20b/admin"}, wantCode: 200, wantBody: "admin /p/a b/admin"},

		// User cookie.
		{name: "cookie accepted on a user-cookie path", policies: policies{"/images": core.AllowUserCookie}, req: req{path: "/api/todo/images/cat.png", cookie: limitedToken}, wantCode: 200, wantBody: "image /images/cat.png"},
		{name: "limited bearer accepted on a user-cookie path", policies: policies{"/images": core.AllowUserCookie}, req: req{path: "/api/todo/images/cat.png", token: limitedToken}, wantCode: 200, wantBody: "image /images/cat.png"},
		{name: "full token still accepted on a user-cookie path", policies: policies{"/images": core.AllowUserCookie}, req: req{path: "/api/todo/images/cat.png", token: serviceToken}, wantCode: 200, wantBody: "image /images/cat.png"},
		{name: "user-cookie path still needs credentials", policies: policies{"/images": core.AllowUserCookie}, req: req{path: "/api/todo/images/cat.png"}, wantCode: 401, wantErr: errs.Authentication, wantMessage: "Missing credentials"},
		{name: "cookie ignored off a user-cookie path", policies: policies{"/images": core.AllowUserCookie}, req: req{path: "/api/todo/todos", cookie: limitedToken}, wantCode: 401, wantErr: errs.Authentication, wantMessage: "Missing credentials"},
		{name: "most relaxed policy wins", policies: policies{"/images": core.AllowUserCookie, "/images/public": core.AllowUnauthenticated}, req: req{path: "/api/todo/images/public"}, wantCode: 200, wantBody: "image /images/public"},

		// Default auth policy disabled.
		{name: "disabled default policy lets anyone in", disableAuth: true, req: req{path: "/api/todo/todos"}, wantCode: 200, wantBody: "list /todos"},
		{name: "disabled default policy, unknown path is 404", disableAuth: true, req: req{path: "/api/todo/no-such-path"}, wantCode: 404, wantErr: errs.NotFound},

		// ServeMux redirects carry the mount.
		{name: "trailing slash redirect keeps the mount", req: req{path: "/api/todo/dir?x=1", token: userToken}, wantCode: 307},
		{name: "subtree", req: req{path: "/api/todo/dir/a/b", token: userToken}, wantCode: 200, wantBody: "dir /dir/a/b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := startedRouter(t, Options{DangerouslyDisableDefaultAuthPolicy: tt.disableAuth}, func(rt *Router) {
				todoRoutes(rt)
				for p, a := range tt.policies {
					rt.AddAuthPolicy(p, a)
				}
			})
			rec := serve(tr, tt.req)
			if rec.Code != tt.wantCode {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.wantCode, rec.Body)
			}
			switch {
			case tt.wantErr != "":
				b := errorBody(t, rec)
				if b.Error.Name != tt.wantErr || (tt.wantMessage != "" && b.Error.Message != tt.wantMessage) {
					t.Errorf("error = %s %q, want %s %q", b.Error.Name, b.Error.Message, tt.wantErr, tt.wantMessage)
				}
				if want := tt.req.build().URL.RequestURI(); b.Request.URL != want || b.Response.StatusCode != tt.wantCode {
					t.Errorf("body request.url = %q, statusCode %d; want %q, %d", b.Request.URL, b.Response.StatusCode, want, tt.wantCode)
				}
			case rec.Code == 307:
				if got := rec.Header().Get("Location"); got != "/api/todo/dir/?x=1" {
					t.Errorf("Location = %q, want /api/todo/dir/?x=1", got)
				}
			default:
				if rec.Body.String() != tt.wantBody {
					t.Errorf("body = %q, want %q", rec.Body, tt.wantBody)
				}
			}
		})
	}
}

func TestRouterVerifiesCredentialsOnce(t *testing.T) {
	tr := newTestRouter(t, Options{})
	tr.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		creds, err := tr.httpAuth.Credentials(r, core.PrincipalUser)
		if err != nil {
			errs.WriteJSON(w, r, err)
			return
		}
		fmt.Fprint(w, creds.Principal.UserEntityRef)
	})
	if err := tr.lc.start(t.Context()); err != nil {
		t.Fatal(err)
	}
	rec := serve(tr, req{path: "/api/todo/me", token: userToken})
	if rec.Code != 200 || rec.Body.String() != "user:default/alice" {
		t.Fatalf("got %d %q", rec.Code, rec.Body)
	}
	if tr.httpAuth.calls != 1 {
		t.Errorf("the token was verified %d times, want once: the barrier and the handler share the request state", tr.httpAuth.calls)
	}
}

func TestRequestState(t *testing.T) {
	var got *reqctx.State
	tr := startedRouter(t, Options{}, func(rt *Router) {
		rt.AddAuthPolicy("/img", core.AllowUserCookie)
		rt.HandleFunc("GET /img", func(w http.ResponseWriter, r *http.Request) { got = reqctx.From(r.Context()) })
		rt.HandleFunc("GET /doc", func(w http.ResponseWriter, r *http.Request) { got = reqctx.From(r.Context()) })
	})
	for _, tt := range []struct {
		path    string
		limited bool
	}{{"/api/todo/img", true}, {"/api/todo/doc", false}} {
		got = nil
		if rec := serve(tr, req{path: tt.path, token: userToken}); rec.Code != 200 {
			t.Fatalf("%s: %d %s", tt.path, rec.Code, rec.Body)
		}
		if got == nil || got.PluginID != "todo" || got.LimitedAccess != tt.limited || got.Logger == nil {
			t.Errorf("%s: state = %+v, want plugin todo, LimitedAccess %v and the plugin logger", tt.path, got, tt.limited)
		}
	}
}

func TestBodyLimit(t *testing.T) {
	type payload struct {
		Title string `json:"title"`
	}
	var called int
	tr := startedRouter(t, Options{MaxRequestBodyBytes: 32}, func(rt *Router) {
		rt.Handle("POST /todos", httpjson.Handler(func(w http.ResponseWriter, r *http.Request) error {
			called++
			var p payload
			if err := httpjson.Decode(r, &p); err != nil {
				return err
			}
			return httpjson.Write(w, http.StatusCreated, p)
		}))
	})
	small := `{"title":"milk"}`
	big := `{"title":"` + strings.Repeat("x", 64) + `"}`
	tests := []struct {
		name       string
		req        req
		wantCode   int
		wantCalled int
	}{
		{"within the limit", req{method: "POST", path: "/api/todo/todos", token: userToken, body: small}, 201, 1},
		{"Content-Length over the limit is refused before the handler", req{method: "POST", path: "/api/todo/todos", token: userToken, body: big}, 413, 0},
		{"chunked body over the limit fails when read", req{method: "POST", path: "/api/todo/todos", token: userToken, body: big, chunked: true}, 413, 1},
		{"chunked body within the limit", req{method: "POST", path: "/api/todo/todos", token: userToken, body: small, chunked: true}, 201, 1},
		{"credentials are checked before the body", req{method: "POST", path: "/api/todo/todos", body: big}, 401, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called = 0
			rec := serve(tr, tt.req)
			if rec.Code != tt.wantCode || called != tt.wantCalled {
				t.Fatalf("got %d (handler called %d times), want %d (%d); body %s", rec.Code, called, tt.wantCode, tt.wantCalled, rec.Body)
			}
			if rec.Code == 413 {
				b := errorBody(t, rec)
				want := "Request body is larger than the limit of 32 bytes; send less, or raise the limit with the config key backend.http.maxRequestBodyBytes"
				if b.Error.Name != errs.PayloadTooLarge || b.Error.Message != want {
					t.Errorf("error = %s %q", b.Error.Name, b.Error.Message)
				}
			}
		})
	}
}

func TestDefaultBodyLimit(t *testing.T) {
	tr := startedRouter(t, Options{}, func(rt *Router) { rt.Handle("POST /x", echo("x")) })
	q := req{method: "POST", path: "/api/todo/x", token: userToken, body: strings.Repeat(" ", DefaultMaxRequestBodyBytes+1)}
	if rec := serve(tr, q); rec.Code != 413 {
		t.Errorf("a body of 1 MiB + 1 byte: %d, want 413", rec.Code)
	}
	q.body = strings.Repeat(" ", DefaultMaxRequestBodyBytes)
	if rec := serve(tr, q); rec.Code != 200 {
		t.Errorf("a body of 1 MiB: %d, want 200", rec.Code)
	}
}

func TestPanicRecovery(t *testing.T) {
	tr := startedRouter(t, Options{}, func(rt *Router) {
		rt.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic("secret: db password is hunter2") })
		rt.Handle("GET /ok", echo("ok"))
	})
	rec := serve(tr, req{path: "/api/todo/boom", token: userToken})
	if rec.Code != 500 {
		t.Fatalf("status = %d, want 500", rec.Code)
	}
	b := errorBody(t, rec)
	if b.Error.Name != errs.Internal || strings.Contains(rec.Body.String(), "hunter2") {
		t.Errorf("body = %s, want an InternalError that does not reveal the panic", rec.Body)
	}
	if !hasLine(tr.log.String(), "level=ERROR", "panic serving request in plugin 'todo'", "hunter2", "stack=", "router_test.go") {
		t.Errorf("log = %s, want the panic logged with the plugin, its value and stack", tr.log)
	}
	if rec := serve(tr, req{path: "/api/todo/ok", token: userToken}); rec.Code != 200 {
		t.Errorf("next request: %d, want 200", rec.Code)
	}
}

func TestPanicAfterResponseBeganAborts(t *testing.T) {
	tr := startedRouter(t, Options{}, func(rt *Router) {
		rt.HandleFunc("GET /half", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("partial"))
			panic("late")
		})
		rt.HandleFunc("GET /abort", func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) })
	})
	for _, path := range []string{"/api/todo/half", "/api/todo/abort"} {
		func() {
			defer func() {
				if v := recover(); v != http.ErrAbortHandler {
					t.Errorf("%s: recovered %v, want http.ErrAbortHandler so that net/http drops the connection", path, v)
				}
			}()
			serve(tr, req{path: path, token: userToken})
		}()
	}
	if strings.Count(tr.log.String(), "panic serving") != 1 {
		t.Errorf("log = %s, want the late panic logged once and the deliberate abort not at all", tr.log)
	}
}

func TestLifecycleGate(t *testing.T) {
	t.Run("before start, after the pause", func(t *testing.T) {
		tr := newTestRouter(t, Options{StartupRequestPauseTimeout: time.Millisecond})
		tr.Handle("GET /todos", echo("list"))
		rec := serve(tr, req{path: "/api/todo/todos", token: userToken})
		if b := errorBody(t, rec); rec.Code != 503 || b.Error.Name != errs.ServiceUnavailable || b.Error.Message != "Service has not started up yet" {
			t.Errorf("got %d %s %q, want 503 Service has not started up yet", rec.Code, b.Error.Name, b.Error.Message)
		}
	})
	t.Run("before start, the gate applies to unauthenticated callers too", func(t *testing.T) {
		tr := newTestRouter(t, Options{StartupRequestPauseTimeout: time.Millisecond})
		if rec := serve(tr, req{path: "/api/todo/todos"}); rec.Code != 503 {
			t.Errorf("got %d, want 503", rec.Code)
		}
	})
	t.Run("a waiting request goes on when the plugin starts", func(t *testing.T) {
		tr := newTestRouter(t, Options{StartupRequestPauseTimeout: time.Hour})
		tr.Handle("GET /todos", echo("list"))
		waiting := make(chan struct{})
		tr.waiting = func() { close(waiting) }
		done := make(chan *httptest.ResponseRecorder)
		go func() { done <- serve(tr, req{path: "/api/todo/todos", token: userToken}) }()
		<-waiting
		if err := tr.lc.start(t.Context()); err != nil {
			t.Fatal(err)
		}
		if rec := <-done; rec.Code != 200 || rec.Body.String() != "list /todos" {
			t.Errorf("got %d %q, want 200 once started", rec.Code, rec.Body)
		}
	})
	t.Run("a waiting request is refused when the plugin shuts down", func(t *testing.T) {
		tr := newTestRouter(t, Options{StartupRequestPauseTimeout: time.Hour})
		waiting := make(chan struct{})
		tr.waiting = func() { close(waiting) }
		done := make(chan *httptest.ResponseRecorder)
		go func() { done <- serve(tr, req{path: "/api/todo/todos", token: userToken}) }()
		<-waiting
		if err := tr.lc.stop(t.Context()); err != nil {
			t.Fatal(err)
		}
		rec := <-done
		if b := errorBody(t, rec); rec.Code != 503 || b.Error.Message != "Service is shutting down" {
			t.Errorf("got %d %q, want 503 Service is shutting down", rec.Code, b.Error.Message)
		}
	})
	t.Run("a waiting request is refused when the caller goes away", func(t *testing.T) {
		tr := newTestRouter(t, Options{StartupRequestPauseTimeout: time.Hour})
		ctx, cancel := context.WithCancel(t.Context())
		tr.waiting = cancel
		r := req{path: "/api/todo/todos", token: userToken}.build().WithContext(ctx)
		rec := httptest.NewRecorder()
		tr.ServeHTTP(rec, r)
		if rec.Code != 503 {
			t.Errorf("got %d, want 503", rec.Code)
		}
	})
	t.Run("after shutdown", func(t *testing.T) {
		tr := startedRouter(t, Options{}, func(rt *Router) { rt.Handle("GET /todos", echo("list")) })
		if rec := serve(tr, req{path: "/api/todo/todos", token: userToken}); rec.Code != 200 {
			t.Fatalf("started: %d", rec.Code)
		}
		if err := tr.lc.stop(t.Context()); err != nil {
			t.Fatal(err)
		}
		rec := serve(tr, req{path: "/api/todo/todos", token: userToken})
		if b := errorBody(t, rec); rec.Code != 503 || b.Error.Message != "Service is shutting down" {
			t.Errorf("got %d %q, want 503 Service is shutting down", rec.Code, b.Error.Message)
		}
	})
}

func TestJWKS(t *testing.T) {
	t.Run("served unauthenticated, before startup", func(t *testing.T) {
		tr := newTestRouter(t, Options{StartupRequestPauseTimeout: time.Millisecond})
		rec := serve(tr, req{path: "/api/todo/.greenroom/auth/v1/jwks.json"})
		if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != `{"keys":[{"kid":"k1","kty":"EC"}]}` {
			t.Errorf("got %d %s", rec.Code, rec.Body)
		}
	})
	t.Run("empty key set", func(t *testing.T) {
		tr := startedRouter(t, Options{}, nil)
		tr.auth.keysErr = nil
		tr.Router.auth = emptyKeys{tr.auth}
		rec := serve(tr, req{path: "/api/todo/.greenroom/auth/v1/jwks.json"})
		if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != `{"keys":[]}` {
			t.Errorf("got %d %s", rec.Code, rec.Body)
		}
	})
	t.Run("other methods", func(t *testing.T) {
		tr := startedRouter(t, Options{}, nil)
		rec := serve(tr, req{method: "POST", path: "/api/todo/.greenroom/auth/v1/jwks.json"})
		if b := errorBody(t, rec); rec.Code != 405 || b.Error.Name != errs.MethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("got %d %s Allow=%q", rec.Code, rec.Body, rec.Header().Get("Allow"))
		}
	})
	t.Run("key failure is a logged 500", func(t *testing.T) {
		tr := startedRouter(t, Options{}, nil)
		tr.auth.keysErr = errors.New("keystore unreachable")
		rec := serve(tr, req{path: "/api/todo/.greenroom/auth/v1/jwks.json"})
		if rec.Code != 500 || strings.Contains(rec.Body.String(), "unreachable") || !strings.Contains(tr.log.String(), "keystore unreachable") {
			t.Errorf("got %d %s; log %s", rec.Code, rec.Body, tr.log)
		}
	})
}

type emptyKeys struct{ core.Auth }

func (emptyKeys) PublicServiceKeys(context.Context) (core.JSONWebKeySet, error) {
	return core.JSONWebKeySet{}, nil
}

func TestCookieRoutes(t *testing.T) {
	tests := []struct {
		name       string
		req        req
		wantCode   int
		wantBody   string
		wantCookie string // Set-Cookie header prefix
	}{
		{"issue for a user", req{path: "/api/todo/.greenroom/auth/v1/cookie", token: userToken}, 200, `{"expiresAt":"2030-01-02T03:04:05Z"}`, "greenroom-auth=limited-token; Path=/; Expires="},
		{"refused for a service", req{path: "/api/todo/.greenroom/auth/v1/cookie", token: serviceToken}, 403, "", ""},
		{"refused without credentials", req{path: "/api/todo/.greenroom/auth/v1/cookie"}, 401, "", ""},
		{"cleared", req{method: "DELETE", path: "/api/todo/.greenroom/auth/v1/cookie", token: userToken}, 204, "", "greenroom-auth=; Path=/; Max-Age=0"},
		{"clearing needs credentials", req{method: "DELETE", path: "/api/todo/.greenroom/auth/v1/cookie"}, 401, "", ""},
		{"other methods", req{method: "PUT", path: "/api/todo/.greenroom/auth/v1/cookie", token: userToken}, 405, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := startedRouter(t, Options{}, nil)
			rec := serve(tr, tt.req)
			if rec.Code != tt.wantCode {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.wantCode, rec.Body)
			}
			if tt.wantBody != "" && strings.TrimSpace(rec.Body.String()) != tt.wantBody {
				t.Errorf("body = %s, want %s", rec.Body, tt.wantBody)
			}
			if got := rec.Header().Get("Set-Cookie"); !strings.HasPrefix(got, tt.wantCookie) || (tt.wantCookie == "") != (got == "") {
				t.Errorf("Set-Cookie = %q, want prefix %q", got, tt.wantCookie)
			}
			if rec.Code >= 400 {
				errorBody(t, rec)
			}
		})
	}
}

// lister is a Use handler that lists its routes.
type lister struct {
	*http.ServeMux
	routes []core.Route
}

func (l lister) Routes() []core.Route { return l.routes }

func TestUseFallback(t *testing.T) {
	var seen *http.Request
	fallback := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r
		if r.URL.Path == "/fail" {
			errs.WriteJSON(w, r, errs.NewConflict("already done"))
			return
		}
		fmt.Fprint(w, "fallback "+r.URL.Path)
	})
	tr := startedRouter(t, Options{}, func(rt *Router) {
		rt.Handle("GET /todos", echo("list"))
		rt.Use(fallback)
	})
	tests := []struct {
		name, path, wantBody string
		wantRaw              string
	}{
		{"patterns win", "/api/todo/todos", "list /todos", ""},
		{"other paths go to Use", "/api/todo/other/x", "fallback /other/x", ""},
		{"other methods of a pattern go to Use", "/api/todo/todos", "fallback /todos", ""},
		{"escaped path stays consistent", "/api/todo/a%3Ab/c", "fallback /a:b/c", "/a%3Ab/c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := "GET"
			if strings.HasPrefix(tt.name, "other methods") {
				method = "PUT"
			}
			seen = nil
			rec := serve(tr, req{method: method, path: tt.path, token: userToken})
			if rec.Code != 200 || rec.Body.String() != tt.wantBody {
				t.Fatalf("got %d %q, want 200 %q", rec.Code, rec.Body, tt.wantBody)
			}
			if seen != nil && (seen.URL.RawPath != tt.wantRaw || seen.URL.EscapedPath() != strings.TrimPrefix(tt.path, "/api/todo")) {
				t.Errorf("Use handler saw RawPath %q, EscapedPath %q", seen.URL.RawPath, seen.URL.EscapedPath())
			}
		})
	}
	t.Run("errors written by handlers name the full URL", func(t *testing.T) {
		rec := serve(tr, req{path: "/api/todo/fail?x=1", token: userToken})
		if b := errorBody(t, rec); rec.Code != 409 || b.Request.URL != "/api/todo/fail?x=1" {
			t.Errorf("got %d, request.url %q; want 409 and the full URL", rec.Code, b.Request.URL)
		}
	})
}

func TestMistakesFailStartup(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(*Router)
		wantErr string
	}{
		{"second Use", func(rt *Router) { rt.Use(echo("a")); rt.Use(echo("b")) }, "httprouter: plugin 'todo': Use was called more than once"},
		{"nil Use", func(rt *Router) { rt.Use(nil) }, "httprouter: plugin 'todo': Use: the handler is nil"},
		{"unknown auth policy", func(rt *Router) { rt.AddAuthPolicy("/health", "public") }, `httprouter: plugin 'todo': AddAuthPolicy("/health", "public"): unknown auth policy "public"; use core.AllowUnauthenticated ("unauthenticated") or core.AllowUserCookie ("user-cookie"); the path stays protected`},
		{"relative policy path", func(rt *Router) { rt.AddAuthPolicy("health", core.AllowUnauthenticated) }, `AddAuthPolicy("health", "unauthenticated"): the path must start with "/"`},
		{"invalid pattern", func(rt *Router) { rt.Handle("GET todos", echo("x")) }, `httprouter: plugin 'todo': Handle("GET todos"): `},
		{"conflicting patterns", func(rt *Router) { rt.Handle("GET /a/{x}", echo("x")); rt.Handle("GET /a/{y}", echo("y")) }, `Handle("GET /a/{y}"): `},
		{"nil handler", func(rt *Router) { rt.Handle("GET /a", nil) }, `Handle("GET /a"): the handler is nil`},
		{"nil handler func", func(rt *Router) { rt.HandleFunc("GET /a", nil) }, `HandleFunc("GET /a"): the handler is nil`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTestRouter(t, Options{StartupRequestPauseTimeout: time.Millisecond})
			tt.setup(tr.Router)
			err := tr.lc.start(t.Context())
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("startup error = %v, want it to contain %q", err, tt.wantErr)
			}
			if !hasLine(tr.log.String(), "level=ERROR", "plugin 'todo'") {
				t.Errorf("log = %s, want the mistake logged when it was made", tr.log)
			}
			// The router stays closed.
			if rec := serve(tr, req{path: "/api/todo/health", token: userToken}); rec.Code != 503 {
				t.Errorf("after a failed startup: %d, want 503", rec.Code)
			}
		})
	}
}

func TestUnknownPolicyOpensNothing(t *testing.T) {
	tr := newTestRouter(t, Options{})
	tr.Handle("GET /health", echo("health"))
	tr.AddAuthPolicy("/health", "public")
	tr.startOnce.Do(func() { close(tr.started) }) // open despite the mistake, to see what it did
	if rec := serve(tr, req{path: "/api/todo/health"}); rec.Code != 401 {
		t.Errorf("got %d, want 401: an unknown policy must not open the path", rec.Code)
	}
}

func TestRoutes(t *testing.T) {
	tests := []struct {
		name     string
		disabled bool
		setup    func(*Router)
		want     []core.Route
	}{
		{
			name: "policies cover routes",
			setup: func(rt *Router) {
				todoRoutes(rt)
				rt.AddAuthPolicy("/health", core.AllowUnauthenticated)
				rt.AddAuthPolicy("/images", core.AllowUserCookie)
				rt.AddAuthPolicy("/todos/:id/public", core.AllowUnauthenticated)
				rt.AddAuthPolicy("/dir", core.AllowUserCookie)
			},
			want: []core.Route{
				{Pattern: "GET /todos"},
				{Pattern: "POST /todos"},
				{Pattern: "GET /todos/{id}"},
				{Pattern: "GET /todos/{id}/public", Policy: core.AllowUnauthenticated, PolicyPath: "/todos/:id/public"},
				{Pattern: "GET /todos/{id}/private"},
				{Pattern: "GET /health", Policy: core.AllowUnauthenticated, PolicyPath: "/health"},
				{Pattern: "GET /health/deep", Policy: core.AllowUnauthenticated, PolicyPath: "/health"},
				{Pattern: "GET /healthz"},
				{Pattern: "GET /images/{name}", Policy: core.AllowUserCookie, PolicyPath: "/images"},
				{Pattern: "GET /p/{a}/admin"},
				{Pattern: "GET /dir/", Policy: core.AllowUserCookie, PolicyPath: "/dir"},
				{Pattern: "GET /{$}"},
			},
		},
		{
			name: "a policy on part of a route does not cover it",
			setup: func(rt *Router) {
				rt.Handle("/files/", echo("files"))
				rt.Handle("GET /files/{path...}", echo("files"))
				rt.Handle("GET /todos/{id}", echo("todo"))
				rt.Handle("GET /{$}", echo("root"))
				rt.AddAuthPolicy("/files/public", core.AllowUnauthenticated)
				rt.AddAuthPolicy("/todos/7", core.AllowUnauthenticated)
				rt.AddAuthPolicy("/x", core.AllowUnauthenticated)
			},
			want: []core.Route{{Pattern: "/files/"}, {Pattern: "GET /files/{path...}"}, {Pattern: "GET /todos/{id}"}, {Pattern: "GET /{$}"}},
		},
		{
			name: "catch-all policy covers everything, with hosts and Use routes",
			setup: func(rt *Router) {
				rt.Handle("GET example.com/a", echo("a"))
				rt.Use(lister{http.NewServeMux(), []core.Route{{Pattern: "GET /listed"}, {Pattern: "/"}}})
				rt.AddAuthPolicy("*", core.AllowUserCookie)
				rt.AddAuthPolicy("/listed", core.AllowUnauthenticated)
			},
			want: []core.Route{
				{Pattern: "GET example.com/a", Policy: core.AllowUserCookie, PolicyPath: "*"},
				{Pattern: "GET /listed", Policy: core.AllowUnauthenticated, PolicyPath: "/listed"},
				{Pattern: "/", Policy: core.AllowUserCookie, PolicyPath: "*"},
			},
		},
		{
			// Only the router knows its policies: a Use handler claiming
			// one for its route does not open it.
			name: "Use handler routes take the router's policies",
			setup: func(rt *Router) {
				rt.Use(lister{http.NewServeMux(), []core.Route{
					{Pattern: "GET /claimed", Policy: core.AllowUnauthenticated, PolicyPath: "/claimed"},
					{Pattern: "GET /open/x", Policy: core.AllowUserCookie},
				}})
				rt.AddAuthPolicy("/open", core.AllowUnauthenticated)
			},
			want: []core.Route{
				{Pattern: "GET /claimed"},
				{Pattern: "GET /open/x", Policy: core.AllowUnauthenticated, PolicyPath: "/open"},
			},
		},
		{
			name:  "Use handler without a route list",
			setup: func(rt *Router) { rt.Use(echo("x")) },
			want:  []core.Route{},
		},
		{
			name:     "default policy disabled",
			disabled: true,
			setup:    func(rt *Router) { rt.Handle("GET /a", echo("a")) },
			want:     []core.Route{{Pattern: "GET /a", Policy: core.AllowUnauthenticated}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTestRouter(t, Options{DangerouslyDisableDefaultAuthPolicy: tt.disabled})
			tt.setup(tr.Router)
			if diff := cmp.Diff(tt.want, tr.Routes()); diff != "" {
				t.Errorf("Routes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRouterRedirectsUncleanPaths(t *testing.T) {
	// Served on its own, without the root router that cleans paths first.
	tr := startedRouter(t, Options{}, func(rt *Router) {
		rt.AddAuthPolicy("/public", core.AllowUnauthenticated)
		rt.Use(echo("fallback"))
	})
	for path, want := range map[string]string{
		"/api/todo/public/../admin?x=1": "/api/todo/admin?x=1",
		"/api/todo//admin":              "/api/todo/admin",
		"/api/todo/./public/":           "/api/todo/public/",
	} {
		rec := serve(tr, req{path: path})
		if rec.Code != http.StatusTemporaryRedirect || rec.Header().Get("Location") != want {
			t.Errorf("%s: %d Location %q, want 307 to %s", path, rec.Code, rec.Header().Get("Location"), want)
		}
	}
}

func TestServeOutsideTheMount(t *testing.T) {
	tr := startedRouter(t, Options{}, nil)
	for _, path := range []string{"/api/other", "/api/todos"} {
		rec := serve(tr, req{path: path, token: userToken})
		if b := errorBody(t, rec); rec.Code != 404 || !strings.Contains(b.Error.Message, "under /api/todo") {
			t.Errorf("%s: %d %q", path, rec.Code, b.Error.Message)
		}
	}
}

func TestNew(t *testing.T) {
	refused := errors.New("Attempted to add startup hook after startup")
	full := func() Options {
		a := &fakeAuth{}
		return Options{PluginID: "todo", Auth: a, HTTPAuth: &fakeHTTPAuth{auth: a}, Lifecycle: &fakeLifecycle{}}
	}
	tests := []struct {
		name    string
		opts    func() Options
		wantErr string
	}{
		{"no plugin id", func() Options { o := full(); o.PluginID = ""; return o }, "New needs the plugin id"},
		{"no auth", func() Options { o := full(); o.Auth = nil; return o }, "plugin 'todo': New needs the plugin's Auth, HTTPAuth and Lifecycle services"},
		{"no lifecycle", func() Options { o := full(); o.Lifecycle = nil; return o }, "New needs the plugin's Auth, HTTPAuth and Lifecycle services"},
		{"negative pause", func() Options { o := full(); o.StartupRequestPauseTimeout = -1; return o }, "backend.lifecycle.startupRequestPauseTimeout"},
		{"negative limit", func() Options { o := full(); o.MaxRequestBodyBytes = -1; return o }, "backend.http.maxRequestBodyBytes"},
		{"startup hook refused", func() Options { o := full(); o.Lifecycle = &fakeLifecycle{refuseStartup: refused}; return o }, "add the startup hook that opens the router: Attempted"},
		{"shutdown hook refused", func() Options { o := full(); o.Lifecycle = &fakeLifecycle{refuseShutdown: refused}; return o }, "add the shutdown hook that closes the router: Attempted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opts())
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("New error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
	rt, err := New(full())
	if err != nil {
		t.Fatal(err)
	}
	if rt.pause != DefaultStartupRequestPauseTimeout || rt.maxBody != DefaultMaxRequestBodyBytes || rt.MountPath() != "/api/todo" {
		t.Errorf("defaults: pause %s, limit %d, mount %s", rt.pause, rt.maxBody, rt.MountPath())
	}
}
