package mockservices

import (
	"context"
	"testing"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/config"
	"github.com/greenroom-dev/greenroom/defaults/httprouter"
	"github.com/greenroom-dev/greenroom/defaults/logger"
	"github.com/greenroom-dev/greenroom/mockservices/internal/sqlitefake"
)

// DefaultFactories returns a factory for every core service that a backend
// lets you replace, for a test backend to install with backend.WithDefaults:
// the fakes of this package, an empty config, the production plugin logger
// (the root logger with plugin=<pluginId>) and the production HTTP routers,
// so that requests pass through the real mount, auth barrier and error
// handling. The logger and the databases belong to t. Each backend gets
// its own fake of each stateful service ([Scheduler], [Cache], [Events],
// [Permissions], [Auditor], [URLReader]), made when a plugin first depends
// on it: a test that drives or inspects one passes its own with the
// service's ...Factory, such as [SchedulerFactory].
// its own [Scheduler] fake, made when a plugin first depends on it: a test
// that drives the tasks passes its own with [SchedulerFactory]; so with an
// empty [URLReader] fake ([URLReaderFactory]).
//
// The lifecycle, plugin metadata and instance metadata services are built
// into the backend and are not among them.
func DefaultFactories(t testing.TB) []*backend.ServiceFactory {
	t.Helper()
	return []*backend.ServiceFactory{
		ConfigFactory(nil),
		RootLoggerFactory(Logger(t)),
		logger.Factory(),
		RootHealthFactory(),
		RootHTTPRouterFactory(),
		HTTPRouterFactory(),
		AuthFactory(),
		HTTPAuthFactory(),
		UserInfoFactory(),
		SchedulerFactory(nil),
		CacheFactory(nil),
		EventsFactory(nil),
		PermissionsFactory(nil),
		AuditorFactory(nil),
		URLReaderFactory(nil),
		DatabaseFactory(t),
		DiscoveryFactory(nil),
	}
}

// Factory returns a factory that provides impl for ref, to every plugin
// for a plugin service: the way to hand one fake instance, such as the
// database of [SQLMock], to a test backend.
func Factory[T any](ref core.ServiceRef[T], impl T) *backend.ServiceFactory {
	fn := func(context.Context, struct{}) (T, error) { return impl, nil }
	if ref.Scope() == core.RootScope {
		return backend.NewRootServiceFactory(ref, fn)
	}
	return backend.NewPluginServiceFactory(ref, fn)
}

// ConfigFactory returns a factory of the root config holding data (see
// [Config]). It panics, as Config does, if data cannot be configuration.
func ConfigFactory(data map[string]any) *backend.ServiceFactory {
	c, err := config.FromMap(data)
	if err != nil {
		panic("mockservices: ConfigFactory: " + err.Error())
	}
	return Factory[core.RootConfig](core.RootConfigRef, c)
}

// RootLoggerFactory returns a factory of the root logger l. Plugin loggers
// (the production core.logger factory) derive from it, so l captures the
// records of every plugin, each with plugin=<pluginId>.
func RootLoggerFactory(l *LoggerService) *backend.ServiceFactory {
	return Factory[core.RootLogger](core.RootLoggerRef, l)
}

// RootHealthFactory returns a factory of a [HealthService] whose readiness
// follows the root lifecycle, as in production.
func RootHealthFactory() *backend.ServiceFactory {
	return backend.NewRootServiceFactory(core.RootHealthRef, func(ctx context.Context, d struct {
		Lifecycle core.RootLifecycle
	}) (core.RootHealth, error) {
		h := RootHealth()
		if err := h.followLifecycle(d.Lifecycle); err != nil {
			return nil, err
		}
		return h, nil
	})
}

// RootHTTPRouterFactory returns a factory of the production root router
// (httprouter.NewRoot) that does not listen: a test serves its Handler
// in-process or with net/http/httptest.
func RootHTTPRouterFactory() *backend.ServiceFactory {
	return backend.NewRootServiceFactory(core.RootHTTPRouterRef, func(ctx context.Context, d struct {
		Logger core.RootLogger
		Health core.RootHealth
	}) (core.RootHTTPRouter, error) {
		return httprouter.NewRoot(httprouter.RootOptions{Logger: d.Logger, Health: d.Health}), nil
	})
}

// HTTPRouterFactory returns the factory of the production plugin router
// (httprouter.Factory()), mounted on the root router at /api/<pluginId> and
// secure by default.
func HTTPRouterFactory() *backend.ServiceFactory { return httprouter.Factory() }

// AuthFactory returns a factory of an [Auth] fake per plugin. It reads
// backend.auth.dangerouslyDisableDefaultAuthPolicy, with which
// PluginRequestToken answers "" for none credentials, as in production.
func AuthFactory() *backend.ServiceFactory {
	return backend.NewPluginServiceFactory(core.AuthRef, func(ctx context.Context, d struct {
		Config core.RootConfig
		Plugin core.PluginMetadata
	}) (core.Auth, error) {
		a := Auth(d.Plugin.ID())
		disable, _, err := d.Config.OptionalBool("backend.auth.dangerouslyDisableDefaultAuthPolicy")
		if err != nil {
			return nil, err
		}
		a.disableDefaultAuthPolicy = disable
		return a, nil
	})
}

// HTTPAuthFactory returns a factory of an [HTTPAuth] fake per plugin, over
// the plugin's core.auth service.
func HTTPAuthFactory(opts ...HTTPAuthOption) *backend.ServiceFactory {
	return backend.NewPluginServiceFactory(core.HTTPAuthRef, func(ctx context.Context, d struct{ Auth core.Auth }) (core.HTTPAuth, error) {
		return HTTPAuth(d.Auth, opts...), nil
	})
}

// UserInfoFactory returns a factory of a [UserInfo] fake per plugin.
func UserInfoFactory() *backend.ServiceFactory {
	return backend.NewPluginServiceFactory(core.UserInfoRef, func(context.Context, struct{}) (core.UserInfo, error) {
		return UserInfo(), nil
	})
}

// DiscoveryFactory returns a factory of a [Discovery] fake per plugin. It
// calls baseURL on every lookup, so that a test server started on demand
// can be named; a nil baseURL, or one returning "", means
// "http://localhost:0", as for [Discovery].
func DiscoveryFactory(baseURL func() string) *backend.ServiceFactory {
	return backend.NewPluginServiceFactory(core.DiscoveryRef, func(context.Context, struct{}) (core.Discovery, error) {
		d := Discovery("")
		if baseURL != nil {
			d.baseURL = baseURL
		}
		return d, nil
	})
}

// DatabaseFactory returns a factory of a database per plugin: by default a
// new SQLite database for each plugin (see [Database]), isolated from the
// others and released when the backend stops, after every plugin's shutdown
// hooks; with [WithSQLDB] or [FromTestDatabase], the given database for
// every plugin.
func DatabaseFactory(t testing.TB, opts ...DatabaseOption) *backend.ServiceFactory {
	o := dbOptions{dialect: core.DialectSQLite}
	for _, opt := range opts {
		opt(&o)
	}
	return backend.NewPluginServiceFactory(core.DatabaseRef,
		func(ctx context.Context, d struct{ Root core.RootLifecycle }) (core.Database, error) {
			if o.db != nil {
				return &database{db: o.db, dialect: o.dialect, skipMigrations: o.skipMigrations}, nil
			}
			lite := sqlitefake.New(t.TempDir)
			err := d.Root.AddShutdownHook(func(context.Context) error { return lite.Release() })
			return &database{lite: lite, dialect: core.DialectSQLite, skipMigrations: o.skipMigrations}, err
		})
}
