package servicetest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
)

// RouterEnv is a started plugin router for [TestHTTPRouter].
type RouterEnv struct {
	// Handler serves the whole backend: requests to MountPath and below
	// reach the plugin's router through the production chain.
	Handler http.Handler
	// MountPath is where the router is mounted, such as "/api/todo".
	MountPath string
	// UserHeader is an Authorization header value that the router's
	// HTTPAuth accepts as a user.
	UserHeader string
	// UserCookie is an auth cookie that the router's HTTPAuth accepts as a
	// limited user on paths with a user-cookie policy.
	UserCookie *http.Cookie
}

// TestHTTPRouter checks an implementation of [core.HTTPRouter] with its
// HTTP auth. newRouter must create a plugin router, call setup with it (as
// the plugin's init would), start it and return its environment.
//
// The contracts: every path, registered or not, needs credentials (401
// with the JSON error body) unless an auth policy opens it; credentials
// reach the routes, and unknown paths are then 404; an unauthenticated
// policy opens its path and the paths below it but no other (not a path
// that merely starts with the same letters); a user-cookie policy accepts
// the auth cookie on its paths only; "/" opens everything; handlers see
// paths relative to the mount; Use serves what no route matches.
func TestHTTPRouter(t *testing.T, newRouter func(t *testing.T, setup func(core.HTTPRouter)) RouterEnv) {
	t.Helper()
	ok := func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok "+r.URL.Path) }
	routes := func(r core.HTTPRouter) {
		r.HandleFunc("GET /private", ok)
		r.HandleFunc("GET /public", ok)
		r.HandleFunc("GET /public/{rest...}", ok)
		r.HandleFunc("GET /publicity", ok)
		r.HandleFunc("GET /img/{name}", ok)
		r.AddAuthPolicy("/public", core.AllowUnauthenticated)
		r.AddAuthPolicy("/img", core.AllowUserCookie)
	}
	type auth int
	const (
		anonymous auth = iota
		asUser
		withCookie
	)
	tests := []struct {
		name     string
		setup    func(core.HTTPRouter)
		path     string
		auth     auth
		want     int
		wantBody string
	}{
		{name: "a registered route needs credentials", setup: routes, path: "/private", want: 401},
		{name: "an unknown path needs credentials", setup: routes, path: "/nothing-here", want: 401},
		{name: "a user reaches a registered route", setup: routes, path: "/private", auth: asUser, want: 200, wantBody: "ok /private"},
		{name: "an unknown path is 404 with credentials", setup: routes, path: "/nothing-here", auth: asUser, want: 404},
		{name: "an unauthenticated policy opens its path", setup: routes, path: "/public", want: 200, wantBody: "ok /public"},
		{name: "an unauthenticated policy opens the paths below it", setup: routes, path: "/public/a/b", want: 200, wantBody: "ok /public/a/b"},
		{name: "a policy does not open a path that only shares its first letters", setup: routes, path: "/publicity", want: 401},
		{name: "a user-cookie policy accepts the auth cookie", setup: routes, path: "/img/logo", auth: withCookie, want: 200, wantBody: "ok /img/logo"},
		{name: "the auth cookie is refused outside user-cookie policies", setup: routes, path: "/private", auth: withCookie, want: 401},
		{name: "a user-cookie policy still needs credentials", setup: routes, path: "/img/logo", want: 401},
		{name: "the policy / opens everything", setup: func(r core.HTTPRouter) {
			r.HandleFunc("GET /private", ok)
			r.AddAuthPolicy("/", core.AllowUnauthenticated)
		}, path: "/private", want: 200},
		{name: "Use serves what no route matches, relative to the mount", setup: func(r core.HTTPRouter) {
			r.HandleFunc("GET /private", ok)
			r.Use(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "fallback "+r.URL.Path) }))
		}, path: "/other/x", auth: asUser, want: 200, wantBody: "fallback /other/x"},
		{name: "Use is behind the auth barrier too", setup: func(r core.HTTPRouter) {
			r.Use(http.HandlerFunc(ok))
		}, path: "/other", want: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newRouter(t, tt.setup)
			req := httptest.NewRequest(http.MethodGet, env.MountPath+tt.path, nil)
			switch tt.auth {
			case asUser:
				req.Header.Set("Authorization", env.UserHeader)
			case withCookie:
				req.AddCookie(env.UserCookie)
			}
			rec := httptest.NewRecorder()
			env.Handler.ServeHTTP(rec, req)
			body := rec.Body.String()
			if rec.Code != tt.want {
				t.Fatalf("HTTPRouter: %s: GET %s answered %d %s, want %d", tt.name, req.URL.Path, rec.Code, body, tt.want)
			}
			if tt.wantBody != "" && body != tt.wantBody {
				t.Errorf("HTTPRouter: %s: GET %s answered %q, want %q (handlers see paths relative to the mount)", tt.name, req.URL.Path, body, tt.wantBody)
			}
			if tt.want >= 400 {
				var b errs.Body
				if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil || b.Response.StatusCode != tt.want || b.Request.URL != req.URL.Path {
					t.Errorf("HTTPRouter: %s: the error body %s is not the JSON error shape for %d on %s", tt.name, body, tt.want, req.URL.Path)
				}
				if tt.want == 401 && (b.Error.Name != errs.Authentication || b.Error.Message != "Missing credentials") {
					t.Errorf("HTTPRouter: %s: error %s %q, want AuthenticationError \"Missing credentials\"", tt.name, b.Error.Name, b.Error.Message)
				}
			}
		})
	}
}
