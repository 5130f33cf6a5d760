package testbackend

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/testbackend/internal/extension"
	"github.com/greenroom-dev/greenroom/testdatabases"
)

// Backend is a started test backend. Its methods are safe for concurrent
// use; each method that can fail takes the testing.TB of the calling test
// or subtest and fails it.
type Backend struct {
	b         *backend.Backend
	pluginIDs []string

	handlerMu sync.Mutex
	handler   http.Handler // of the root router, set by rootHandler
	client    *http.Client
	auth      tokenMinter
	// defaultUser is the user entity ref of WithDefaultUser, or "".
	defaultUser string

	// pool is the backend's own pool on the database of WithDatabase, or
	// nil; it closes after the root services.
	pool *sql.DB

	// extensions are the settings' extensions attached to this backend.
	extensions []extension.Instance

	srvMu   sync.Mutex
	srv     *httptest.Server // started by URL
	stopped bool             // Stop or the test's end: no more requests
}

// Setup is the configuration of test backends: the options given to
// [New]. One Setup may start any number of backends, concurrently too.
type Setup struct {
	opts []Option
}

// New returns the setup of test backends with the options, such as
// [WithConfig], [WithDefaultUser] or [WithRealAuth]:
//
//	tb := testbackend.New(testbackend.WithDefaultUser("user:default/mock")).Start(t, todo.Plugin)
//
// Without options, call the functions [Start], [TryStart] and
// [NewFactoryTester] of the package.
func New(opts ...Option) *Setup {
	return &Setup{opts: slices.Clone(opts)}
}

// Start starts a backend with the given plugins, modules and service
// factories, and stops it when the test and its subtests finish. It is
// New().Start: see [Setup.Start].
func Start(t testing.TB, features ...backend.Feature) *Backend {
	tb, err := (&Setup{}).tryStart(t, features)
	if err != nil {
		// t.Helper is called before a failure only: it walks the stack,
		// and tests start many backends.
		t.Helper()
		t.Fatalf("testbackend.Start: %v", err)
	}
	return tb
}

// TryStart is [Start] for a test that expects the start to fail: see
// [Setup.TryStart].
func TryStart(t testing.TB, features ...backend.Feature) (*Backend, error) {
	return (&Setup{}).tryStart(t, features)
}

// Start starts a backend with the given plugins, modules and service
// factories, and the setup's options, and stops it when the test and its
// subtests finish.
//
// Every core service a feature does not provide is the mockservices fake;
// a service factory among features replaces it (one per service). A module
// passed without its plugin gets an empty host plugin, so a module can be
// tested on its own. If the wiring is invalid or a plugin's init fails, Start
// fails the test with the backend's error, which names the plugin; use
// [Setup.TryStart] to assert on that error instead.
//
// The backend serves requests in-process: see [Backend.Client]. Routes are
// secure by default, as in production: a request without credentials is
// answered 401 unless an auth policy opens its path or the test backend
// has a default user ([WithDefaultUser]).
func (s *Setup) Start(t testing.TB, features ...backend.Feature) *Backend {
	tb, err := s.tryStart(t, features)
	if err != nil {
		t.Helper() // only on failure, as in the package function Start
		t.Fatalf("testbackend.Start: %v", err)
	}
	return tb
}

// TryStart is [Setup.Start] returning the error of a start that fails
// instead of failing the test, so that a test can assert that a plugin
// refuses to start (invalid config, a failed init): the error names the
// plugin or module and wraps its cause, for errors.Is and errors.As; an
// invalid wiring is a *backend.WiringError. When the start fails, what
// had started is stopped before TryStart returns (an error of that stop
// is joined to the start's), and the backend is nil. When it succeeds,
// the backend stops when the test finishes, as with Start.
func (s *Setup) TryStart(t testing.TB, features ...backend.Feature) (*Backend, error) {
	return s.tryStart(t, features)
}

func (s *Setup) tryStart(t testing.TB, features []backend.Feature) (*Backend, error) {
	st, err := newSettings(s.opts, features)
	if err != nil {
		return nil, err
	}
	tb, err := st.start(t)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { tb.stop(t) })
	return tb, nil
}

// start builds and starts a backend of the settings; the caller stops it.
// When the start fails, what had started is stopped.
func (st *settings) start(t testing.TB) (*Backend, error) {
	tb, err := st.newBackend(t)
	if err != nil {
		return nil, err
	}
	if err := tb.run(t); err != nil {
		return nil, err
	}
	return tb, nil
}

// newBackend builds a backend of the settings, not started. It calls the
// methods of t (Cleanup, for the services' loggers and pools), so that
// StartInstances calls it from the test's goroutine only.
func (st *settings) newBackend(t testing.TB) (*Backend, error) {
	tb := &Backend{defaultUser: st.defaultUser, auth: mockAuth{}}
	var err error
	if tb.b, err = st.build(t, tb); err != nil {
		return nil, err
	}
	if st.keys != nil {
		tb.auth = &realAuth{b: tb.b, realAuthKeys: st.keys}
	}
	tb.pluginIDs = tb.b.PluginIDs()
	// Attached before the stop is registered: their cleanups run after
	// the backend stopped.
	for _, e := range st.extensions {
		tb.extensions = append(tb.extensions, e.Attach(t))
	}
	if err := st.checkStandIns(tb.pluginIDs); err != nil {
		return nil, err
	}
	tb.client = &http.Client{Transport: &transport{tb: tb}}
	return tb, nil
}

// run starts the backend built by newBackend. When the start fails, what
// had started is stopped before run returns the error.
func (tb *Backend) run(t testing.TB) error {
	err := tb.b.Start(t.Context())
	if err == nil {
		_, err = tb.rootHandler()
	}
	for i := 0; err == nil && i < len(tb.extensions); i++ {
		err = tb.extensions[i].Started(tb.b)
	}
	if err != nil {
		// t.Context is not done yet; the stop hooks get their own, as in
		// the cleanup of a started backend.
		if stopErr := tb.shutdown(); stopErr != nil {
			err = errors.Join(err, fmt.Errorf("stopping what had started: %w", stopErr))
		}
		return err
	}
	return nil
}

// StartInstances starts n instances of one backend: the features with the
// package's defaults, as [Setup.StartInstances] does with a setup's
// options.
func StartInstances(t testing.TB, n int, features ...backend.Feature) []*Backend {
	tbs, err := (&Setup{}).tryStartInstances(t, n, features)
	if err != nil {
		t.Helper() // only on failure, as in Start
		t.Fatalf("testbackend.StartInstances: %v", err)
	}
	return tbs
}

// TryStartInstances is [StartInstances] returning the error of a start
// that fails: see [Setup.TryStartInstances].
func TryStartInstances(t testing.TB, n int, features ...backend.Feature) ([]*Backend, error) {
	return (&Setup{}).tryStartInstances(t, n, features)
}

// StartInstances starts n instances of one backend, as production runs
// several behind a load balancer, and stops them when the test and its
// subtests finish. Each instance is a backend of its own, as [Setup.Start]
// starts one: the same features, options and config, but its own
// services, its own client and server ([Backend.Client], [Backend.URL]),
// and discovery pointing at its own server.
//
// The instances share one database: every plugin of every instance uses
// the database of [WithDatabase], through a connection pool of the
// instance's own, so their queries and transactions run concurrently on
// one database as production instances' do. Without WithDatabase, the
// instances share a new SQLite database of the test
// (testdatabases.SQLite3), empty: the plugins migrate it in their init, as
// in production, and the migrations run once (package migrate serializes
// them). With [WithRealAuth], every instance trusts the same user token
// key, so a token minted for one is accepted by all, and each instance's
// request helpers mint plugin tokens with its own auth services.
//
// The instances start concurrently, as replicas of a deployment do: a
// plugin whose init is unsafe when another instance runs it at the same
// time (a migration without a lock, a "create if missing" race) fails
// here rather than in production. If one fails to start, the others are
// stopped and the test fails with every error. [Backend.Stop] stops one
// instance before the test ends. n must be at least 1.
func (s *Setup) StartInstances(t testing.TB, n int, features ...backend.Feature) []*Backend {
	tbs, err := s.tryStartInstances(t, n, features)
	if err != nil {
		t.Helper() // only on failure, as in Start
		t.Fatalf("testbackend.StartInstances: %v", err)
	}
	return tbs
}

// TryStartInstances is [Setup.StartInstances] returning the error of a
// start that fails instead of failing the test: the errors of the
// instances that failed, each naming the instance, joined. When it fails,
// every instance that had started is stopped and the result is nil.
func (s *Setup) TryStartInstances(t testing.TB, n int, features ...backend.Feature) ([]*Backend, error) {
	return s.tryStartInstances(t, n, features)
}

func (s *Setup) tryStartInstances(t testing.TB, n int, features []backend.Feature) ([]*Backend, error) {
	if n < 1 {
		return nil, errs.NewInput("%d instances requested; StartInstances starts at least 1 (use Start for one backend)", n)
	}
	st, err := newSettings(s.opts, features)
	if err != nil {
		return nil, err
	}
	if st.testDB == nil {
		st.testDB = testdatabases.New(t, testdatabases.SQLite3).Init(t, testdatabases.SQLite3, testdatabases.Clone)
	}
	// Built in order on the test's goroutine (building registers
	// cleanups with t), started together.
	tbs := make([]*Backend, n)
	for i := range tbs {
		if tbs[i], err = st.newBackend(t); err != nil {
			return nil, fmt.Errorf("instance %d: %w", i, err)
		}
	}
	startErrs := make([]error, n)
	var wg sync.WaitGroup
	for i, tb := range tbs {
		wg.Go(func() {
			if err := tb.run(t); err != nil {
				startErrs[i] = fmt.Errorf("instance %d: %w", i, err)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(startErrs...); err != nil {
		for i, tb := range tbs {
			if startErrs[i] != nil {
				continue // run stopped it
			}
			if stopErr := tb.shutdown(); stopErr != nil {
				err = errors.Join(err, fmt.Errorf("stopping instance %d, which had started: %w", i, stopErr))
			}
		}
		return nil, err
	}
	// Registered in order: the cleanups stop the last instance first.
	for _, tb := range tbs {
		t.Cleanup(func() { tb.stop(t) })
	}
	return tbs, nil
}

// Stop stops the backend before the test ends, as a production instance
// stops: readiness goes down, its server stops accepting connections and
// finishes the requests in flight, then the plugins' shutdown hooks run,
// and the root services (its database pool last) close. Afterwards its
// client's requests fail with an error saying the backend was stopped,
// and its server refuses connections; other instances of
// [Setup.StartInstances] keep serving. Stop fails the test if a shutdown
// hook fails. Calling it again, or the stop at the end of the test, does
// nothing more.
func (tb *Backend) Stop(t testing.TB) {
	if err := tb.shutdown(); err != nil {
		t.Helper() // only on failure, as in Start
		t.Errorf("testbackend: Backend.Stop: %v", err)
	}
}

// stop stops the backend at the end of the test, failing it if a stop
// hook fails.
func (tb *Backend) stop(t testing.TB) {
	if err := tb.shutdown(); err != nil {
		t.Helper() // only on failure, as in Start
		t.Errorf("testbackend: stopping the backend: %v", err)
	}
}

// shutdown stops the backend (whose drain phase shuts the server started
// by URL down gracefully), then closes that server if one was started, and
// the pool of WithDatabase. A second call waits for the first and returns
// nil, as backend.Backend.Stop does.
func (tb *Backend) shutdown() error {
	// t.Context is already cancelled in cleanup; stop hooks get their own.
	err := tb.b.Stop(context.Background())
	tb.srvMu.Lock()
	srv := tb.srv
	tb.stopped = true
	tb.srvMu.Unlock()
	if srv != nil {
		srv.Close()
	}
	if tb.pool != nil {
		if cerr := tb.pool.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("closing the database pool: %w", cerr))
		}
	}
	return err
}

// Client returns an HTTP client that serves requests in-process: its
// transport calls the backend's root handler directly, through the whole
// production chain (root router, plugin mount, auth barrier, error
// handling), without a listener. A request names a path such as
// "/api/todo/todos", or a URL returned by [Backend.URL].
//
// If the test backend has a default user ([WithDefaultUser]), requests
// without an Authorization header are sent as that user.
//
// Handlers that hijack the connection or stream a response (websockets,
// server-sent events) need a real connection: send those to [Backend.URL]
// with another client.
func (tb *Backend) Client() *http.Client { return tb.client }

// URL returns the base URL of a real HTTP server serving the backend,
// starting it on first use, such as "http://127.0.0.1:41234". Discovery
// returns URLs under it, so plugins of one test backend can call each other
// over HTTP. When the test ends, the server stops accepting connections
// and finishes the requests in flight before any plugin shuts down, as a
// production backend's listener does. URL panics if called after the test
// ended or [Backend.Stop], when the server would never be closed, unless
// the server had started: then it returns its URL, which refuses
// connections.
func (tb *Backend) URL() string {
	tb.srvMu.Lock()
	defer tb.srvMu.Unlock()
	if tb.srv == nil {
		if tb.stopped {
			panic("testbackend: Backend.URL called after the test backend stopped")
		}
		srv := httptest.NewServer(http.HandlerFunc(tb.serveHTTP))
		tb.srv = srv
		// Drain the server in the backend's drain phase, as the production
		// listener is: a request in flight when the test ends completes
		// before the plugins' and the root services' shutdown hooks run.
		// Once Stop has passed that phase, stop closes the server.
		if lc, err := backend.Resolve(context.Background(), tb.b, core.RootLifecycleRef, ""); err == nil {
			_ = lc.AddDrainHook(func(ctx context.Context) error { return srv.Config.Shutdown(ctx) })
		}
	}
	return tb.srv.URL
}

// rootHandler returns the handler of the backend's root router. It may be
// called while the backend starts: a plugin may call another one from its
// init, once the root services exist.
func (tb *Backend) rootHandler() (http.Handler, error) {
	tb.handlerMu.Lock()
	defer tb.handlerMu.Unlock()
	if tb.handler == nil {
		root, err := backend.Resolve(context.Background(), tb.b, core.RootHTTPRouterRef, "")
		if err != nil {
			return nil, err
		}
		tb.handler = root.Handler()
		for _, e := range tb.extensions {
			tb.handler = e.Wrap(tb.handler)
		}
	}
	return tb.handler, nil
}

// serveHTTP serves a request with the root router's handler.
func (tb *Backend) serveHTTP(w http.ResponseWriter, r *http.Request) {
	h, err := tb.rootHandler()
	if err != nil {
		http.Error(w, "testbackend: the root router is not available: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	h.ServeHTTP(w, r)
}

// isStopped reports whether the backend was stopped.
func (tb *Backend) isStopped() bool {
	tb.srvMu.Lock()
	defer tb.srvMu.Unlock()
	return tb.stopped
}

// servesHost reports whether host (of a request URL) names this backend:
// in-process, or its listener if started.
func (tb *Backend) servesHost(host string) bool {
	if host == "" || host == inProcessHost {
		return true
	}
	tb.srvMu.Lock()
	defer tb.srvMu.Unlock()
	return tb.srv != nil && strings.TrimPrefix(tb.srv.URL, "http://") == host
}

// PluginIDs returns the ids of the backend's plugins, sorted, including the
// host plugins of modules passed without their plugin.
func (tb *Backend) PluginIDs() []string { return slices.Clone(tb.pluginIDs) }

// Service returns the instance of the service ref for the plugin pluginID
// (ignored for root services) in the backend or factory tester s, creating
// it if nothing has yet. It fails the test if the service cannot be
// created.
func Service[T any](t testing.TB, s Services, ref core.ServiceRef[T], pluginID string) T {
	t.Helper()
	v, err := backend.Resolve(t.Context(), s.backend(), ref, pluginID)
	if err != nil {
		t.Fatalf("testbackend.Service(%s, %q): %v", ref, pluginID, err)
	}
	return v
}

// Services is a [*Backend] or a [*FactoryTester], whose services
// [Service] returns.
type Services interface {
	backend() *backend.Backend
}

func (tb *Backend) backend() *backend.Backend { return tb.b }

// addDefaultCredentials adds the Authorization header of the default user
// to r, unless it has credentials or the client asked for none.
func (tb *Backend) addDefaultCredentials(clientCtx context.Context, r *http.Request) error {
	if tb.defaultUser == "" || r.Header.Get("Authorization") != "" || clientCtx.Value(noDefaultCredentialsKey{}) != nil {
		return nil
	}
	tok, err := tb.auth.userToken(clientCtx, tb.defaultUser)
	if err != nil {
		return fmt.Errorf("testbackend: default user %s: %w", tb.defaultUser, err)
	}
	r.Header.Set("Authorization", "Bearer "+tok)
	return nil
}
