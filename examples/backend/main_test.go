package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/defaults/auth"
)

// startBackend runs the example backend on an ephemeral port, as `go run
// ./examples/backend` would, and returns its base URL. It stops on cleanup
// and checks that the shutdown was clean.
func startBackend(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	env := []string{"GREENROOM_CONFIG_backend_listen_port=0", "GREENROOM_CONFIG_backend_listen_host=127.0.0.1"}
	done := make(chan error, 1)
	go func() {
		err := run(ctx, args, env, pw)
		pw.CloseWithError(io.EOF)
		done <- err
	}()
	// result is read by the failure below and by the cleanup, which would
	// wait forever on a second receive from done.
	result := sync.OnceValue(func() error { return <-done })
	t.Cleanup(func() {
		cancel()
		if err := result(); err != nil {
			t.Errorf("backend stopped with error: %v", err)
		}
	})
	listening := regexp.MustCompile(`Listening on \S*:(\d+)`)
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if m := listening.FindStringSubmatch(sc.Text()); m != nil {
			go io.Copy(io.Discard, pr) //nolint:errcheck // drain the rest of the log
			base := "http://127.0.0.1:" + m[1]
			waitReady(t, base)
			return base
		}
	}
	t.Fatalf("backend exited before listening: %v", result())
	return ""
}

// waitReady polls readiness until the backend has started. Its deadline
// only bounds a hang; a working backend is ready after its first answer.
func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Get(base + "/.greenroom/health/v1/readiness")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("backend never became ready")
}

type result struct {
	status int
	body   map[string]any
}

func call(t *testing.T, method, url, token, body string) result {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	r := result{status: res.StatusCode}
	if data, _ := io.ReadAll(res.Body); len(data) > 0 {
		if err := json.Unmarshal(data, &r.body); err != nil {
			t.Fatalf("%s %s: body %q is not a JSON object: %v", method, url, data, err)
		}
	}
	return r
}

func devToken(t *testing.T, sub string) string {
	t.Helper()
	key, err := os.ReadFile("dev-user-key.json")
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := auth.ParseUserTokenIssuer(key)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := issuer.Issue(sub, nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// algNoneToken is an unsigned user token, which must never be accepted.
func algNoneToken() string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	now := time.Now().Unix()
	return enc(map[string]string{"alg": "none", "typ": auth.TokenTypeUser}) + "." +
		enc(map[string]any{"sub": "user:default/alice", "iat": now, "exp": now + 3600}) + "."
}

// TestSecureByDefault checks the example backend the way a person with curl
// would: everything but /health needs valid credentials, and nothing forged
// or mocked gets in.
func TestSecureByDefault(t *testing.T) {
	base := startBackend(t)
	tests := []struct {
		name, method, path, token, body string
		wantStatus                      int
		wantError                       string
	}{
		{name: "health is open", method: "GET", path: "/api/todo/health", wantStatus: 200},
		{name: "no credentials", method: "GET", path: "/api/todo/todos", wantStatus: 401, wantError: "AuthenticationError"},
		{name: "unknown path is 401 not 404", method: "GET", path: "/api/todo/no-such-path", wantStatus: 401, wantError: "AuthenticationError"},
		{name: "mock token", method: "GET", path: "/api/todo/todos", token: "mock-user-token", wantStatus: 401, wantError: "AuthenticationError"},
		{name: "alg none", method: "GET", path: "/api/todo/todos", token: algNoneToken(), wantStatus: 401, wantError: "AuthenticationError"},
		{name: "unauthenticated POST", method: "POST", path: "/api/todo/todos", body: `{"title":"x"}`, wantStatus: 401, wantError: "AuthenticationError"},
		{name: "static service token is not a user", method: "GET", path: "/api/todo/todos", token: "dev-static-token-0123456789", wantStatus: 403, wantError: "NotAllowedError"},
		{name: "digest without credentials", method: "GET", path: "/api/digest/summary", wantStatus: 401, wantError: "AuthenticationError"},
		{name: "digest with a mock token", method: "GET", path: "/api/digest/summary", token: "mock-user-token", wantStatus: 401, wantError: "AuthenticationError"},
		{name: "readiness", method: "GET", path: "/.greenroom/health/v1/readiness", wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, tt.method, base+tt.path, tt.token, tt.body)
			if r.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %v)", r.status, tt.wantStatus, r.body)
			}
			if tt.wantError == "" {
				if r.body["status"] != "ok" {
					t.Errorf("body = %v, want status ok", r.body)
				}
				return
			}
			e, _ := r.body["error"].(map[string]any)
			req, _ := r.body["request"].(map[string]any)
			res, _ := r.body["response"].(map[string]any)
			if e["name"] != tt.wantError || req["method"] != tt.method || req["url"] != tt.path || res["statusCode"] != float64(tt.wantStatus) {
				t.Errorf("body = %v, want the JSON error shape with %s for %s %s", r.body, tt.wantError, tt.method, tt.path)
			}
		})
	}
}

func TestCRUDFlowWithDevTokens(t *testing.T) {
	base := startBackend(t)
	alice, bob := devToken(t, "user:default/alice"), devToken(t, "user:default/bob")

	created := call(t, "POST", base+"/api/todo/todos", alice, `{"title":"write docs"}`)
	if created.status != 201 || created.body["title"] != "write docs" {
		t.Fatalf("create = %d %v", created.status, created.body)
	}
	id := "/api/todo/todos/" + jsonNumber(created.body["id"])
	if r := call(t, "GET", base+id, alice, ""); r.status != 200 || r.body["title"] != "write docs" {
		t.Errorf("get as owner = %d %v", r.status, r.body)
	}
	if r := call(t, "GET", base+id, bob, ""); r.status != 404 {
		t.Errorf("get as another user = %d %v, want 404", r.status, r.body)
	}
	if r := call(t, "GET", base+"/api/todo/todos", bob, ""); r.status != 200 || len(r.body["items"].([]any)) != 0 {
		t.Errorf("list as another user = %d %v, want no items", r.status, r.body)
	}
	if r := call(t, "PATCH", base+id, alice, `{"done":true}`); r.status != 200 || r.body["done"] != true {
		t.Errorf("patch = %d %v", r.status, r.body)
	}
	if r := call(t, "DELETE", base+id, bob, ""); r.status != 404 {
		t.Errorf("delete as another user = %d, want 404", r.status)
	}
	if r := call(t, "DELETE", base+id, alice, ""); r.status != 204 {
		t.Errorf("delete = %d %v", r.status, r.body)
	}
	if r := call(t, "GET", base+id, alice, ""); r.status != 404 {
		t.Errorf("get after delete = %d, want 404", r.status)
	}
}

func jsonNumber(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--port", "70000"}, "out of range"},
		{[]string{"--port", "-1"}, "out of range"},
		{[]string{"extra"}, "unexpected arguments"},
		{[]string{"--config", "/no/such/file.yaml"}, "/no/such/file.yaml"},
		{[]string{"--nope"}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stderr strings.Builder
			err := run(context.Background(), tt.args, []string{"GREENROOM_CONFIG_backend_listen_port=0"}, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("run(%q) = %v, want an error containing %q", tt.args, err, tt.want)
			}
		})
	}
}

func TestPortFlagOverridesConfig(t *testing.T) {
	// A port in config and a different one on the command line: the flag wins.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	port := freePort(t)
	go func() {
		done <- run(ctx, []string{"--port", port}, []string{"GREENROOM_CONFIG_backend_listen_port=1"}, pw)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "Listening on") {
			go io.Copy(io.Discard, pr) //nolint:errcheck
			if !strings.Contains(sc.Text(), ":"+port+`"`) {
				t.Errorf("log line %q, want it to end with the --port port %s", sc.Text(), port)
			}
			waitReady(t, "http://127.0.0.1:"+port)
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("backend did not listen on the --port port: %v", <-done)
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// TestDigestAndModule checks the plugins added next to todo: the
// nobadwords module refuses a title through todo's extension point, and
// the digest plugin reads the caller's todos from todo over the backend's
// listener, with a plugin token issued by the production auth on the
// caller's behalf.
func TestDigestAndModule(t *testing.T) {
	t.Parallel()
	base := startBackend(t)
	alice, bob := devToken(t, "user:default/alice"), devToken(t, "user:default/bob")

	r := call(t, "POST", base+"/api/todo/todos", alice, `{"title":"fix the darn printer"}`)
	if e, _ := r.body["error"].(map[string]any); r.status != 400 || !strings.Contains(e["message"].(string), `validator "no-bad-words"`) {
		t.Errorf("create with a refused word = %d %v, want 400 naming the validator", r.status, r.body)
	}
	for _, c := range []struct{ token, body string }{
		{alice, `{"title":"milk"}`},
		{alice, `{"title":"bread","done":true}`},
		{bob, `{"title":"tea"}`},
	} {
		if r := call(t, "POST", base+"/api/todo/todos", c.token, c.body); r.status != 201 {
			t.Fatalf("create %s = %d %v", c.body, r.status, r.body)
		}
	}
	for _, c := range []struct {
		token, user     string
		open, completed float64
	}{
		{alice, "user:default/alice", 1, 1},
		{bob, "user:default/bob", 1, 0},
	} {
		r := call(t, "GET", base+"/api/digest/summary", c.token, "")
		if r.status != 200 || r.body["user"] != c.user || r.body["open"] != c.open || r.body["completed"] != c.completed {
			t.Errorf("summary of %s = %d %v, want %v open and %v completed", c.user, r.status, r.body, c.open, c.completed)
		}
	}
	if r := call(t, "GET", base+"/api/digest/summary", "", ""); r.status != 401 {
		t.Errorf("summary without credentials = %d %v, want 401", r.status, r.body)
	}
}
