package httprouter

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/defaults/config"
)

// corsChain is the full chain with CORS for https://app.example.com and a
// todo plugin whose routes need credentials.
func corsChain(t *testing.T, opts *CORSOptions) http.Handler {
	t.Helper()
	tr := startedRouter(t, Options{}, func(rt *Router) {
		rt.HandleFunc("GET /todos", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("[]")) })
		rt.HandleFunc("DELETE /todos/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	})
	root := NewRoot(RootOptions{CORS: opts})
	if err := root.Use(tr.MountPath(), tr); err != nil {
		t.Fatal(err)
	}
	return root.Handler()
}

func preflight(origin, method, headers string) *http.Request {
	r := httptest.NewRequest(http.MethodOptions, "/api/todo/todos/1", nil)
	r.Header.Set("Origin", origin)
	r.Header.Set("Access-Control-Request-Method", method)
	if headers != "" {
		r.Header.Set("Access-Control-Request-Headers", headers)
	}
	return r
}

func TestCORS(t *testing.T) {
	t.Parallel()
	opts := &CORSOptions{
		AllowedOrigins:   []string{"https://app.example.com", "https://*.preview.example.com"},
		AllowedHeaders:   []string{"Authorization", "Content-Type"},
		ExposedHeaders:   []string{"X-Total"},
		AllowCredentials: true,
		MaxAge:           10 * time.Minute,
	}
	h := corsChain(t, opts)
	tests := []struct {
		name       string
		req        *http.Request
		wantCode   int
		wantHeader map[string]string // "" means absent
	}{
		{"allowed preflight is answered without credentials", preflight("https://app.example.com", "DELETE", "authorization"), 204, map[string]string{
			"Access-Control-Allow-Origin":      "https://app.example.com",
			"Access-Control-Allow-Methods":     "DELETE",
			"Access-Control-Allow-Headers":     "authorization",
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Max-Age":           "600",
		}},
		{"wildcard origin", preflight("https://pr-7.preview.example.com", "GET", ""), 204, map[string]string{
			"Access-Control-Allow-Origin": "https://pr-7.preview.example.com",
		}},
		{"disallowed origin goes to the barrier", preflight("https://evil.example", "DELETE", ""), 401, map[string]string{
			"Access-Control-Allow-Origin": "",
		}},
		{"disallowed method goes to the barrier", preflight("https://app.example.com", "CONNECT", ""), 401, map[string]string{
			"Access-Control-Allow-Origin": "",
		}},
		{"disallowed header goes to the barrier", preflight("https://app.example.com", "GET", "X-Secret"), 401, map[string]string{
			"Access-Control-Allow-Origin": "",
		}},
		{"actual request from an allowed origin", func() *http.Request {
			r := httptest.NewRequest("GET", "/api/todo/todos", nil)
			r.Header.Set("Origin", "https://app.example.com")
			r.Header.Set("Authorization", "Bearer "+userToken)
			return r
		}(), 200, map[string]string{
			"Access-Control-Allow-Origin":      "https://app.example.com",
			"Access-Control-Expose-Headers":    "X-Total",
			"Access-Control-Allow-Credentials": "true",
		}},
		{"actual request without credentials still needs them", func() *http.Request {
			r := httptest.NewRequest("GET", "/api/todo/todos", nil)
			r.Header.Set("Origin", "https://app.example.com")
			return r
		}(), 401, map[string]string{"Access-Control-Allow-Origin": "https://app.example.com"}},
		{"actual request from another origin", func() *http.Request {
			r := httptest.NewRequest("GET", "/api/todo/todos", nil)
			r.Header.Set("Origin", "https://evil.example")
			r.Header.Set("Authorization", "Bearer "+userToken)
			return r
		}(), 200, map[string]string{"Access-Control-Allow-Origin": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, tt.req)
			if rec.Code != tt.wantCode {
				t.Fatalf("status = %d %q, want %d", rec.Code, rec.Body, tt.wantCode)
			}
			if rec.Code >= 400 {
				checkErrorBody(t, rec)
			}
			for k, want := range tt.wantHeader {
				if got := rec.Header().Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

// TestCORSDefaultHeadersAreTheRequested: without allowedHeaders, a
// preflight may ask for any header, Authorization included, as with
// Backstage (whose cors package reflects Access-Control-Request-Headers);
// otherwise a Backstage app-config with origin, methods and credentials
// would refuse every browser request that carries a token.
func TestCORSDefaultHeadersAreTheRequested(t *testing.T) {
	t.Parallel()
	h := corsChain(t, &CORSOptions{AllowedOrigins: []string{"https://app.example.com"}, AllowCredentials: true})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, preflight("https://app.example.com", "DELETE", "authorization,x-custom"))
	if rec.Code != 204 || rec.Header().Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		rec.Header().Get("Access-Control-Allow-Headers") != "authorization,x-custom" {
		t.Errorf("preflight = %d, headers %v; want 204 allowing authorization,x-custom", rec.Code, rec.Header())
	}
}

// TestNoCORSByDefault: without backend.cors, every preflight goes through
// the chain and the barrier answers it.
func TestNoCORSByDefault(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	corsChain(t, nil).ServeHTTP(rec, preflight("https://app.example.com", "GET", ""))
	if rec.Code != 401 || rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight without CORS = %d, ACAO %q; want 401 and none", rec.Code, rec.Header().Get("Access-Control-Allow-Origin"))
	}
}

func TestCORSOptionsFromConfig(t *testing.T) {
	t.Parallel()
	tests := []configCase[*CORSOptions]{
		{name: "missing", yaml: "backend: {}", want: nil},
		{name: "origin as a string", yaml: "backend: {cors: {origin: https://app.example.com}}",
			want: &CORSOptions{AllowedOrigins: []string{"https://app.example.com"}}},
		{name: "every key", yaml: `backend:
  cors:
    origin: [https://a.example, https://b.example]
    methods: [GET, POST]
    allowedHeaders: Authorization
    exposedHeaders: [X-Total]
    credentials: true
    maxAge: 600`,
			want: &CORSOptions{
				AllowedOrigins: []string{"https://a.example", "https://b.example"}, AllowedMethods: []string{"GET", "POST"},
				AllowedHeaders: []string{"Authorization"}, ExposedHeaders: []string{"X-Total"}, AllowCredentials: true, MaxAge: 10 * time.Minute,
			}},
		{name: "no origin", yaml: "backend: {cors: {credentials: true}}", wantErr: "config key backend.cors.origin is missing or empty"},
		{name: "empty origin", yaml: `backend: {cors: {origin: ""}}`, wantErr: "config key backend.cors.origin has an empty origin"},
		{name: "empty origin in a list", yaml: `backend: {cors: {origin: [https://a.example, " "]}}`, wantErr: "config key backend.cors.origin has an empty origin"},
		{name: "origin not strings", yaml: "backend: {cors: {origin: [1, {a: b}]}}", wantErr: "backend.cors.origin"},
		{name: "credentials not a boolean", yaml: "backend: {cors: {origin: x, credentials: maybe}}", wantErr: "backend.cors.credentials"},
		{name: "any origin with credentials", yaml: "backend: {cors: {origin: ['https://a.example.com', '*'], credentials: true}}", wantErr: `config key backend.cors.origin is "*" while backend.cors.credentials is true`},
		{name: "negative max age", yaml: "backend: {cors: {origin: x, maxAge: -1s}}", wantErr: "config key backend.cors.maxAge is -1s"},
	}
	runConfigCases(t, CORSOptionsFromConfig, tests)
}

func TestRootFactoryServesCORS(t *testing.T) {
	t.Parallel()
	d, lc, _ := rootDepsFor(t, map[string]any{"backend": map[string]any{
		"listen": map[string]any{"host": "127.0.0.1", "port": 0},
		"cors":   map[string]any{"origin": "https://app.example.com"},
	}})
	svc, err := newRootService(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lc.stop(t.Context()) })
	rec := httptest.NewRecorder()
	svc.Handler().ServeHTTP(rec, preflight("https://app.example.com", "GET", ""))
	if rec.Code != 204 || rec.Header().Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("preflight = %d, ACAO %q; want 204 from CORS", rec.Code, rec.Header().Get("Access-Control-Allow-Origin"))
	}
	d.Config, _ = config.FromMap(map[string]any{"backend": map[string]any{"cors": map[string]any{"origin": []any{}}}})
	if _, err := newRootService(t.Context(), d); err == nil || !strings.Contains(err.Error(), "backend.cors.origin") {
		t.Errorf("RootFactory with an empty origin list = %v, want an error naming backend.cors.origin", err)
	}
}
