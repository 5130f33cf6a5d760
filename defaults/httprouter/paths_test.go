package httprouter

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
)

// publicPrivate is the full chain (root router, plugin router "todo") with
// an auth policy opening /public and a Use handler that routes on
// path.Clean(r.URL.Path), as a plugin serving files might: it answers
// "public" under /public and "private" elsewhere. A caller without
// credentials must never get "private".
func publicPrivate(t testing.TB) http.Handler {
	t.Helper()
	tr := &testRouter{lc: &fakeLifecycle{}, auth: &fakeAuth{}}
	tr.httpAuth = &fakeHTTPAuth{auth: tr.auth}
	rt, err := New(Options{PluginID: "todo", Auth: tr.auth, HTTPAuth: tr.httpAuth, Lifecycle: tr.lc})
	if err != nil {
		t.Fatal(err)
	}
	rt.AddAuthPolicy("/public", core.AllowUnauthenticated)
	rt.Use(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := path.Clean(r.URL.Path); p == "/public" || strings.HasPrefix(p, "/public/") {
			_, _ = io.WriteString(w, "public")
			return
		}
		_, _ = io.WriteString(w, "private")
	}))
	if err := tr.lc.start(t.Context()); err != nil {
		t.Fatal(err)
	}
	root := NewRoot(RootOptions{})
	if err := root.Use(rt.MountPath(), rt); err != nil {
		t.Fatal(err)
	}
	return root.Handler()
}

// readRequest parses a request for target the way the server does, or
// reports false if the server would not accept it.
func readRequest(target string) (*http.Request, bool) {
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n")))
	if err != nil {
		return nil, false
	}
	return r, true
}

// TestEncodedPathsReachNoPrivateBranch: the auth policies and a handler
// that decodes and cleans the path see the same path, whatever the
// encoding of dots and slashes.
func TestEncodedPathsReachNoPrivateBranch(t *testing.T) {
	t.Parallel()
	h := publicPrivate(t)
	tests := []struct {
		path     string // under /api/todo
		wantCode int
		wantBody string // for 2xx
	}{
		{"/public/%2e%2e/private", 400, ""},
		{"/public/%2E%2E/private", 400, ""},
		{"/public/%2e%2E/private", 400, ""},
		{"/public/%2e./private", 400, ""},
		{"/public/.%2e/private", 400, ""},
		{"/public/.%2E/private", 400, ""},
		{"/public/%2e/private", 400, ""},
		{"/public/%2e%2e", 400, ""},
		{"/public/%2e%2e/", 400, ""},
		{"/public/%2e%2e/private/", 400, ""},
		{"/public/..%2fprivate", 400, ""},
		{"/public/..%2Fprivate", 400, ""},
		{"/public/%2e%2e%2fprivate", 400, ""},
		{"/public/%2E%2E%2Fprivate/", 400, ""},
		{"/public/x%2f..%2f..%2fprivate", 400, ""},
		{"/public/..%5cprivate", 400, ""},
		{"/public/..%5Cprivate", 400, ""},
		{"/public/%00/../private", 400, ""},
		{"/%2e%2e/todo/private", 400, ""},
		{"/public%2f..%2fprivate", 400, ""},
		// Double encoding decodes once, to literal text: no traversal for
		// the policies or the handler.
		{"/public/%252e%252e/private", 200, "public"},
		{"/public/%252e%252e%252fprivate", 200, "public"},
		{"/public/%252E%252E/private/", 200, "public"},
		{"/%252e%252e/public", 401, ""},
		// Literal dot segments are redirected to the clean path, which
		// needs credentials.
		{"/public/../private", 307, ""},
		{"/public/./../private/", 307, ""},
		// No encoding tricks.
		{"/private", 401, ""},
		{"/public", 200, "public"},
		{"/public/", 200, "public"},
		// Other escapes stay within their segment.
		{"/public/a%20b", 200, "public"},
		{"/public/component%3Adefault%3Aa", 200, "public"},
		{"/public/%2e%2ex", 200, "public"},
		{"/private%20x", 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			target := "/api/todo" + tt.path
			r, ok := readRequest(target)
			if !ok {
				t.Fatalf("the server would not accept %s", target)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != tt.wantCode {
				t.Fatalf("GET %s = %d %q, want %d", target, rec.Code, rec.Body, tt.wantCode)
			}
			switch {
			case rec.Code == 200 && rec.Body.String() != tt.wantBody:
				t.Errorf("GET %s reached %q, want %q", target, rec.Body, tt.wantBody)
			case rec.Code == 307:
				loc := rec.Header().Get("Location")
				r, _ := readRequest(loc)
				rec = httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				if rec.Code != 401 {
					t.Errorf("GET %s redirects to %s, which answers %d %q; want 401", target, loc, rec.Code, rec.Body)
				}
			case rec.Code >= 400:
				checkErrorBody(t, rec)
			}
		})
	}
}

// checkErrorBody fails unless rec holds the JSON error shape.
func checkErrorBody(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	var b errs.Body
	if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil || b.Error.Name == "" || b.Response.StatusCode != rec.Code {
		t.Errorf("%d body %q is not the JSON error shape (%v)", rec.Code, rec.Body, err)
	}
}

// FuzzRouterPath checks, for any request path the server accepts, the
// invariant of one canonical path: with a policy opening /public and a
// Use handler that routes on path.Clean(r.URL.Path), a request without
// credentials never reaches a non-public branch, never gets a 5xx, and
// every error is the JSON error shape.
//
//	go test -run '^$' -fuzz '^FuzzRouterPath$' -fuzztime 30s ./defaults/httprouter/
func FuzzRouterPath(f *testing.F) {
	for _, p := range []string{
		"/public/x", "/public/%2e%2e/private", "/public/..%2fprivate", "/public/%2e%2e%2fprivate",
		"/public/%252e%252e/private", "/public/.%2E/", "/public/..%5Cprivate", "/public/a%20b",
	} {
		f.Add(p)
	}
	h := publicPrivate(f)
	f.Fuzz(func(t *testing.T, p string) {
		r, ok := readRequest("/api/todo" + p)
		if !ok {
			t.Skip("not a request the server accepts")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		switch {
		case rec.Code >= 500:
			t.Fatalf("GET /api/todo%s = %d %q", p, rec.Code, rec.Body)
		case rec.Code < 300 && rec.Body.String() == "private":
			t.Fatalf("GET /api/todo%s reached the private branch without credentials (path %q)", p, r.URL.Path)
		case rec.Code >= 400:
			checkErrorBody(t, rec)
		}
	})
}
