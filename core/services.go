package core

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net/http"
	"time"
)

// The references of the core services. Every backend built by Greenroom
// provides all of them; a plugin receives one by declaring a field of the
// ref's type in its dependency struct.
var (
	RootConfigRef     = NewServiceRef[RootConfig]("core.rootConfig", WithScope(RootScope))
	RootLoggerRef     = NewServiceRef[RootLogger]("core.rootLogger", WithScope(RootScope))
	LoggerRef         = NewServiceRef[Logger]("core.logger")
	RootLifecycleRef  = NewServiceRef[RootLifecycle]("core.rootLifecycle", WithScope(RootScope))
	LifecycleRef      = NewServiceRef[Lifecycle]("core.lifecycle")
	RootHealthRef     = NewServiceRef[RootHealth]("core.rootHealth", WithScope(RootScope))
	RootHTTPRouterRef = NewServiceRef[RootHTTPRouter]("core.rootHttpRouter", WithScope(RootScope))
	HTTPRouterRef     = NewServiceRef[HTTPRouter]("core.httpRouter")
	AuthRef           = NewServiceRef[Auth]("core.auth")
	HTTPAuthRef       = NewServiceRef[HTTPAuth]("core.httpAuth")
	UserInfoRef       = NewServiceRef[UserInfo]("core.userInfo")
	DatabaseRef       = NewServiceRef[Database]("core.database")
	DiscoveryRef      = NewServiceRef[Discovery]("core.discovery")
	PluginMetadataRef = NewServiceRef[PluginMetadata]("core.pluginMetadata")
)

// ErrConfigKeyMissing is wrapped by errors of [Config] getters for a key
// that is not set.
var ErrConfigKeyMissing = errors.New("config key is missing")

// Config is a read-only view of configuration. Keys are dot-separated paths
// such as "backend.listen.port". Errors name the full key and say what was
// expected.
type Config interface {
	// Has reports whether key is set (to anything, including null).
	Has(key string) bool
	// Keys returns the keys directly under this config, sorted.
	Keys() []string
	// String returns the string at key. Numbers and booleans are not
	// converted: a string was asked for, so a string must be there.
	String(key string) (string, error)
	// OptionalString is String, reporting ok=false instead of an error
	// when key is missing.
	OptionalString(key string) (value string, ok bool, err error)
	Int(key string) (int, error)
	OptionalInt(key string) (value int, ok bool, err error)
	Bool(key string) (bool, error)
	OptionalBool(key string) (value bool, ok bool, err error)
	// Duration accepts Go duration strings ("1h30m") and whole seconds.
	Duration(key string) (time.Duration, error)
	OptionalDuration(key string) (value time.Duration, ok bool, err error)
	Strings(key string) ([]string, error)
	// Sub returns the config object at key.
	Sub(key string) (Config, error)
	OptionalSub(key string) (value Config, ok bool, err error)
	// SubList returns the list of config objects at key; a missing key is
	// an empty list.
	SubList(key string) ([]Config, error)
	// Decode decodes the value at key ("" for the whole config) into out,
	// rejecting fields out does not have.
	Decode(key string, out any) error
}

// RootConfig is the backend's configuration (service "core.rootConfig").
type RootConfig interface{ Config }

// Logger is a structured logger (service "core.logger"). Arguments are
// slog key-value pairs or slog.Attr values. A plugin's logger carries
// plugin=<pluginId>.
type Logger interface {
	Debug(msg string, args ...any)
	Info(msg string, args ...any)
	Warn(msg string, args ...any)
	Error(msg string, args ...any)
	// With returns a logger that adds args to every record.
	With(args ...any) Logger
	// Handler returns the slog handler, to build a *slog.Logger with
	// slog.New for libraries that want one.
	Handler() slog.Handler
}

// RootLogger is the backend-wide logger (service "core.rootLogger").
type RootLogger interface{ Logger }

// Hook is a lifecycle hook. A startup hook's error fails the start of its
// plugin; a shutdown hook's error is logged.
type Hook func(ctx context.Context) error

// Lifecycle registers hooks run when the plugin starts and stops (service
// "core.lifecycle"). Startup hooks run after the plugin's init; shutdown
// hooks when the backend stops. Adding a hook after its phase has begun is
// an error.
type Lifecycle interface {
	AddStartupHook(hook Hook) error
	AddShutdownHook(hook Hook) error
}

// RootLifecycle is the backend-wide lifecycle (service
// "core.rootLifecycle"). Its startup hooks run after every plugin has
// started. When the backend stops, the engine runs these phases in this
// order, whatever the order in which the hooks were added:
//
//  1. the before-shutdown hooks: readiness goes down;
//  2. a pause of backend.lifecycle.serverShutdownDelay (default 0), so that
//     load balancers notice and stop sending requests; it is skipped when
//     no drain hook was added;
//  3. the drain hooks: servers stop accepting and finish the requests in
//     flight, within backend.lifecycle.serverShutdownTimeout (default 30s);
//  4. every plugin's shutdown hooks;
//  5. the shutdown hooks: root services such as database pools close last.
type RootLifecycle interface {
	Lifecycle
	// AddBeforeShutdownHook adds a hook that runs first when the backend
	// stops, such as the one that turns readiness down.
	AddBeforeShutdownHook(hook Hook) error
	// AddDrainHook adds a hook that stops taking new work and waits for
	// the work in flight, such as the graceful shutdown of an HTTP server.
	// Drain hooks run concurrently, after the before-shutdown hooks and
	// before any plugin shutdown hook, with a context that is done once
	// backend.lifecycle.serverShutdownTimeout has passed; a hook whose
	// context is done should stop waiting, cut off what remains and
	// return an error saying so.
	AddDrainHook(hook Hook) error
}

// HealthStatus is the body of a health endpoint.
type HealthStatus struct {
	// Status is "ok" or "error".
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

// OK reports whether the status is "ok".
func (s HealthStatus) OK() bool { return s.Status == "ok" }

// RootHealth answers liveness and readiness probes (service
// "core.rootHealth"). Readiness is not ok until the backend has started and
// again once it begins shutting down.
type RootHealth interface {
	Liveness(ctx context.Context) HealthStatus
	Readiness(ctx context.Context) HealthStatus
}

// RootHTTPRouter is the backend's root HTTP router (service
// "core.rootHttpRouter"). Plugin routers are mounted on it under
// /api/<pluginId>.
type RootHTTPRouter interface {
	// Use mounts h at prefix. Prefixes may not be empty and may not
	// overlap an existing prefix in either direction.
	Use(prefix string, h http.Handler) error
	// Handler returns the complete root handler chain.
	Handler() http.Handler
}

// AuthPolicy opens a path of a plugin's router to callers without full
// credentials.
type AuthPolicy string

const (
	// AllowUnauthenticated lets any caller in, with or without credentials.
	AllowUnauthenticated AuthPolicy = "unauthenticated"
	// AllowUserCookie also accepts a limited user token from the auth
	// cookie, for browser requests such as images.
	AllowUserCookie AuthPolicy = "user-cookie"
)

// HTTPRouter is a plugin's HTTP router, mounted at /api/<pluginId>
// (service "core.httpRouter"). Paths are relative to the mount. Every path
// requires user or service credentials unless an auth policy opens it.
type HTTPRouter interface {
	// Handle registers h for a net/http ServeMux pattern relative to the
	// plugin's mount, such as "GET /todos/{id}". Patterns registered here
	// are known to the backend, so tests can sweep them.
	Handle(pattern string, h http.Handler)
	// HandleFunc is Handle for a function.
	HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request))
	// Use mounts h for every request no Handle pattern matches. Paths seen
	// by h are relative to the mount. If h implements [RouteLister], its
	// routes are known to the backend too.
	Use(h http.Handler)
	// AddAuthPolicy opens every path with the given prefix ("/health"
	// opens "/health" and "/health/..."; "/" opens everything). Policies
	// are additive and the most relaxed one wins.
	AddAuthPolicy(path string, allow AuthPolicy)
}

// Route is one route a plugin serves and the auth policy that covers it.
type Route struct {
	// Pattern is the ServeMux pattern relative to the plugin's mount, such
	// as "GET /todos/{id}".
	Pattern string
	// Policy is the most relaxed auth policy covering the route's path, or
	// "" when the route requires full credentials or the lister does not
	// know (a handler given to HTTPRouter.Use leaves it to the router).
	Policy AuthPolicy
	// PolicyPath is the path of the AddAuthPolicy call that set Policy,
	// such as "/health" or "/", or "" when no call did (no policy, or the
	// barrier is disabled for every route).
	PolicyPath string
}

// RouteLister is implemented by what can list the routes it serves: a
// handler given to [HTTPRouter.Use], which lists its patterns (its Policy
// fields are ignored: the router's policies apply), and an HTTPRouter
// that records the routes a plugin registers, with the policy of each, so
// that tools can check them (for example that every route is secure by
// default).
type RouteLister interface {
	Routes() []Route
}

// JSONWebKeySet is a set of public keys in JWKS form.
type JSONWebKeySet struct {
	Keys []map[string]any `json:"keys"`
}

// Auth verifies tokens and issues tokens for calls to other plugins
// (service "core.auth").
type Auth interface {
	// Authenticate verifies token and returns the credentials it carries.
	// A limited user token yields credentials with Limited set.
	Authenticate(ctx context.Context, token string) (Credentials, error)
	NoneCredentials() Credentials
	// OwnServiceCredentials are the plugin's own service credentials
	// (subject "plugin:<pluginId>").
	OwnServiceCredentials() Credentials
	// PluginRequestToken issues a token for calling targetPluginID on
	// behalf of the given user or service credentials.
	PluginRequestToken(ctx context.Context, onBehalfOf Credentials, targetPluginID string) (string, error)
	// LimitedUserToken issues a limited token for a user, for cookies.
	LimitedUserToken(ctx context.Context, user Credentials) (token string, expiresAt time.Time, err error)
	// PublicServiceKeys returns the public keys that verify the plugin's
	// service tokens.
	PublicServiceKeys(ctx context.Context) (JSONWebKeySet, error)
}

// HTTPAuth extracts credentials from HTTP requests (service
// "core.httpAuth").
type HTTPAuth interface {
	// Credentials returns the caller's credentials. If allow is not empty,
	// the principal type must be one of them: a disallowed none principal
	// is an authentication error (401), a disallowed user or service a
	// not-allowed error (403).
	Credentials(r *http.Request, allow ...PrincipalType) (Credentials, error)
	// IssueUserCookie sets the auth cookie with a limited token for user
	// credentials and returns when it expires.
	IssueUserCookie(w http.ResponseWriter, r *http.Request, creds Credentials) (time.Time, error)
}

// UserDetails is what is known about a user.
type UserDetails struct {
	UserEntityRef       string   `json:"userEntityRef"`
	OwnershipEntityRefs []string `json:"ownershipEntityRefs"`
}

// UserInfo resolves user credentials to user details (service
// "core.userInfo").
type UserInfo interface {
	Get(ctx context.Context, creds Credentials) (UserDetails, error)
}

// Dialect is the SQL dialect of a database.
type Dialect string

const (
	DialectSQLite   Dialect = "sqlite"
	DialectPostgres Dialect = "postgres"
	DialectMySQL    Dialect = "mysql"
)

// Database is a plugin's own database (service "core.database").
type Database interface {
	// DB returns the plugin's connection pool, creating the database when
	// it is missing. The pool is shared; do not close it.
	DB(ctx context.Context) (*sql.DB, error)
	// Dialect is the SQL dialect of the database.
	Dialect() Dialect
	// MigrationsSkipped reports that the plugin should not run its
	// migrations (config backend.database.skipMigrations).
	MigrationsSkipped() bool
}

// Discovery tells where plugins are reachable (service "core.discovery").
// URLs end in /api/<pluginId>, without a trailing slash.
type Discovery interface {
	// BaseURL is the URL for calls between backends.
	BaseURL(ctx context.Context, pluginID string) (string, error)
	// ExternalBaseURL is the URL for callers outside the backend.
	ExternalBaseURL(ctx context.Context, pluginID string) (string, error)
}

// PluginMetadata describes the plugin a service instance belongs to
// (service "core.pluginMetadata"). It is built into the backend and cannot
// be replaced.
type PluginMetadata interface {
	ID() string
}
