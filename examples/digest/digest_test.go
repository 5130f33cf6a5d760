package digest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/examples/digest"
	"github.com/greenroom-dev/greenroom/examples/todo"
	"github.com/greenroom-dev/greenroom/httpjson"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/testbackend"
)

const (
	alice = "user:default/alice"
	bob   = "user:default/bob"
)

// seed creates todos through the todo plugin: alice has two open and one
// completed, bob one open.
func seed(t *testing.T, tb *testbackend.Backend) {
	t.Helper()
	for _, c := range []struct {
		user, title string
		done        bool
	}{
		{alice, "milk", false},
		{alice, "bread", true},
		{alice, "eggs", false},
		{bob, "tea", false},
	} {
		tb.Post("/api/todo/todos", map[string]any{"title": c.title, "done": c.done}).AsUser(c.user).Do(t).ExpectStatus(t, http.StatusCreated)
	}
}

// checkSummaries checks that each user sees the counts of their own todos
// only, and that a caller without credentials gets 401.
func checkSummaries(t *testing.T, tb *testbackend.Backend) {
	t.Helper()
	seed(t, tb)
	tb.Get("/api/digest/summary").AsUser(alice).Do(t).
		ExpectJSON(t, digest.Summary{User: alice, Open: 2, Completed: 1})
	tb.Get("/api/digest/summary").AsUser(bob).Do(t).
		ExpectJSON(t, digest.Summary{User: bob, Open: 1, Completed: 0})
	tb.Get("/api/digest/summary").AsUser("user:default/carol").Do(t).
		ExpectJSON(t, digest.Summary{User: "user:default/carol"})
	tb.Get("/api/digest/summary").Do(t).ExpectError(t, errs.Authentication)
}

func TestSummaryThroughTodo(t *testing.T) {
	t.Parallel()
	checkSummaries(t, testbackend.Start(t, todo.Plugin, digest.Plugin))
}

// With the production auth services, todo verifies the plugin token that
// digest issued on behalf of the user.
func TestSummaryThroughTodoWithRealAuth(t *testing.T) {
	t.Parallel()
	checkSummaries(t, testbackend.New(testbackend.WithRealAuth()).Start(t, todo.Plugin, digest.Plugin))
}

func TestSummaryNeedsAUser(t *testing.T) {
	t.Parallel()
	tb := testbackend.Start(t, todo.Plugin, digest.Plugin)
	tb.Get("/api/digest/summary").WithoutCredentials().Do(t).ExpectError(t, errs.Authentication)
	tb.Get("/api/digest/summary").WithInvalidToken().Do(t).ExpectError(t, errs.Authentication)
	tb.Get("/api/digest/summary").AsService("plugin:catalog").Do(t).ExpectError(t, errs.NotAllowed)
	// A plugin calling on behalf of a user is that user.
	tb.Get("/api/digest/summary").AsService("plugin:catalog").OnBehalfOf(alice).Do(t).
		ExpectJSON(t, digest.Summary{User: alice})
}

func TestSecureByDefault(t *testing.T) {
	t.Parallel()
	for name, setup := range map[string]*testbackend.Setup{
		"mock auth": testbackend.New(),
		"real auth": testbackend.New(testbackend.WithRealAuth()),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			setup.Start(t, todo.Plugin, digest.Plugin).AssertSecureByDefault(t, "GET /api/todo/health")
		})
	}
}

// fakeTodo is a plugin standing in for todo: its GET /todos answers with
// answer, after recording the credentials and the token it got.
type fakeTodo struct {
	mu     sync.Mutex
	creds  []core.Credentials
	tokens []string
	answer func(w http.ResponseWriter, r *http.Request) error
}

func (f *fakeTodo) plugin() *backend.Plugin {
	type deps struct {
		Router   core.HTTPRouter
		HTTPAuth core.HTTPAuth
	}
	return backend.NewPlugin(digest.TodoPluginID, backend.Init(func(ctx context.Context, d deps) error {
		d.Router.Handle("GET /todos", httpjson.Handler(func(w http.ResponseWriter, r *http.Request) error {
			c, err := d.HTTPAuth.Credentials(r)
			if err != nil {
				return err
			}
			f.mu.Lock()
			f.creds = append(f.creds, c)
			f.tokens = append(f.tokens, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
			f.mu.Unlock()
			return f.answer(w, r)
		}))
		return nil
	}))
}

// The token todo gets is a plugin token of digest for todo, carrying the
// user: not the user's own token passed along.
func TestTodoGetsAPluginTokenOnBehalfOfTheUser(t *testing.T) {
	t.Parallel()
	f := &fakeTodo{answer: func(w http.ResponseWriter, r *http.Request) error {
		return httpjson.Write(w, http.StatusOK, map[string]any{"items": []map[string]any{{"done": true}}})
	}}
	tb := testbackend.New(testbackend.WithRealAuth()).Start(t, f.plugin(), digest.Plugin)
	tb.Get("/api/digest/summary").AsUser(alice).Do(t).ExpectJSON(t, digest.Summary{User: alice, Completed: 1})

	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.creds) != 1 || f.creds[0].Principal.Type != core.PrincipalUser || f.creds[0].Principal.UserEntityRef != alice {
		t.Fatalf("todo saw %+v, want the user %s", f.creds, alice)
	}
	claims := jwtClaims(t, f.tokens[0])
	if claims["sub"] != digest.PluginID || !audienceIs(claims["aud"], "todo") || claims["obo"] == nil {
		t.Errorf("the token todo got has claims %v, want sub digest, aud todo and an obo claim", claims)
	}
}

// jwtClaims decodes the claims of a JWT, without verifying it (todo's auth
// did).
func jwtClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a JWT", token)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

func audienceIs(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []any:
		return len(a) == 1 && a[0] == want
	}
	return false
}

func TestTodoErrorsAreMapped(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		answer  func(w http.ResponseWriter, r *http.Request) error
		want    errs.Name
		message string
	}{
		{"todo fails", func(w http.ResponseWriter, r *http.Request) error { return errs.New(errs.Internal, "boom") },
			errs.ServiceUnavailable, "Plugin todo is unavailable: GET /api/todo/todos answered 500 (boom)"},
		{"todo unavailable", func(w http.ResponseWriter, r *http.Request) error { return errs.NewServiceUnavailable("starting") },
			errs.ServiceUnavailable, "Plugin todo is unavailable: GET /api/todo/todos answered 503 (starting)"},
		{"todo refuses", func(w http.ResponseWriter, r *http.Request) error { return errs.NewNotAllowed("no") },
			errs.Internal, "Plugin todo refused the request of plugin digest on behalf of user:default/alice: GET /api/todo/todos answered 403 (no)"},
		{"todo answers garbage", func(w http.ResponseWriter, r *http.Request) error { _, err := w.Write([]byte("<html>")); return err },
			errs.Internal, "Internal server error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeTodo{answer: tc.answer}
			tb := testbackend.Start(t, f.plugin(), digest.Plugin)
			b := tb.Get("/api/digest/summary").AsUser(alice).Do(t).ExpectError(t, tc.want)
			if !strings.HasPrefix(b.Error.Message, tc.message) {
				t.Errorf("message = %q, want it to start with %q", b.Error.Message, tc.message)
			}
		})
	}
}

func TestTodoNotInstalled(t *testing.T) {
	t.Parallel()
	tb := testbackend.Start(t, digest.Plugin)
	b := tb.Get("/api/digest/summary").AsUser(alice).Do(t).ExpectError(t, errs.ServiceUnavailable)
	if want := "Plugin todo is unavailable: GET /api/todo/todos answered 404"; !strings.HasPrefix(b.Error.Message, want) {
		t.Errorf("message = %q, want it to start with %q", b.Error.Message, want)
	}
}

func TestTodoDown(t *testing.T) {
	t.Parallel()
	// A server that is closed: its address refuses connections.
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	tb := testbackend.Start(t, todo.Plugin, digest.Plugin, mockservices.DiscoveryFactory(func() string { return down.URL }))
	b := tb.Get("/api/digest/summary").AsUser(alice).Do(t).ExpectError(t, errs.ServiceUnavailable)
	want := "Plugin todo is unavailable: GET /api/todo/todos failed; check that plugin todo runs and is reachable at the URL discovery gives for it"
	if b.Error.Message != want {
		t.Errorf("message = %q, want %q", b.Error.Message, want)
	}
	if strings.Contains(b.Error.Message, down.URL) {
		t.Errorf("message %q shows the internal URL", b.Error.Message)
	}
}

func TestInvalidTimeout(t *testing.T) {
	t.Parallel()
	_, err := testbackend.New(testbackend.WithConfig(map[string]any{"digest": map[string]any{"todoTimeout": "-1s"}})).
		TryStart(t, todo.Plugin, digest.Plugin)
	if err == nil || !strings.Contains(err.Error(), `plugin digest: config key "digest.todoTimeout"`) {
		t.Fatalf("start error = %v, want one naming plugin digest and digest.todoTimeout", err)
	}
}
