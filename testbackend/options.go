package testbackend

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/auth"
	"github.com/greenroom-dev/greenroom/defaults/config"
	"github.com/greenroom-dev/greenroom/defaults/httprouter"
	"github.com/greenroom-dev/greenroom/defaults/logger"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/testbackend/internal/extension"
	"github.com/greenroom-dev/greenroom/testdatabases"
)

// Option configures a test backend: give options to [New], whose
// [Setup] starts backends with them. An Option is not a backend.Feature:
// passing one where features go does not compile.
type Option struct {
	apply func(*settings) error
}

// WithConfig sets configuration values of the backend (the core.rootConfig
// service). Keys are dot-separated paths such as
// "backend.auth.dangerouslyDisableDefaultAuthPolicy"; values are strings,
// numbers, booleans, lists ([]any) and objects (map[string]any), as decoded
// from YAML. Maps given to several WithConfig options are merged, the later
// value winning for a key set by both.
func WithConfig(values map[string]any) Option {
	return Option{apply: func(s *settings) error {
		for _, k := range slices.Sorted(maps.Keys(values)) {
			if err := setPath(s.config, k, values[k]); err != nil {
				return fmt.Errorf("WithConfig: %w", err)
			}
		}
		return nil
	}}
}

// WithDefaultUser makes requests of [Backend.Client] that carry no
// Authorization header authenticate as the user userEntityRef (such as
// "user:default/mock"). Without it, such requests have no credentials, and
// routes without an auth policy answer them 401, as in production.
func WithDefaultUser(userEntityRef string) Option {
	return Option{apply: func(s *settings) error {
		if _, err := core.ParseUserEntityRef(userEntityRef); err != nil {
			return fmt.Errorf("WithDefaultUser: %w", err)
		}
		s.defaultUser = userEntityRef
		return nil
	}}
}

// WithExtensionPoint provides impl as the implementation of the extension
// point p, standing in for the plugin that owns it, so that the test can
// inspect what the modules registered. The owning plugin is the plugin of
// the modules among the features that depend on p; at least one must.
// Every backend started with the option gets impl itself: give each
// backend its own [Setup] (or its own impl) when several run.
func WithExtensionPoint[T any](p core.ExtensionPoint[T], impl T) Option {
	return Option{apply: func(s *settings) error {
		s.extensionPoints = append(s.extensionPoints, extensionPoint{ref: p, provide: backend.ProvideExtensionPoint(p, func() T { return impl })})
		return nil
	}}
}

// WithDatabase makes every plugin of the backend use the test database db
// of package testdatabases: all plugins share it, as with
// mockservices.FromTestDatabase, instead of each having a SQLite database
// of its own. Each backend started with the option opens its own
// connection pool on db (with [testdatabases.DB.DriverDSN]) and closes it
// when it stops, after its plugins, so that the instances of
// [Setup.StartInstances] run on one database through separate pools, with
// real concurrency, as production instances behind a load balancer do.
//
// Several pools need a real database: on PostgreSQL and MySQL/MariaDB, db
// must be in [testdatabases.Clone] isolation
// (testdatabases.New(t).With(testdatabases.Clone)), since a Rollback
// database shared with other pools commits what the test wrote and is
// replaced after the test. On SQLite both isolation tiers are one real
// file and either works. Starting fails, naming the fix, otherwise.
func WithDatabase(db *testdatabases.DB) Option {
	return Option{apply: func(s *settings) error {
		if db == nil {
			return errs.NewInput("WithDatabase: the test database is nil; pass one of testdatabases.New(t).With(testdatabases.Clone).Init or Each")
		}
		if db.Isolation == testdatabases.Rollback && db.Dialect != testdatabases.DialectSQLite {
			return errs.NewInput("WithDatabase: the %s test database is in Rollback isolation, which runs the test in one server session and cannot be shared with the backend's own connection pools; take it with .With(testdatabases.Clone), as in testdatabases.New(t).With(testdatabases.Clone).Each(t, ...) or .Init(t, id, testdatabases.Clone)", db.ID)
		}
		s.testDB = db
		return nil
	}}
}

// WithRealAuth makes the backend use the production auth services
// (core.auth and core.httpAuth of package defaults/auth) instead of the
// fakes. The test backend generates a key to sign user tokens and
// configures backend.auth.userTokens to trust it, so the request helpers
// send real signed tokens that the real verification accepts: a test can
// exercise the production auth path end to end. The instances of
// [Setup.StartInstances] all trust the one key, so a user token minted by
// one instance's helpers is accepted by every instance, and each mints
// plugin tokens with its own Auth service.
func WithRealAuth() Option {
	return Option{apply: func(s *settings) error {
		s.realAuth = true
		return nil
	}}
}

// settings are the options and features of one Start.
type settings struct {
	config      map[string]any
	defaultUser string
	realAuth    bool
	// keys are the user token key and static tokens of WithRealAuth,
	// made once per settings: every backend of the settings trusts them.
	keys            *realAuthKeys
	testDB          *testdatabases.DB // of WithDatabase, or nil
	extensionPoints []extensionPoint
	features        []backend.Feature
	// extensions are the additions of the opt-in packages (such as
	// openapitest.WithOpenAPI), in the order of the options.
	extensions []extension.Extension
	// standIns are the outbound mocks of OutboundMock.StandIn, by plugin id.
	standIns map[string]*OutboundMock
}

type extensionPoint struct {
	ref     core.Ref
	provide backend.Option
}

// newSettings applies the options, for a backend of the features.
func newSettings(opts []Option, features []backend.Feature) (*settings, error) {
	s := &settings{config: map[string]any{}, features: features}
	for _, o := range opts {
		if o.apply == nil {
			return nil, fmt.Errorf("a zero testbackend.Option was given; build options with the With functions of package testbackend")
		}
		if err := o.apply(s); err != nil {
			return nil, err
		}
	}
	if s.realAuth {
		var err error
		if s.keys, err = s.configureRealAuth(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// setPath sets the dot-separated key in the nested map m, merging maps.
func setPath(m map[string]any, key string, v any) error {
	parts := strings.Split(key, ".")
	for i, p := range parts[:len(parts)-1] {
		if p == "" {
			return fmt.Errorf("config key %q has an empty segment", key)
		}
		next, ok := m[p].(map[string]any)
		if !ok {
			if _, set := m[p]; set {
				return fmt.Errorf("config key %q: %q is already set to a value that is not an object", key, strings.Join(parts[:i+1], "."))
			}
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	last := parts[len(parts)-1]
	if last == "" {
		return fmt.Errorf("config key %q has an empty segment", key)
	}
	if sub, ok := v.(map[string]any); ok {
		if _, exists := m[last].(map[string]any); !exists {
			m[last] = map[string]any{}
		}
		for _, k := range slices.Sorted(maps.Keys(sub)) {
			if err := setPath(m[last].(map[string]any), k, sub[k]); err != nil {
				return fmt.Errorf("config key %q: %w", key, err)
			}
		}
		return nil
	}
	m[last] = v
	return nil
}

// build creates the backend of the settings: the mock defaults, the
// features, host plugins for orphan modules and the extension point
// providers. For a test backend (tb not nil) it also sets tb.auth.
func (s *settings) build(t testing.TB, tb *Backend) (*backend.Backend, error) {
	defaults, err := s.defaults(t, tb)
	if err != nil {
		return nil, err
	}
	b := backend.New(backend.WithDefaults(defaults...))
	features := slices.Clone(s.features)
	plugins := map[string]bool{}
	var modules []*backend.Module
	for _, f := range features {
		switch f := f.(type) {
		case *backend.Plugin:
			if f != nil {
				plugins[f.ID()] = true
			}
		case *backend.Module:
			if f != nil {
				modules = append(modules, f)
			}
		}
	}
	eps, err := s.extensionPointModules(modules)
	if err != nil {
		return nil, err
	}
	features = append(features, eps...)
	for _, m := range modules {
		if !plugins[m.PluginID()] {
			plugins[m.PluginID()] = true
			features = append(features, backend.NewPlugin(m.PluginID(), backend.Init(func(context.Context, struct{}) error { return nil })))
		}
	}
	if err := b.Add(features...); err != nil {
		return nil, err
	}
	return b, nil
}

// defaults returns the default factories: those of
// mockservices.DefaultFactories, with the config of the options and, for
// a test backend, discovery pointing at its server (started when a URL is
// first asked for) in place of theirs, with WithDatabase, a database
// service over a pool of its own on the test database, and, with
// WithRealAuth, the production auth services.
func (s *settings) defaults(t testing.TB, tb *Backend) ([]*backend.ServiceFactory, error) {
	var database *backend.ServiceFactory
	if s.testDB == nil {
		database = mockservices.DatabaseFactory(t)
	} else {
		pool, err := s.openPool(t)
		if err != nil {
			return nil, err
		}
		if tb != nil {
			tb.pool = pool
		}
		database = mockservices.DatabaseFactory(t, mockservices.WithSQLDB(pool, core.Dialect(s.testDB.Dialect)))
	}
	// mockservices.ConfigFactory panics on data that cannot be config;
	// config.FromMap, which it wraps, returns the error.
	cfg, err := config.FromMap(s.config)
	if err != nil {
		return nil, fmt.Errorf("WithConfig: %w", err)
	}
	discovery := sharedDiscovery
	if tb != nil {
		discovery = mockservices.DiscoveryFactory(tb.URL)
		if len(s.standIns) > 0 {
			discovery = standInDiscoveryFactory(tb.URL, s.standIns)
		}
	}
	// The order of mockservices.DefaultFactories (TestDefaults checks it).
	fs := make([]*backend.ServiceFactory, 0, 15)
	fs = append(fs,
		mockservices.Factory[core.RootConfig](core.RootConfigRef, cfg),
		mockservices.RootLoggerFactory(mockservices.Logger(t)))
	fs = append(fs, sharedFakes...)
	fs = append(fs, database, discovery)
	if s.realAuth {
		fs = append(fs, auth.AuthFactory(), auth.HTTPAuthFactory(), auth.UserInfoFactory())
	}
	return fs, nil
}

// openPool opens a connection pool of its own on the test database of
// WithDatabase. The backend closes it when it stops; the test's cleanup
// closes it if the backend never started.
func (s *settings) openPool(t testing.TB) (*sql.DB, error) {
	driver, dsn := s.testDB.DriverDSN()
	if driver == "" {
		return nil, fmt.Errorf("WithDatabase: the %s test database could not be taken (the test's log says why)", s.testDB.ID)
	}
	pool, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("WithDatabase: opening a pool on the %s test database: %w", s.testDB.ID, err)
	}
	t.Cleanup(func() { pool.Close() })
	return pool, nil
}

// sharedFakes are the factories of mockservices.DefaultFactories that do
// not depend on the test, made once and shared by every test backend of
// the process (a factory holds no state: a backend keeps the instances
// it creates), between the root logger and the database. Making them for
// every Start was a tenth of its cost. The rest are made per test: the
// config, the root logger and the databases belong to the test, and
// discovery to its test backend.
//
// The plugin routers share their ServeMux values through routerMuxes,
// the test binary's cache: tests start the same plugins with the same
// routes many times (see docs/benchmarks.md, "Issue 9"). Production
// routers have their own.
var sharedFakes = []*backend.ServiceFactory{
	logger.Factory(),
	mockservices.RootHealthFactory(),
	mockservices.RootHTTPRouterFactory(),
	httprouter.Factory(httprouter.WithMuxCache(routerMuxes)),
	mockservices.AuthFactory(),
	mockservices.HTTPAuthFactory(),
	mockservices.UserInfoFactory(),
	// The scheduler's state (its fake clock and tasks) is per backend: the
	// factory makes a fake for each backend in its root context, when a
	// plugin first depends on the scheduler, so backends that do not use
	// it pay nothing and no two backends share tasks.
	mockservices.SchedulerFactory(nil),
	// The cache fake is per backend too, made the same way.
	mockservices.CacheFactory(nil),
	// So is the events bus: the plugins of one backend talk to each other
	// through it, never to another backend's.
	mockservices.EventsFactory(nil),
	// The permissions and auditor fakes are per backend too, for the same
	// reasons: each backend records its own questions and events.
	mockservices.PermissionsFactory(nil),
	mockservices.AuditorFactory(nil),
	// Likewise an empty URL reader fake per backend.
	mockservices.URLReaderFactory(nil),
}

var routerMuxes = httprouter.NewMuxCache()

// sharedDiscovery is the discovery of a factory tester, which has no
// server.
var sharedDiscovery = mockservices.DiscoveryFactory(nil)

// extensionPointModule is the id of the modules that provide the
// extension points of WithExtensionPoint.
const extensionPointModule = "test-extension-point-registration"

// extensionPointModules returns, for each plugin owning extension points of
// WithExtensionPoint, a module that provides them. The owner of an
// extension point is the plugin of the modules that depend on it.
func (s *settings) extensionPointModules(modules []*backend.Module) ([]backend.Feature, error) {
	if len(s.extensionPoints) == 0 {
		return nil, nil
	}
	byPlugin := map[string][]backend.Option{}
	var unowned []string
	for _, ep := range s.extensionPoints {
		var owners []string
		for _, m := range modules {
			if slices.ContainsFunc(m.Dependencies(), func(r core.Ref) bool { return r.ID() == ep.ref.ID() }) && !slices.Contains(owners, m.PluginID()) {
				owners = append(owners, m.PluginID())
			}
		}
		if len(owners) == 0 {
			unowned = append(unowned, ep.ref.ID())
			continue
		}
		for _, p := range owners {
			byPlugin[p] = append(byPlugin[p], ep.provide)
		}
	}
	if len(unowned) > 0 {
		return nil, fmt.Errorf("Unable to determine the plugin ID of extension point(s) '%s'. Tested extension points must be depended on by one or more tested modules.", strings.Join(unowned, "', '"))
	}
	var fs []backend.Feature
	for _, p := range slices.Sorted(maps.Keys(byPlugin)) {
		opts := append(byPlugin[p], backend.Init(func(context.Context, struct{}) error { return nil }))
		fs = append(fs, backend.NewModule(p, extensionPointModule, opts...))
	}
	return fs, nil
}
