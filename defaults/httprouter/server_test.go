package httprouter

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
)

// listeningRoot returns a root router serving tr on a free port of
// 127.0.0.1 with the given timeouts (nil for the defaults).
func listeningRoot(t *testing.T, tr *testRouter, timeouts *ServerTimeouts) *Root {
	t.Helper()
	root := NewRoot(RootOptions{Timeouts: timeouts})
	if err := root.Use(tr.MountPath(), tr); err != nil {
		t.Fatal(err)
	}
	if err := root.Listen(t.Context(), "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // close what remains at once
		_ = root.Shutdown(ctx)
	})
	return root
}

// rawRequest writes head and a partial body on a new connection and reads
// the response. The connection's deadline bounds a server that does not
// answer; a working one answers at once.
func rawRequest(t *testing.T, addr, head, partialBody string) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, head+partialBody); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no response to a request whose body is unfinished: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read the response body: %v", err)
	}
	return resp, body
}

// TestRejectionOfAnUnreadBodyIsSent: a request declaring a 100 kB body of
// which 10 bytes arrived, rejected before its body is read, gets its JSON
// answer at once, on a connection the server then closes. Without
// "Connection: close", net/http first waits for the rest of the body,
// until the read timeout.
func TestRejectionOfAnUnreadBodyIsSent(t *testing.T) {
	t.Parallel()
	tr := startedRouter(t, Options{MaxRequestBodyBytes: 1000}, func(rt *Router) {
		rt.HandleFunc("POST /todos", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
		})
		rt.HandleFunc("POST /forbidden", func(w http.ResponseWriter, r *http.Request) {
			errs.WriteJSON(w, r, errs.NewNotAllowed("a plugin's own check, before it reads the body"))
		})
		rt.HandleFunc("GET /public/items", func(w http.ResponseWriter, r *http.Request) {})
		rt.HandleFunc("GET /public/dir/", func(w http.ResponseWriter, r *http.Request) {})
		rt.AddAuthPolicy("/public", core.AllowUnauthenticated)
	})
	root := listeningRoot(t, tr, &ServerTimeouts{ReadHeader: time.Hour, Read: time.Hour})
	tests := []struct {
		name, head string
		wantCode   int
		wantName   errs.Name
	}{
		{"auth barrier", "POST /api/todo/todos HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n", 401, errs.Authentication},
		{"body limit", "POST /api/todo/todos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + userToken + "\r\nContent-Length: 100000\r\n\r\n", 413, errs.PayloadTooLarge},
		{"ambiguous path", "POST /api/todo/a%2Fb HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n", 400, errs.Input},
		// Answers of the root router and of a plugin's open routes
		// that do not read the body either (bodies under the limit).
		{"redirect to the clean path", "POST /api/todo//todos HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n", 307, ""},
		{"no plugin mounted", "POST /api/nope/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n", 404, errs.NotFound},
		{"nothing served", "POST /elsewhere HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n", 404, errs.NotFound},
		{"method not allowed on an open route", "POST /api/todo/public/items HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\n\r\n", 405, errs.MethodNotAllowed},
		{"no route on an open path", "POST /api/todo/public/none HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\n\r\n", 404, errs.NotFound},
		{"ServeMux redirect on an open path", "GET /api/todo/public/dir HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\n\r\n", 0, ""},
		// A plugin handler that answers before it reads the body.
		{"handler answers first", "POST /api/todo/forbidden HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + userToken + "\r\nContent-Length: 900\r\n\r\n", 403, errs.NotAllowed},
		{"handler answers first, chunked body", "POST /api/todo/forbidden HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + userToken + "\r\nTransfer-Encoding: chunked\r\n\r\n", 403, errs.NotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, body := rawRequest(t, root.Addr().String(), tt.head, "0123456789")
			if tt.wantName == "" { // a redirect; wantCode 0 for any
				if (tt.wantCode != 0 && resp.StatusCode != tt.wantCode) || resp.StatusCode/100 != 3 || !resp.Close {
					t.Errorf("got %d (Connection: close %v), want redirect %d with the connection closed", resp.StatusCode, resp.Close, tt.wantCode)
				}
				return
			}
			var b errs.Body
			if err := json.Unmarshal(body, &b); err != nil {
				t.Fatalf("body %q is not the JSON error shape: %v", body, err)
			}
			if resp.StatusCode != tt.wantCode || b.Error.Name != tt.wantName || !resp.Close {
				t.Errorf("got %d %s (Connection: close %v), want %d %s with the connection closed", resp.StatusCode, b.Error.Name, resp.Close, tt.wantCode, tt.wantName)
			}
		})
	}
}

// TestReadBodyKeepsTheConnection: a response to a request whose body the
// handler read whole, with a length or chunked, leaves the connection open
// for the next request; only answers given before the body was read close
// it (see TestRejectionOfAnUnreadBodyIsSent).
func TestReadBodyKeepsTheConnection(t *testing.T) {
	t.Parallel()
	tr := startedRouter(t, Options{}, func(rt *Router) {
		rt.HandleFunc("POST /todos", func(w http.ResponseWriter, r *http.Request) {
			if _, err := io.Copy(io.Discard, r.Body); err != nil {
				t.Error(err)
			}
			w.WriteHeader(http.StatusCreated)
		})
	})
	root := listeningRoot(t, tr, nil)
	for _, tt := range []struct {
		name string
		body io.Reader
	}{
		{"with a length", strings.NewReader(`{"title":"x"}`)},
		{"chunked", io.MultiReader(strings.NewReader(`{"title":`), strings.NewReader(`"x"}`))},
	} {
		req, err := http.NewRequest("POST", "http://"+root.Addr().String()+"/api/todo/todos", tt.body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+userToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated || resp.Close {
			t.Errorf("%s: got %d, Connection: close %v; want 201 on a connection kept open", tt.name, resp.StatusCode, resp.Close)
		}
	}
}

// TestReadTimeoutEndsSlowBodies: a client that declares a body and sends
// little of it does not hold its connection past the read timeout.
func TestReadTimeoutEndsSlowBodies(t *testing.T) {
	t.Parallel()
	handled := make(chan error, 1)
	tr := startedRouter(t, Options{DangerouslyDisableDefaultAuthPolicy: true}, func(rt *Router) {
		rt.HandleFunc("POST /todos", func(w http.ResponseWriter, r *http.Request) {
			_, err := io.Copy(io.Discard, r.Body)
			handled <- err
		})
	})
	root := listeningRoot(t, tr, &ServerTimeouts{Read: 50 * time.Millisecond})
	conn, err := net.Dial("tcp", root.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "POST /api/todo/todos HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n0123456789"); err != nil {
		t.Fatal(err)
	}
	if err := <-handled; err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Errorf("reading the body = %v, want the read timeout", err)
	}
}

// TestWriteTimeoutCanBeLifted: a streaming handler lifts the write
// deadline through the router's response writers.
func TestWriteTimeoutCanBeLifted(t *testing.T) {
	t.Parallel()
	tr := startedRouter(t, Options{DangerouslyDisableDefaultAuthPolicy: true}, func(rt *Router) {
		rt.HandleFunc("GET /stream", func(w http.ResponseWriter, r *http.Request) {
			if err := http.NewResponseController(w).SetWriteDeadline(time.Time{}); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			_, _ = io.WriteString(w, "streaming")
		})
	})
	root := listeningRoot(t, tr, nil)
	resp, err := http.Get("http://" + root.Addr().String() + "/api/todo/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != "streaming" {
		t.Errorf("got %d %q, want 200 streaming", resp.StatusCode, body)
	}
}

func TestServerTimeoutsFromConfig(t *testing.T) {
	t.Parallel()
	tests := []configCase[ServerTimeouts]{
		{name: "defaults", yaml: "{}", want: ServerTimeouts{10 * time.Second, 30 * time.Second, 60 * time.Second, 2 * time.Minute}},
		{name: "set", yaml: "backend: {server: {readHeaderTimeout: 5s, readTimeout: 2m, writeTimeout: 0, idleTimeout: 30}}",
			want: ServerTimeouts{5 * time.Second, 2 * time.Minute, 0, 30 * time.Second}},
		{name: "negative", yaml: "backend: {server: {readTimeout: -1s}}", wantErr: "config key backend.server.readTimeout is -1s; use a duration such as 30s, or 0 for no timeout"},
		{name: "not a duration", yaml: "backend: {server: {idleTimeout: forever}}", wantErr: "backend.server.idleTimeout"},
	}
	runConfigCases(t, serverTimeoutsFromConfig, tests)
}

func TestRootFactoryRejectsBadServerTimeouts(t *testing.T) {
	t.Parallel()
	d, _, _ := rootDepsFor(t, map[string]any{"backend": map[string]any{
		"listen": map[string]any{"host": "127.0.0.1", "port": 0},
		"server": map[string]any{"writeTimeout": "-5s"},
	}})
	if _, err := newRootService(t.Context(), d); err == nil || !strings.Contains(err.Error(), "httprouter: config key backend.server.writeTimeout is -5s") {
		t.Errorf("error = %v, want one naming backend.server.writeTimeout", err)
	}
}
