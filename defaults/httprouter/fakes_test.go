package httprouter

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/config"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/internal/reqctx"
)

// The tokens the fake auth services know.
const (
	userToken    = "user-token"
	serviceToken = "service-token"
	limitedToken = "limited-token" // a limited user token, as in the auth cookie
	cookieName   = "greenroom-auth"
)

var expiry = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// fakeAuth is a core.Auth that knows the tokens above.
type fakeAuth struct {
	keysErr error
}

func (a *fakeAuth) Authenticate(_ context.Context, token string) (core.Credentials, error) {
	switch token {
	case userToken:
		return core.NewCredentials(core.Principal{Type: core.PrincipalUser, UserEntityRef: "user:default/alice"}, expiry, token), nil
	case serviceToken:
		return core.NewCredentials(core.Principal{Type: core.PrincipalService, Subject: "plugin:other"}, expiry, token), nil
	case limitedToken:
		c := core.NewCredentials(core.Principal{Type: core.PrincipalUser, UserEntityRef: "user:default/alice"}, expiry, token)
		c.Limited = true
		return c, nil
	}
	return core.Credentials{}, errs.NewAuthentication("Illegal token")
}

func (a *fakeAuth) NoneCredentials() core.Credentials { return core.Credentials{} }

func (a *fakeAuth) OwnServiceCredentials() core.Credentials {
	return core.NewCredentials(core.Principal{Type: core.PrincipalService, Subject: "plugin:todo"}, time.Time{}, "")
}

func (a *fakeAuth) PluginRequestToken(context.Context, core.Credentials, string) (string, error) {
	return "", errors.New("not used")
}

func (a *fakeAuth) LimitedUserToken(_ context.Context, user core.Credentials) (string, time.Time, error) {
	if !user.IsUser() {
		return "", time.Time{}, errs.NewNotAllowed("not a user")
	}
	return limitedToken, expiry, nil
}

func (a *fakeAuth) PublicServiceKeys(context.Context) (core.JSONWebKeySet, error) {
	if a.keysErr != nil {
		return core.JSONWebKeySet{}, a.keysErr
	}
	return core.JSONWebKeySet{Keys: []map[string]any{{"kty": "EC", "kid": "k1"}}}, nil
}

var bearer = regexp.MustCompile(`(?i)^Bearer +(\S+)$`)

// fakeHTTPAuth is a core.HTTPAuth with the semantics of the interface: the
// token comes from the Authorization header, or from the auth cookie on
// paths the router marks for limited access; results are memoized in the
// request state; none is 401 and a disallowed principal 403.
type fakeHTTPAuth struct {
	auth  core.Auth
	calls int // number of token verifications
	mu    sync.Mutex
}

func (h *fakeHTTPAuth) Credentials(r *http.Request, allow ...core.PrincipalType) (core.Credentials, error) {
	state := reqctx.From(r.Context())
	limited := state != nil && state.LimitedAccess
	creds, err := state.Credentials(func() (core.Credentials, error) {
		h.mu.Lock()
		h.calls++
		h.mu.Unlock()
		token := ""
		if m := bearer.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
			token = m[1]
		} else if c, err := r.Cookie(cookieName); err == nil && limited {
			token = c.Value
		}
		if token == "" {
			return h.auth.NoneCredentials(), nil
		}
		c, err := h.auth.Authenticate(r.Context(), token)
		if err == nil && c.Limited && !limited {
			return core.Credentials{}, errs.NewAuthentication("Limited user token is not allowed here")
		}
		return c, err
	})
	if err != nil {
		return creds, err
	}
	if len(allow) > 0 && !slices.Contains(allow, creds.Type()) {
		if creds.IsNone() {
			return core.Credentials{}, errs.NewAuthentication("Missing credentials")
		}
		return core.Credentials{}, errs.NewNotAllowed("This endpoint does not allow '%s' credentials", creds.Type())
	}
	return creds, nil
}

func (h *fakeHTTPAuth) IssueUserCookie(w http.ResponseWriter, r *http.Request, creds core.Credentials) (time.Time, error) {
	if creds.IsNone() {
		http.SetCookie(w, &http.Cookie{Name: cookieName, Path: "/", MaxAge: -1})
		return time.Time{}, nil
	}
	tok, exp, err := h.auth.LimitedUserToken(r.Context(), creds)
	if err != nil {
		return time.Time{}, err
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: tok, Path: "/", Expires: exp})
	return exp, nil
}

// fakeLifecycle records hooks so a test can run each phase by hand.
type fakeLifecycle struct {
	mu                                       sync.Mutex
	startup, shutdown, beforeShutdown, drain []core.Hook
	refuseStartup, refuseShutdown            error
	refuseDrain                              error
}

func (l *fakeLifecycle) AddStartupHook(h core.Hook) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.refuseStartup != nil {
		return l.refuseStartup
	}
	l.startup = append(l.startup, h)
	return nil
}

func (l *fakeLifecycle) AddShutdownHook(h core.Hook) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.refuseShutdown != nil {
		return l.refuseShutdown
	}
	l.shutdown = append(l.shutdown, h)
	return nil
}

func (l *fakeLifecycle) AddBeforeShutdownHook(h core.Hook) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.beforeShutdown = append(l.beforeShutdown, h)
	return nil
}

func (l *fakeLifecycle) AddDrainHook(h core.Hook) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.refuseDrain != nil {
		return l.refuseDrain
	}
	l.drain = append(l.drain, h)
	return nil
}

// start runs the startup hooks and returns their errors.
func (l *fakeLifecycle) start(ctx context.Context) error {
	l.mu.Lock()
	hooks := slices.Clone(l.startup)
	l.mu.Unlock()
	var all []error
	for _, h := range hooks {
		all = append(all, h(ctx))
	}
	return errors.Join(all...)
}

// stop runs the drain hooks, then the shutdown hooks, and returns their
// errors.
func (l *fakeLifecycle) stop(ctx context.Context) error {
	l.mu.Lock()
	hooks := append(slices.Clone(l.drain), l.shutdown...)
	l.mu.Unlock()
	var all []error
	for _, h := range hooks {
		all = append(all, h(ctx))
	}
	return errors.Join(all...)
}

// logBuffer collects log records as text, safely across goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newTestLogger returns a logger at debug level that writes to the
// returned buffer.
func newTestLogger() (core.Logger, *logBuffer) {
	var b logBuffer
	return slogLogger{slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug}))}, &b
}

// hasLine reports whether a log line contains every part.
func hasLine(log string, parts ...string) bool {
	for line := range strings.Lines(log) {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(line, p)
		}
		if ok {
			return true
		}
	}
	return false
}

// testRouter is a plugin router for "todo" with fake services.
type testRouter struct {
	*Router
	lc       *fakeLifecycle
	auth     *fakeAuth
	httpAuth *fakeHTTPAuth
	log      *logBuffer
}

// newTestRouter returns a router for plugin "todo", not started.
func newTestRouter(t *testing.T, opts Options) *testRouter {
	t.Helper()
	tr := &testRouter{lc: &fakeLifecycle{}, auth: &fakeAuth{}}
	tr.httpAuth = &fakeHTTPAuth{auth: tr.auth}
	var logger core.Logger
	logger, tr.log = newTestLogger()
	if opts.PluginID == "" {
		opts.PluginID = "todo"
	}
	opts.Auth, opts.HTTPAuth, opts.Lifecycle, opts.Logger = tr.auth, tr.httpAuth, tr.lc, logger
	rt, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	tr.Router = rt
	t.Cleanup(func() { _ = tr.lc.stop(context.Background()) })
	return tr
}

// startedRouter returns a started router with routes registered by setup.
func startedRouter(t *testing.T, opts Options, setup func(*Router)) *testRouter {
	t.Helper()
	tr := newTestRouter(t, opts)
	if setup != nil {
		setup(tr.Router)
	}
	if err := tr.lc.start(t.Context()); err != nil {
		t.Fatalf("startup: %v", err)
	}
	return tr
}

// configCase is a case of a table test of a function that reads settings
// from a YAML config document: the settings it wants, or an error
// containing wantErr.
type configCase[T any] struct {
	name, yaml string
	want       T
	wantErr    string
}

// runConfigCases runs each case against read in a parallel subtest.
func runConfigCases[T any](t *testing.T, read func(core.Config) (T, error), tests []configCase[T]) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := config.FromYAML(tt.yaml)
			if err != nil {
				t.Fatal(err)
			}
			got, err := read(cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("settings (-want +got):\n%s", diff)
			}
		})
	}
}
