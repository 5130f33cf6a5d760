package testbackend_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/mockservices/mockcreds"
	"github.com/greenroom-dev/greenroom/testbackend"
)

// authModes are the two auth setups every credential test runs in: the
// mock auth service and the production one.
var authModes = []struct {
	name string
	opts []testbackend.Option
}{
	{name: "mock auth"},
	{name: "real auth", opts: []testbackend.Option{testbackend.WithRealAuth()}},
}

func TestCredentials(t *testing.T) {
	tests := []struct {
		name       string
		req        func(tb *testbackend.Backend) *testbackend.Request
		wantStatus int
		want       whoami
	}{
		{
			name:       "no credentials",
			req:        func(tb *testbackend.Backend) *testbackend.Request { return tb.Get("/api/echo/whoami") },
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "explicitly none",
			req: func(tb *testbackend.Backend) *testbackend.Request {
				return tb.Get("/api/echo/whoami").WithoutCredentials()
			},
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "user",
			req: func(tb *testbackend.Backend) *testbackend.Request {
				return tb.Get("/api/echo/whoami").AsUser("user:default/alice")
			},
			wantStatus: http.StatusOK,
			want:       whoami{Type: core.PrincipalUser, User: "user:default/alice"},
		},
		{
			name:       "default user ref",
			req:        func(tb *testbackend.Backend) *testbackend.Request { return tb.Get("/api/echo/whoami").AsUser("") },
			wantStatus: http.StatusOK,
			want:       whoami{Type: core.PrincipalUser, User: "user:default/mock"},
		},
		{
			name: "invalid user token",
			req: func(tb *testbackend.Backend) *testbackend.Request {
				return tb.Get("/api/echo/whoami").AsUser("user:default/alice").WithInvalidToken()
			},
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "invalid token alone is a user's",
			req: func(tb *testbackend.Backend) *testbackend.Request {
				return tb.Get("/api/echo/whoami").WithInvalidToken()
			},
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "plugin service",
			req: func(tb *testbackend.Backend) *testbackend.Request {
				return tb.Get("/api/echo/whoami").AsService("plugin:catalog")
			},
			wantStatus: http.StatusOK,
			want:       whoami{Type: core.PrincipalService, Subject: "plugin:catalog"},
		},
		{
			name:       "default external service",
			req:        func(tb *testbackend.Backend) *testbackend.Request { return tb.Get("/api/echo/whoami").AsService("") },
			wantStatus: http.StatusOK,
			want:       whoami{Type: core.PrincipalService, Subject: "external:test-service"},
		},
		{
			name: "plugin on behalf of a user",
			req: func(tb *testbackend.Backend) *testbackend.Request {
				return tb.Get("/api/echo/whoami").AsService("plugin:catalog").OnBehalfOf("user:default/bob")
			},
			wantStatus: http.StatusOK,
			want:       whoami{Type: core.PrincipalUser, User: "user:default/bob"},
		},
		{
			name: "invalid service token",
			req: func(tb *testbackend.Backend) *testbackend.Request {
				return tb.Get("/api/echo/whoami").AsService("plugin:catalog").WithInvalidToken()
			},
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "limited user where the cookie is accepted",
			req: func(tb *testbackend.Backend) *testbackend.Request {
				return tb.Get("/api/echo/images/whoami").AsLimitedUser("user:default/carol")
			},
			wantStatus: http.StatusOK,
			want:       whoami{Type: core.PrincipalUser, User: "user:default/carol", Limited: true},
		},
		{
			name: "limited user elsewhere",
			req: func(tb *testbackend.Backend) *testbackend.Request {
				return tb.Get("/api/echo/whoami").AsLimitedUser("user:default/carol")
			},
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "invalid limited user",
			req: func(tb *testbackend.Backend) *testbackend.Request {
				return tb.Get("/api/echo/images/whoami").AsLimitedUser("user:default/carol").WithInvalidToken()
			},
			wantStatus: http.StatusUnauthorized,
		},
		{
			name:       "open route",
			req:        func(tb *testbackend.Backend) *testbackend.Request { return tb.Get("/api/echo/health") },
			wantStatus: http.StatusOK,
		},
	}
	for _, mode := range authModes {
		t.Run(mode.name, func(t *testing.T) {
			tb := testbackend.New(mode.opts...).Start(t, echo)
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					resp := tt.req(tb).Do(t).ExpectStatus(t, tt.wantStatus)
					switch {
					case tt.wantStatus == http.StatusUnauthorized:
						resp.ExpectError(t, errs.Authentication)
					case tt.want != (whoami{}):
						resp.ExpectJSON(t, tt.want)
					}
				})
			}
		})
	}
}

func TestCredentialErrors(t *testing.T) {
	tests := []struct {
		name    string
		opts    []testbackend.Option
		req     func(tb *testbackend.Backend) *testbackend.Request
		wantErr string
	}{
		{
			name:    "bad user ref",
			req:     func(tb *testbackend.Backend) *testbackend.Request { return tb.Get("/api/echo/whoami").AsUser("alice") },
			wantErr: `invalid user entity reference "alice"`,
		},
		{
			name: "not a user",
			req: func(tb *testbackend.Backend) *testbackend.Request {
				return tb.Get("/api/echo/whoami").AsUser("group:default/a")
			},
			wantErr: `kind is "group"`,
		},
		{
			name: "bad on-behalf-of ref",
			req: func(tb *testbackend.Backend) *testbackend.Request {
				return tb.Get("/api/echo/whoami").AsService("plugin:x").OnBehalfOf("bob")
			},
			wantErr: `invalid user entity reference "bob"`,
		},
		{
			name: "bad limited user ref",
			req: func(tb *testbackend.Backend) *testbackend.Request {
				return tb.Get("/api/echo/whoami").AsLimitedUser("x")
			},
			wantErr: `invalid user entity reference "x"`,
		},
		{
			name: "real: unknown external subject",
			opts: []testbackend.Option{testbackend.WithRealAuth()},
			req: func(tb *testbackend.Backend) *testbackend.Request {
				return tb.Get("/api/echo/whoami").AsService("external:ci")
			},
			wantErr: `the service subject "external:ci" needs a static token`,
		},
		{
			name: "real: external on behalf of a user",
			opts: []testbackend.Option{testbackend.WithRealAuth()},
			req: func(tb *testbackend.Backend) *testbackend.Request {
				return tb.Get("/api/echo/whoami").AsService("").OnBehalfOf("user:default/a")
			},
			wantErr: `cannot call on behalf of a user`,
		},
		{
			name: "real: plugin token outside plugins",
			opts: []testbackend.Option{testbackend.WithRealAuth()},
			req: func(tb *testbackend.Backend) *testbackend.Request {
				return tb.Get("/.greenroom/x").AsService("plugin:x")
			},
			wantErr: "a plugin token is bound to the plugin it calls",
		},
		{
			name: "real: limited token outside plugins",
			opts: []testbackend.Option{testbackend.WithRealAuth()},
			req: func(tb *testbackend.Backend) *testbackend.Request {
				return tb.Get("/x").AsLimitedUser("user:default/a")
			},
			wantErr: "a limited user token is bound to the plugin it calls",
		},
		{
			name:    "real: bad user ref",
			opts:    []testbackend.Option{testbackend.WithRealAuth()},
			req:     func(tb *testbackend.Backend) *testbackend.Request { return tb.Get("/api/echo/whoami").AsUser("alice") },
			wantErr: `invalid user entity reference "alice"`,
		},
		{
			name:    "unencodable body",
			req:     func(tb *testbackend.Backend) *testbackend.Request { return tb.Post("/api/echo/echo", make(chan int)) },
			wantErr: "encoding the body as JSON",
		},
		{
			name: "bad method",
			req: func(tb *testbackend.Backend) *testbackend.Request {
				return tb.NewRequest("BAD METHOD", "/api/echo/x", nil)
			},
			wantErr: "invalid method",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := testbackend.New(tt.opts...).Start(t, echo)
			f := record(t, func(ft testing.TB) { tt.req(tb).Do(ft) })
			if !f.fatal || !strings.Contains(f.output(), tt.wantErr) {
				t.Fatalf("Do failed with %q (fatal %v), want a fatal failure containing %q", f.output(), f.fatal, tt.wantErr)
			}
		})
	}
}

func TestWithDefaultUser(t *testing.T) {
	for _, mode := range authModes {
		t.Run(mode.name, func(t *testing.T) {
			tb := testbackend.New(append(mode.opts, testbackend.WithDefaultUser("user:default/dana"))...).Start(t, echo)

			tb.Get("/api/echo/whoami").Do(t).ExpectStatus(t, http.StatusOK).
				ExpectJSON(t, whoami{Type: core.PrincipalUser, User: "user:default/dana"})
			tb.Get("/api/echo/whoami").AsUser("user:default/erin").Do(t).ExpectStatus(t, http.StatusOK).
				ExpectJSON(t, whoami{Type: core.PrincipalUser, User: "user:default/erin"})
			tb.Get("/api/echo/whoami").WithoutCredentials().Do(t).ExpectError(t, errs.Authentication)

			// The plain client gets the default user too.
			resp, err := tb.Client().Get("/api/echo/whoami")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("plain client: status %d, want 200", resp.StatusCode)
			}
		})
	}
}

func TestStartFailures(t *testing.T) {
	failing := backend.NewPlugin("broken", backend.Init(func(ctx context.Context, _ struct{}) error {
		return errors.New("the database is on fire")
	}))
	tests := []struct {
		name     string
		features []backend.Feature
		opts     []testbackend.Option
		want     []string
	}{
		{
			name:     "init fails",
			features: []backend.Feature{failing},
			want:     []string{"testbackend.Start", "Plugin 'broken' startup failed", "the database is on fire"},
		},
		{
			name:     "bad default user",
			features: []backend.Feature{echo},
			opts:     []testbackend.Option{testbackend.WithDefaultUser("mock")},
			want:     []string{"WithDefaultUser", `invalid user entity reference "mock"`},
		},
		{
			name:     "bad config key",
			features: []backend.Feature{echo},
			opts:     []testbackend.Option{testbackend.WithConfig(map[string]any{"a..b": 1})},
			want:     []string{"WithConfig", "empty segment"},
		},
		{
			name:     "bad config value",
			features: []backend.Feature{echo},
			opts:     []testbackend.Option{testbackend.WithConfig(map[string]any{"a": func() {}})},
			want:     []string{"WithConfig"},
		},
		{
			name:     "zero option",
			features: []backend.Feature{echo},
			opts:     []testbackend.Option{{}},
			want:     []string{"a zero testbackend.Option"},
		},
		{
			name:     "extension point nobody consumes",
			features: []backend.Feature{echo},
			opts:     []testbackend.Option{testbackend.WithExtensionPoint(greetingsPoint, greetings(nil))},
			want:     []string{"Unable to determine the plugin ID of extension point(s) 'test.greetings'. Tested extension points must be depended on by one or more tested modules."},
		},
		{
			name:     "invalid wiring",
			features: []backend.Feature{echo, echo},
			want:     []string{"testbackend.Start", "echo"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := record(t, func(ft testing.TB) { testbackend.New(tt.opts...).Start(ft, tt.features...) })
			if !f.fatal {
				t.Fatalf("Start did not fail the test; output: %q", f.output())
			}
			for _, w := range tt.want {
				if !strings.Contains(f.output(), w) {
					t.Errorf("failure %q does not contain %q", f.output(), w)
				}
			}
		})
	}
}

func TestStopErrorIsReported(t *testing.T) {
	p := backend.NewPlugin("stubborn", backend.Init(func(ctx context.Context, d struct{ Lifecycle core.Lifecycle }) error {
		return d.Lifecycle.AddShutdownHook(func(context.Context) error { return errors.New("refusing to stop") })
	}))
	f := record(t, func(ft testing.TB) { testbackend.Start(ft, p) })
	if f.fatal || !strings.Contains(f.output(), "stopping the backend") || !strings.Contains(f.output(), "refusing to stop") {
		t.Fatalf("output %q (fatal %v), want a non-fatal error naming the shutdown hook's error", f.output(), f.fatal)
	}
}

// greetings is an extension point: modules of the "greeter" plugin add
// greetings to it.
type greetings interface{ Add(string) }

var greetingsPoint = core.NewExtensionPoint[greetings]("test.greetings")

type greetingList []string

func (g *greetingList) Add(s string) { *g = append(*g, s) }

func TestWithExtensionPoint(t *testing.T) {
	// A module of a plugin that is not in the test backend: it gets an
	// empty host plugin, and the test stands in for the plugin's
	// extension point.
	module := backend.NewModule("greeter", "english", backend.Init(func(ctx context.Context, d struct {
		Greetings greetings
		Router    core.HTTPRouter
	}) error {
		d.Greetings.Add("hello")
		d.Router.HandleFunc("GET /hi", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hi") })
		return nil
	}))
	var got greetingList
	tb := testbackend.New(testbackend.WithExtensionPoint[greetings](greetingsPoint, &got)).Start(t, module)
	if len(got) != 1 || got[0] != "hello" {
		t.Errorf("the extension point got %q, want [hello]", got)
	}
	if ids := tb.PluginIDs(); len(ids) != 1 || ids[0] != "greeter" {
		t.Errorf("PluginIDs() = %q, want [greeter]", ids)
	}
	if b := tb.Get("/api/greeter/hi").AsUser("").Do(t).ExpectStatus(t, http.StatusOK).Bytes(); string(b) != "hi" {
		t.Errorf("body %q, want hi", b)
	}
}

func TestClient(t *testing.T) {
	tb := testbackend.Start(t, echo)
	tok := mockcreds.User("user:default/alice").Header()

	get := func(c *http.Client, url string) (int, error) {
		req, err := http.NewRequest("GET", url, nil)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", tok)
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	tests := []struct {
		name    string
		client  *http.Client
		url     string
		want    int
		wantErr string
	}{
		{name: "path", client: tb.Client(), url: "/api/echo/whoami", want: 200},
		{name: "in-process host", client: tb.Client(), url: "http://greenroom.test/api/echo/whoami", want: 200},
		{name: "listener URL, in-process", client: tb.Client(), url: tb.URL() + "/api/echo/whoami", want: 200},
		{name: "listener URL, over TCP", client: http.DefaultClient, url: tb.URL() + "/api/echo/whoami", want: 200},
		{name: "health", client: tb.Client(), url: "/.greenroom/health/v1/readiness", want: 200},
		{name: "not found", client: tb.Client(), url: "/nothing", want: 404},
		{name: "other host", client: tb.Client(), url: "http://example.com/x", wantErr: "only serves this test backend"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := get(tt.client, tt.url)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("GET %s: %d, %v; want %d", tt.url, got, err, tt.want)
			}
		})
	}
	if tb.URL() != tb.URL() {
		t.Error("URL changed between calls")
	}
}

func TestClientCancellation(t *testing.T) {
	blocked := make(chan struct{})
	p := backend.NewPlugin("slow", backend.Init(func(ctx context.Context, d struct{ Router core.HTTPRouter }) error {
		d.Router.HandleFunc("GET /wait", func(w http.ResponseWriter, r *http.Request) {
			close(blocked)
			<-r.Context().Done()
			w.WriteHeader(http.StatusTeapot)
		})
		return nil
	}))
	tb := testbackend.Start(t, p)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-blocked
		cancel()
	}()
	resp := tb.Get("/api/slow/wait").AsUser("").WithContext(ctx).Do(t)
	if resp.StatusCode != http.StatusTeapot {
		t.Errorf("status %d, want the handler's 418 after its context was cancelled", resp.StatusCode)
	}
}

func TestPluginToPlugin(t *testing.T) {
	for _, mode := range authModes {
		t.Run(mode.name, func(t *testing.T) {
			tb := testbackend.New(mode.opts...).Start(t, newEcho("front"), newEcho("back"))
			// front calls back over HTTP (discovery gives the test server's
			// URL) with a token from its Auth service on behalf of the user.
			tb.Get("/api/front/call/back").AsUser("user:default/alice").Do(t).
				ExpectStatus(t, http.StatusOK).
				ExpectJSON(t, whoami{Type: core.PrincipalUser, User: "user:default/alice"})
			tb.Get("/api/front/call/back").AsService("plugin:catalog").Do(t).
				ExpectStatus(t, http.StatusOK).
				ExpectJSON(t, whoami{Type: core.PrincipalService, Subject: "plugin:front"})
		})
	}
}

func TestRequestBodyAndHeaders(t *testing.T) {
	tb := testbackend.New(testbackend.WithDefaultUser("user:default/mock")).Start(t, echo)
	type echoed struct {
		ContentType string `json:"contentType"`
		Body        string `json:"body"`
		X           string `json:"x"`
	}
	tests := []struct {
		name string
		req  *testbackend.Request
		want echoed
	}{
		{name: "JSON", req: tb.Post("/api/echo/echo", map[string]int{"a": 1}), want: echoed{ContentType: "application/json", Body: `{"a":1}`}},
		{name: "bytes", req: tb.Post("/api/echo/echo", []byte("raw")), want: echoed{Body: "raw"}},
		{name: "string", req: tb.Post("/api/echo/echo", "text"), want: echoed{Body: "text"}},
		{name: "reader", req: tb.Post("/api/echo/echo", strings.NewReader("read")), want: echoed{Body: "read"}},
		{
			name: "header",
			req:  tb.Post("/api/echo/echo", "x").WithHeader("X-Test", "yes").WithHeader("Content-Type", "text/plain"),
			want: echoed{ContentType: "text/plain", Body: "x", X: "yes"},
		},
		{name: "no body", req: tb.NewRequest("POST", "/api/echo/echo", nil), want: echoed{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Do(t).ExpectStatus(t, http.StatusOK).ExpectJSON(t, tt.want)
		})
	}
	// The other verbs reach the router, which answers 405 for a path
	// served with another method.
	for _, r := range []*testbackend.Request{tb.Put("/api/echo/whoami", nil), tb.Patch("/api/echo/whoami", nil), tb.Delete("/api/echo/whoami")} {
		resp := r.Do(t)
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s: status %d, want 405", resp.Request.Method, resp.StatusCode)
		}
	}
}

func TestBuild(t *testing.T) {
	tb := testbackend.Start(t, echo)
	req := tb.Get("/api/echo/whoami").AsService("plugin:catalog").Build(t)
	if got := req.Header.Get("Authorization"); !strings.HasPrefix(got, "Bearer mock-service-token:") {
		t.Errorf("Authorization %q, want a mock service token", got)
	}
	req = tb.Get("/api/echo/images/whoami").AsLimitedUser("user:default/a").Build(t)
	if c, err := req.Cookie("greenroom-auth"); err != nil || !strings.HasPrefix(c.Value, "mock-limited-user-token") {
		t.Errorf("cookie %v, %v; want the limited token", c, err)
	}
	// Build's request is a plain *http.Request: send it with any client.
	req = tb.Get(tb.URL() + "/api/echo/whoami").AsUser("user:default/a").Build(t)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %d, want 200", resp.StatusCode)
	}
}

func TestResponseHelpers(t *testing.T) {
	tb := testbackend.New(testbackend.WithDefaultUser("user:default/mock")).Start(t, echo)
	tests := []struct {
		name      string
		check     func(t testing.TB, r *testbackend.Response)
		wantFatal bool
		want      []string
	}{
		{
			name:  "status matches",
			check: func(t testing.TB, r *testbackend.Response) { r.ExpectStatus(t, 200) },
		},
		{
			name:      "status differs",
			check:     func(t testing.TB, r *testbackend.Response) { r.ExpectStatus(t, 201) },
			wantFatal: true,
			want:      []string{"GET /api/echo/whoami: status 200 OK, want 201 Created; body:", `"user":"user:default/mock"`},
		},
		{
			name: "JSON differs",
			check: func(t testing.TB, r *testbackend.Response) {
				r.ExpectJSON(t, whoami{Type: core.PrincipalUser, User: "user:default/other"})
			},
			// go-cmp varies its whitespace on purpose; check the values.
			want: []string{"body mismatch (-want +got)", `"user:default/other"`, `"user:default/mock"`},
		},
		{
			name: "JSON as a map",
			check: func(t testing.TB, r *testbackend.Response) {
				r.ExpectJSON(t, map[string]any{"type": "user", "user": "user:default/mock"})
			},
		},
		{
			name:  "JSON not decodable into want",
			check: func(t testing.TB, r *testbackend.Response) { r.ExpectJSON(t, []int{}) },
			want:  []string{"decoding the body as []int"},
		},
		{
			name:      "nil want",
			check:     func(t testing.TB, r *testbackend.Response) { r.ExpectJSON(t, nil) },
			wantFatal: true,
			want:      []string{"want is nil"},
		},
		{
			name: "decode",
			check: func(t testing.TB, r *testbackend.Response) {
				var w whoami
				r.DecodeJSON(t, &w)
				if w.User != "user:default/mock" {
					t.Errorf("decoded %+v", w)
				}
			},
		},
		{
			name:      "decode fails",
			check:     func(t testing.TB, r *testbackend.Response) { r.DecodeJSON(t, new(string)) },
			wantFatal: true,
			want:      []string{"decoding the body as *string"},
		},
		{
			name:      "not an error",
			check:     func(t testing.TB, r *testbackend.Response) { r.ExpectError(t, errs.NotFound) },
			wantFatal: true,
			want:      []string{"status 200 OK, want 404 Not Found"},
		},
	}
	resp := tb.Get("/api/echo/whoami").Do(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := record(t, func(ft testing.TB) { tt.check(ft, resp) })
			if f.fatal != tt.wantFatal {
				t.Errorf("fatal = %v, want %v; output %q", f.fatal, tt.wantFatal, f.output())
			}
			if len(tt.want) == 0 && f.output() != "" {
				t.Errorf("unexpected failure: %s", f.output())
			}
			for _, w := range tt.want {
				if !strings.Contains(f.output(), w) {
					t.Errorf("output %q does not contain %q", f.output(), w)
				}
			}
		})
	}

	t.Run("error of another name", func(t *testing.T) {
		r := tb.Get("/api/echo/nothing").Do(t)
		body := r.ExpectError(t, errs.NotFound)
		if body.Request.URL != "/api/echo/nothing" {
			t.Errorf("error body names %q", body.Request.URL)
		}
	})
	if got := resp.String(); !strings.HasPrefix(got, `GET /api/echo/whoami: 200 OK {"type":"user"`) {
		t.Errorf("String() = %q", got)
	}
	if b, _ := io.ReadAll(resp.Body); string(b) != string(resp.Bytes()) {
		t.Errorf("Body reads %q, Bytes is %q", b, resp.Bytes())
	}
}

func TestService(t *testing.T) {
	tb := testbackend.Start(t, echo)
	tb.Get("/api/echo/whoami").AsUser("user:default/alice").Do(t).ExpectStatus(t, http.StatusOK)

	// The plugin's logger writes to the root logger, the mock that
	// captures records.
	log := testbackend.Service(t, tb, core.RootLoggerRef, "").(*mockservices.LoggerService)
	if !log.Contains("whoami", "plugin", "echo", "caller", "credentials{user user:default/alice}") {
		t.Errorf("the whoami record is missing; records: %v", log.Records())
	}
	if got := testbackend.Service(t, tb, core.PluginMetadataRef, "echo").ID(); got != "echo" {
		t.Errorf("plugin metadata ID %q, want echo", got)
	}

	f := record(t, func(ft testing.TB) { testbackend.Service(ft, tb, unprovidedRef, "echo") })
	if !f.fatal || !strings.Contains(f.output(), "serviceRef{test.unprovided}") {
		t.Errorf("Service of a missing service: %q", f.output())
	}
}

type unprovided interface{ Nothing() }

var unprovidedRef = core.NewServiceRef[unprovided]("test.unprovided")

func TestURLAfterStop(t *testing.T) {
	var tb *testbackend.Backend
	t.Run("test", func(t *testing.T) { tb = testbackend.Start(t, echo) })
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "after the test backend stopped") {
			t.Errorf("URL after the test: recovered %v, want a panic naming the misuse", r)
		}
	}()
	tb.URL()
}

// TestURLDrainsBeforeShutdown: a request in flight on the server of URL
// when the test ends completes before the plugin's shutdown hooks run, as
// on a production listener. The handler holds the request until either the
// plugin shut down (the old order: it answers 500, as a handler whose
// database pool closed would) or the server stopped accepting connections
// (the drain phase began).
func TestURLDrainsBeforeShutdown(t *testing.T) {
	t.Parallel()
	entered := make(chan struct{})
	shutDown := make(chan struct{})
	var addr string
	plugin := backend.NewPlugin("slow", backend.Init(func(ctx context.Context, d struct {
		Router    core.HTTPRouter
		Lifecycle core.Lifecycle
	}) error {
		d.Router.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
			close(entered)
			for {
				select {
				case <-shutDown:
					http.Error(w, "the plugin shut down while the request was in flight", http.StatusInternalServerError)
					return
				default:
				}
				c, err := net.Dial("tcp", addr)
				if errors.Is(err, syscall.ECONNREFUSED) { // the server drains
					w.WriteHeader(http.StatusOK)
					return
				}
				if err == nil {
					c.Close()
				}
				time.Sleep(time.Millisecond) // poll, not a timed assertion
			}
		})
		return d.Lifecycle.AddShutdownHook(func(context.Context) error {
			close(shutDown)
			return nil
		})
	}))

	status := make(chan int, 1)
	outer := t
	t.Run("backend", func(t *testing.T) {
		tb := testbackend.Start(t, plugin)
		base := tb.URL()
		addr = strings.TrimPrefix(base, "http://")
		// The request outlives the subtest: not its context.
		req := tb.Get(base + "/api/slow/slow").AsService("plugin:other").
			WithContext(context.Background()).Build(t)
		go func() {
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				outer.Errorf("the request in flight failed: %v", err)
				status <- 0
				return
			}
			resp.Body.Close()
			status <- resp.StatusCode
		}()
		<-entered
		// The subtest ends here: its cleanup stops the test backend while
		// the request is in flight.
	})
	if got := <-status; got != http.StatusOK {
		t.Errorf("the request in flight when the test ended got %d, want 200", got)
	}
}
