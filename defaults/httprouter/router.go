package httprouter

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/httpjson"
	"github.com/greenroom-dev/greenroom/internal/reqctx"
)

// The defaults of the plugin router's settings.
const (
	DefaultStartupRequestPauseTimeout = 5 * time.Second
	DefaultMaxRequestBodyBytes        = 1 << 20
)

// The reserved paths every plugin router serves, relative to its mount.
const (
	// JWKSPath serves the plugin's public service keys, without
	// authentication, so that other plugins can verify its tokens.
	JWKSPath = "/.greenroom/auth/v1/jwks.json"
	// CookiePath issues (GET) and clears (DELETE) the user auth cookie.
	CookiePath = "/.greenroom/auth/v1/cookie"
)

// The messages of the lifecycle gate's 503 errors.
const (
	NotStartedMessage   = "Service has not started up yet"
	ShuttingDownMessage = "Service is shutting down"
)

// Options configures [New].
type Options struct {
	// PluginID is the plugin's id; the router serves /api/<PluginID>.
	PluginID string
	// Auth serves the public service keys. Required.
	Auth core.Auth
	// HTTPAuth checks the credentials of requests and issues the auth
	// cookie. Required.
	HTTPAuth core.HTTPAuth
	// Lifecycle is the plugin's lifecycle: its startup hook opens the
	// router to requests, its shutdown hook closes it. Required.
	Lifecycle core.Lifecycle
	// Logger is the plugin's logger. Nil discards the logs.
	Logger core.Logger
	// StartupRequestPauseTimeout is how long a request that arrives
	// before the plugin has started waits for it before it is answered
	// 503. Zero means [DefaultStartupRequestPauseTimeout].
	StartupRequestPauseTimeout time.Duration
	// MaxRequestBodyBytes is the largest request body accepted. Zero
	// means [DefaultMaxRequestBodyBytes].
	MaxRequestBodyBytes int64
	// DangerouslyDisableDefaultAuthPolicy lets every request in without
	// credentials, as if every path had an unauthenticated policy.
	DangerouslyDisableDefaultAuthPolicy bool
	// MuxCache, if set, shares the router's http.ServeMux with the other
	// routers of the cache given the same patterns. Nil (the default, and
	// production's) gives the router its own ServeMux.
	MuxCache *MuxCache
}

// Router is the default [core.HTTPRouter] of a plugin. It is an
// http.Handler for the requests under its mount, /api/<pluginId>, which
// it passes through this chain:
//
//  1. panic recovery: a panic is logged with its stack and answered 500;
//  2. GET [JWKSPath]: the plugin's public service keys, unauthenticated;
//  3. the lifecycle gate: until the plugin has started, a request waits up
//     to the startup pause, then is answered 503 [NotStartedMessage]; once
//     the plugin shuts down, 503 [ShuttingDownMessage];
//  4. the credentials barrier: a path that no unauthenticated policy
//     opens needs user or service credentials (401 when missing or
//     invalid, 403 for another principal). This holds for paths no route
//     serves too, so a caller without credentials learns nothing of them;
//  5. GET and DELETE [CookiePath]: issue and clear the user auth cookie;
//  6. the request body limit (413 PayloadTooLargeError);
//  7. the plugin's routes: the ServeMux patterns given to Handle, then the
//     handler given to Use, else 404 NotFoundError (or 405 when a pattern
//     matches the path with another method). They see the path relative to
//     the mount, as with http.StripPrefix.
//
// Every error answer has the JSON shape of package errs. The request
// context carries the plugin's request state (internal/reqctx), which
// HTTPAuth reads to accept the auth cookie on user-cookie paths.
type Router struct {
	id, mount   string
	auth        core.Auth
	httpAuth    core.HTTPAuth
	logger      core.Logger
	pause       time.Duration
	maxBody     int64
	disableAuth bool
	handler     http.Handler // rt.serve

	startOnce, stopOnce sync.Once
	started, stopping   chan struct{}

	mu sync.RWMutex
	// handlers are the handlers of the patterns given to Handle that
	// registered, and mux their ServeMux, whose i-th route is route(i).
	// A ServeMux is never registered in once a request has used it (see
	// routes), so that a request's mux and handlers always match.
	//
	// With a MuxCache, node is the sequence of patterns given to Handle
	// in it, and mux is node's shared ServeMux once a request has needed
	// it. Without one, node is nil and mux is the router's own; served
	// says a request has used it.
	node     *muxNode
	handlers []http.Handler
	mux      *http.ServeMux
	served   bool
	patterns []string
	fallback http.Handler
	policies []policy
	problems []error

	// waiting, if set, is called when a request starts to wait for the
	// plugin to start. Tests use it.
	waiting func()
}

var (
	_ core.HTTPRouter  = (*Router)(nil)
	_ core.RouteLister = (*Router)(nil)
)

// New returns the router of a plugin and adds its hooks to the plugin's
// lifecycle. It does not mount the router: mount it at [Router.MountPath]
// of a root router ([Factory] does).
//
// Mistakes in the use of the router (a second Use, an unknown auth policy,
// an invalid pattern) are logged when they happen and make the plugin's
// startup fail with an error naming the plugin and the fix, so they cannot
// go unnoticed; the router then stays closed. Mistakes made after startup
// are only logged.
func New(opts Options) (*Router, error) {
	switch {
	case opts.PluginID == "":
		return nil, errors.New("httprouter: New needs the plugin id")
	case opts.Auth == nil || opts.HTTPAuth == nil || opts.Lifecycle == nil:
		return nil, fmt.Errorf("httprouter: plugin '%s': New needs the plugin's Auth, HTTPAuth and Lifecycle services", opts.PluginID)
	case opts.StartupRequestPauseTimeout < 0:
		return nil, fmt.Errorf("httprouter: plugin '%s': the startup request pause is %s; it may not be negative (config key backend.lifecycle.startupRequestPauseTimeout)", opts.PluginID, opts.StartupRequestPauseTimeout)
	case opts.MaxRequestBodyBytes < 0:
		return nil, fmt.Errorf("httprouter: plugin '%s': the request body limit is %d; it may not be negative (config key backend.http.maxRequestBodyBytes)", opts.PluginID, opts.MaxRequestBodyBytes)
	}
	rt := &Router{
		id:          opts.PluginID,
		mount:       "/api/" + opts.PluginID,
		auth:        opts.Auth,
		httpAuth:    opts.HTTPAuth,
		logger:      opts.Logger,
		pause:       opts.StartupRequestPauseTimeout,
		maxBody:     opts.MaxRequestBodyBytes,
		disableAuth: opts.DangerouslyDisableDefaultAuthPolicy,
		started:     make(chan struct{}),
		stopping:    make(chan struct{}),
	}
	rt.handler = http.HandlerFunc(rt.serve)
	if opts.MuxCache != nil {
		rt.node = &opts.MuxCache.root
	} else {
		rt.mux = http.NewServeMux()
	}
	if rt.logger == nil {
		rt.logger = discardLogger()
	}
	if rt.pause == 0 {
		rt.pause = DefaultStartupRequestPauseTimeout
	}
	if rt.maxBody == 0 {
		rt.maxBody = DefaultMaxRequestBodyBytes
	}
	if err := opts.Lifecycle.AddStartupHook(rt.start); err != nil {
		return nil, fmt.Errorf("httprouter: plugin '%s': add the startup hook that opens the router: %w", rt.id, err)
	}
	if err := opts.Lifecycle.AddShutdownHook(func(context.Context) error {
		rt.stopOnce.Do(func() { close(rt.stopping) })
		return nil
	}); err != nil {
		return nil, fmt.Errorf("httprouter: plugin '%s': add the shutdown hook that closes the router: %w", rt.id, err)
	}
	return rt, nil
}

// start is the plugin startup hook: it reports the mistakes made while the
// plugin registered its routes, or else opens the router.
func (rt *Router) start(context.Context) error {
	rt.mu.RLock()
	err := errors.Join(rt.problems...)
	rt.mu.RUnlock()
	if err != nil {
		return err
	}
	rt.startOnce.Do(func() { close(rt.started) })
	return nil
}

// problem logs a mistake in the use of the router and records it for the
// startup hook.
func (rt *Router) problem(format string, args ...any) {
	err := fmt.Errorf("httprouter: plugin '%s': "+format, append([]any{rt.id}, args...)...)
	rt.logger.Error(err.Error())
	rt.mu.Lock()
	rt.problems = append(rt.problems, err)
	rt.mu.Unlock()
}

// MountPath returns the path the router serves: /api/<pluginId>.
func (rt *Router) MountPath() string { return rt.mount }

// Handle registers h for a ServeMux pattern relative to the mount, such
// as "GET /todos/{id}". An invalid or conflicting pattern is a mistake
// reported at startup (see [New]), not a panic.
func (rt *Router) Handle(pattern string, h http.Handler) {
	if h == nil {
		rt.problem("Handle(%q): the handler is nil", pattern)
		return
	}
	rt.mu.Lock()
	err := rt.register(pattern)
	if err == nil {
		if rt.patterns == nil {
			// Most plugins have a handful of routes.
			rt.patterns, rt.handlers = make([]string, 0, 8), make([]http.Handler, 0, 8)
		}
		rt.patterns = append(rt.patterns, pattern)
		rt.handlers = append(rt.handlers, h)
	}
	rt.mu.Unlock()
	if err != nil {
		rt.problem("Handle(%q): %v; fix the pattern (see net/http.ServeMux)", pattern, err)
	}
}

// register adds pattern to the router's ServeMux as the next route, and
// returns why it does not register. rt.mu must be held for writing.
func (rt *Router) register(pattern string) error {
	if rt.node != nil {
		node := rt.node.next(pattern)
		rt.node = node
		if node.err == nil {
			rt.mux = nil // node's, fetched when a request needs it
		}
		return node.err
	}
	if rt.served {
		// A request may be using the ServeMux with the handlers it had:
		// the new route goes into a copy.
		m := http.NewServeMux()
		for i, p := range rt.patterns {
			_ = register(m, p, route(i)) // it registered before, after the same patterns
		}
		rt.mux, rt.served = m, false
	}
	return register(rt.mux, pattern, route(len(rt.handlers)))
}

// routes returns the ServeMux of the routes registered so far and their
// handlers, which a request may use while others register: the ServeMux
// is not registered in again (see register).
func (rt *Router) routes() (*http.ServeMux, []http.Handler) {
	rt.mu.RLock()
	mux, handlers, node, served := rt.mux, rt.handlers, rt.node, rt.served
	rt.mu.RUnlock()
	switch {
	case mux == nil: // the MuxCache's, not fetched yet
		mux = node.serveMux()
		rt.mu.Lock()
		if rt.node == node {
			rt.mux = mux
		}
		rt.mu.Unlock()
	case node == nil && !served:
		rt.mu.Lock()
		mux, handlers = rt.mux, rt.handlers
		rt.served = true
		rt.mu.Unlock()
	}
	return mux, handlers
}

// HandleFunc is [Router.Handle] for a function.
func (rt *Router) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	if h == nil {
		rt.problem("HandleFunc(%q): the handler is nil", pattern)
		return
	}
	rt.Handle(pattern, http.HandlerFunc(h))
}

// Use sets the handler of every request that no Handle pattern matches.
// If h implements [core.RouteLister], its routes are reported by
// [Router.Routes]. A router has at most one such handler: a second Use is
// a mistake reported at startup (see [New]) and the first handler stays,
// because choosing silently between two handlers would hide routes. To
// serve several, compose them into one, such as an http.ServeMux.
func (rt *Router) Use(h http.Handler) {
	if h == nil {
		rt.problem("Use: the handler is nil")
		return
	}
	rt.mu.Lock()
	dup := rt.fallback != nil
	if !dup {
		rt.fallback = h
	}
	rt.mu.Unlock()
	if dup {
		rt.problem("Use was called more than once; a router has one handler for the requests no Handle pattern matches, so compose your handlers into one (such as an http.ServeMux) or register them with Handle")
	}
}

// AddAuthPolicy opens path (relative to the mount) and every path under
// it, by whole segments, to callers without full credentials: "/health"
// opens "/health" and "/health/x" but not "/healthz"; a ":name" segment
// matches any one segment; "/" and "*" open everything. Policies add up
// and the most relaxed one that matches a request wins.
//
// An unknown policy or a path not starting with "/" opens nothing; it is a
// mistake reported at startup (see [New]).
func (rt *Router) AddAuthPolicy(path string, allow core.AuthPolicy) {
	p, err := parsePolicy(path, allow)
	if err != nil {
		rt.problem("AddAuthPolicy(%q, %q): %v; the path stays protected", path, allow, err)
		return
	}
	rt.mu.Lock()
	rt.policies = append(rt.policies, p)
	rt.mu.Unlock()
}

// policyFor returns the most relaxed policy that opens the request path
// given as segments, or "".
func (rt *Router) policyFor(segs []string) core.AuthPolicy {
	rt.mu.RLock()
	defer rt.mu.RUnlock()
	var best core.AuthPolicy
	for _, p := range rt.policies {
		if relaxed(p.allow) > relaxed(best) && p.matches(segs) {
			best = p.allow
		}
	}
	return best
}

// Routes returns the patterns registered with Handle and those listed by
// the Use handler when it implements [core.RouteLister], in that order,
// each with the most relaxed policy of this router that opens every path of the route
// ("" when the route needs full credentials; a policy that opens only some
// of its paths does not count). With the default auth policy disabled,
// every route is reported as unauthenticated. The policies the Use
// handler's routes carry are ignored: the router's apply. The reserved
// JWKS and cookie routes are not included.
func (rt *Router) Routes() []core.Route {
	rt.mu.RLock()
	patterns := slices.Clone(rt.patterns)
	fallback := rt.fallback
	policies := slices.Clone(rt.policies)
	rt.mu.RUnlock()
	if l, ok := fallback.(core.RouteLister); ok {
		for _, r := range l.Routes() {
			patterns = append(patterns, r.Pattern)
		}
	}
	routes := make([]core.Route, 0, len(patterns))
	for _, pat := range patterns {
		r := core.Route{Pattern: pat}
		if rt.disableAuth {
			r.Policy = core.AllowUnauthenticated
		} else if segs, ok := patternSegments(pat); ok {
			for _, p := range policies {
				if relaxed(p.allow) > relaxed(r.Policy) && p.covers(segs) {
					r.Policy, r.PolicyPath = p.allow, p.path
				}
			}
		}
		routes = append(routes, r)
	}
	return routes
}

// ServeHTTP serves a request whose path is under the mount.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r, body := trackBody(r)
	tw := &responseWriter{ResponseWriter: w, body: body}
	serveRecovering(rt.logger, rt.id, tw, r, rt.handler)
}

func (rt *Router) serve(w http.ResponseWriter, r *http.Request) {
	rel, ok := strings.CutPrefix(r.URL.EscapedPath(), rt.mount)
	if !ok || (rel != "" && rel[0] != '/') {
		errs.WriteJSON(w, r, errs.NewNotFound("Nothing is served at %s; the routes of plugin '%s' are under %s", r.URL.Path, rt.id, rt.mount))
		return
	}
	if rel == "" {
		rel = "/"
	}
	// Auth policies and handlers must see one path; the root router
	// rejects ambiguous escapes already, this covers a router served on
	// its own.
	if err := checkEscapes(rel); err != nil {
		errs.WriteJSON(w, r, err)
		return
	}
	// Auth policies match clean paths only. The root router redirects
	// unclean paths already; this covers a router served on its own.
	if clean := cleanPath(rel); clean != rel && r.Method != http.MethodConnect {
		u := rt.mount + clean
		if r.URL.RawQuery != "" {
			u += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, u, http.StatusTemporaryRedirect)
		return
	}

	// 2. The public service keys, before the gate and the barrier.
	if rel == JWKSPath {
		rt.serveJWKS(w, r)
		return
	}

	// 3. The lifecycle gate.
	if !rt.gate(w, r) {
		return
	}

	// 4. Request state and the credentials barrier.
	segs := pathSegments(rel)
	allow := rt.policyFor(segs)
	r = r.WithContext(reqctx.With(r.Context(), &reqctx.State{
		PluginID:      rt.id,
		LimitedAccess: allow == core.AllowUserCookie,
		Logger:        rt.logger,
	}))
	if !rt.disableAuth && allow != core.AllowUnauthenticated {
		if _, err := rt.httpAuth.Credentials(r, core.PrincipalUser, core.PrincipalService); err != nil {
			// The body stays unread: close the connection after the
			// answer, or net/http would read the rest of the body first.
			rt.writeError(w, r, err)
			return
		}
	}

	// 5. The auth cookie.
	if rel == CookiePath {
		rt.serveCookie(w, r)
		return
	}

	// 6. The body limit.
	if r.ContentLength > rt.maxBody {
		rt.writeError(w, r, rt.tooLarge())
		return
	}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = http.MaxBytesReader(innermost(w), r.Body, rt.maxBody)
	}

	// 7. The plugin's routes.
	rt.serveRoutes(w, r, rel)
}

// innermost returns the writer of the server under the wrappers that
// unwrap for http.ResponseController. http.MaxBytesReader tells it (and
// only it) to close the connection after a body that is too large.
func innermost(w http.ResponseWriter) http.ResponseWriter {
	for {
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return w
		}
		w = u.Unwrap()
	}
}

func (rt *Router) tooLarge() error {
	return errs.New(errs.PayloadTooLarge, "Request body is larger than the limit of %d bytes; send less, or raise the limit with the config key backend.http.maxRequestBodyBytes", rt.maxBody)
}

// writeError writes err as JSON, logging it first when it is a 5xx.
func (rt *Router) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if errs.StatusCode(err) >= 500 {
		rt.logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	errs.WriteJSON(w, r, err)
}

func (rt *Router) serveJWKS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		errs.WriteJSON(w, r, errs.New(errs.MethodNotAllowed, "%s allows GET and HEAD only", r.URL.Path))
		return
	}
	keys, err := rt.auth.PublicServiceKeys(r.Context())
	if err != nil {
		rt.writeError(w, r, err)
		return
	}
	if keys.Keys == nil {
		keys.Keys = []map[string]any{}
	}
	if err := httpjson.Write(w, http.StatusOK, keys); err != nil {
		rt.logger.Error("write the public service keys", "error", err)
	}
}

// gate holds a request until the plugin has started, and answers 503 when
// it does not start in time or is shutting down. It reports whether the
// request may go on.
func (rt *Router) gate(w http.ResponseWriter, r *http.Request) bool {
	if rt.closed(w, r) {
		return false
	}
	select {
	case <-rt.started:
		return true
	default:
	}
	if rt.waiting != nil {
		rt.waiting()
	}
	timer := time.NewTimer(rt.pause)
	defer timer.Stop()
	select {
	case <-rt.started:
	case <-rt.stopping:
	case <-timer.C:
		errs.WriteJSON(w, r, errs.NewServiceUnavailable(NotStartedMessage))
		return false
	case <-r.Context().Done():
		errs.WriteJSON(w, r, errs.NewServiceUnavailable(NotStartedMessage))
		return false
	}
	return !rt.closed(w, r)
}

// closed answers 503 and reports true once the plugin is shutting down.
// (A select on both channels would choose at random when both are closed.)
func (rt *Router) closed(w http.ResponseWriter, r *http.Request) bool {
	select {
	case <-rt.stopping:
		errs.WriteJSON(w, r, errs.NewServiceUnavailable(ShuttingDownMessage))
		return true
	default:
		return false
	}
}

func (rt *Router) serveCookie(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		creds, err := rt.httpAuth.Credentials(r, core.PrincipalUser)
		if err != nil {
			rt.writeError(w, r, err)
			return
		}
		exp, err := rt.httpAuth.IssueUserCookie(w, r, creds)
		if err != nil {
			rt.writeError(w, r, err)
			return
		}
		if err := httpjson.Write(w, http.StatusOK, struct {
			ExpiresAt time.Time `json:"expiresAt"`
		}{exp.UTC()}); err != nil {
			rt.logger.Error("write the auth cookie expiry", "error", err)
		}
	case http.MethodDelete:
		// HTTPAuth clears the cookie when given none credentials: it
		// knows the attributes the cookie was set with.
		if _, err := rt.httpAuth.IssueUserCookie(w, r, rt.auth.NoneCredentials()); err != nil {
			rt.writeError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "GET, DELETE")
		errs.WriteJSON(w, r, errs.New(errs.MethodNotAllowed, "%s allows GET and DELETE only", r.URL.Path))
	}
}

// serveRoutes serves r with the plugin's routes; rel is its escaped path
// relative to the mount.
func (rt *Router) serveRoutes(w http.ResponseWriter, r *http.Request, rel string) {
	mux, handlers := rt.routes()
	sr := rt.strip(r, rel)
	d := &dispatch{w: w, handlers: handlers}
	mux.ServeHTTP(d, sr)
	if d.routed {
		return
	}
	// The rest are the ServeMux's own answers. Record them, then answer
	// in the router's shape. (The request is stripped again: ServeHTTP
	// set its Pattern.)
	sr = rt.strip(r, rel)
	h, pattern := mux.Handler(sr)
	c := &captureWriter{header: http.Header{}}
	h.ServeHTTP(c, sr)
	if pattern != "" && c.code >= 300 && c.code < 400 {
		// A redirect such as /dir to /dir/: ServeMux knows only the
		// path relative to the mount.
		http.Redirect(w, r, rt.mount+c.header.Get("Location"), c.code)
		return
	}
	rt.mu.RLock()
	fallback := rt.fallback
	rt.mu.RUnlock()
	if fallback != nil {
		fallback.ServeHTTP(w, sr)
		return
	}
	if c.code == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", c.header.Get("Allow"))
		errs.WriteJSON(w, r, errs.New(errs.MethodNotAllowed, "Plugin '%s' does not allow %s for %s; allowed: %s", rt.id, r.Method, r.URL.Path, c.header.Get("Allow")))
		return
	}
	errs.WriteJSON(w, r, errs.NewNotFound("Plugin '%s' has no route for %s %s", rt.id, r.Method, r.URL.Path))
}

// strip returns a shallow copy of r whose URL path is rel, relative to
// the mount, like http.StripPrefix (r.RequestURI keeps the full target).
func (rt *Router) strip(r *http.Request, rel string) *http.Request {
	r2 := new(http.Request)
	*r2 = *r
	r2.URL = new(url.URL)
	*r2.URL = *r.URL
	r2.URL.Path = strings.TrimPrefix(r.URL.Path, rt.mount)
	if r2.URL.Path == "" {
		r2.URL.Path = "/"
	}
	if r.URL.RawPath != "" {
		r2.URL.RawPath = rel
	}
	return r2
}

type pluginDeps struct {
	Plugin    core.PluginMetadata
	Root      core.RootHTTPRouter
	HTTPAuth  core.HTTPAuth
	Auth      core.Auth
	Lifecycle core.Lifecycle
	Logger    core.Logger
	Config    core.RootConfig
}

// Factory returns the default factory of [core.HTTPRouterRef]. It is eager:
// every plugin gets a router, mounted at /api/<pluginId> of the root
// router, even when the plugin does not ask for one, so that the plugin's
// JWKS and cookie endpoints exist. It reads these config keys:
//
//   - backend.lifecycle.startupRequestPauseTimeout: how long requests
//     wait for the plugin to start (a duration; default 5s);
//   - backend.http.maxRequestBodyBytes: the largest request body (default
//     1 MiB);
//   - backend.auth.dangerouslyDisableDefaultAuthPolicy: let every request
//     in without credentials (default false; never in production).
//
// The factory's options are for tests: see [WithMuxCache].
func Factory(opts ...FactoryOption) *backend.ServiceFactory {
	var fo factoryOptions
	for _, o := range opts {
		o(&fo)
	}
	return backend.NewPluginServiceFactory(core.HTTPRouterRef, func(ctx context.Context, d pluginDeps) (core.HTTPRouter, error) {
		return newPluginService(ctx, d, fo)
	}, backend.Eager())
}

// FactoryOption configures [Factory].
type FactoryOption func(*factoryOptions)

type factoryOptions struct {
	muxCache *MuxCache
}

// WithMuxCache makes the routers of the factory share their ServeMux
// values through c (see [MuxCache]). Package testbackend installs one, for
// the test backends of a test binary; a production backend needs none.
func WithMuxCache(c *MuxCache) FactoryOption {
	return func(o *factoryOptions) { o.muxCache = c }
}

func newPluginService(ctx context.Context, d pluginDeps, fo factoryOptions) (core.HTTPRouter, error) {
	opts, err := optionsFromConfig(d.Config)
	if err != nil {
		return nil, fmt.Errorf("httprouter: plugin '%s': %w", d.Plugin.ID(), err)
	}
	opts.MuxCache = fo.muxCache
	opts.PluginID = d.Plugin.ID()
	opts.Auth, opts.HTTPAuth, opts.Lifecycle, opts.Logger = d.Auth, d.HTTPAuth, d.Lifecycle, d.Logger
	rt, err := New(opts)
	if err != nil {
		return nil, err
	}
	if err := d.Root.Use(rt.MountPath(), rt); err != nil {
		return nil, fmt.Errorf("httprouter: plugin '%s': mount its router at %s: %w", rt.id, rt.mount, err)
	}
	return rt, nil
}

// optionsFromConfig reads the router settings from cfg.
func optionsFromConfig(cfg core.Config) (Options, error) {
	var opts Options
	pause, ok, err := cfg.OptionalDuration("backend.lifecycle.startupRequestPauseTimeout")
	if err != nil {
		return opts, err
	}
	opts.StartupRequestPauseTimeout = pause
	if ok && pause <= 0 {
		return opts, fmt.Errorf("config key backend.lifecycle.startupRequestPauseTimeout is %s; use a positive duration such as 5s", opts.StartupRequestPauseTimeout)
	}
	var maxBody int
	maxBody, ok, err = cfg.OptionalInt("backend.http.maxRequestBodyBytes")
	if err != nil {
		return opts, err
	}
	if ok && maxBody <= 0 {
		return opts, fmt.Errorf("config key backend.http.maxRequestBodyBytes is %d; use a positive number of bytes such as 1048576", maxBody)
	}
	opts.MaxRequestBodyBytes = int64(maxBody)
	opts.DangerouslyDisableDefaultAuthPolicy, _, err = cfg.OptionalBool("backend.auth.dangerouslyDisableDefaultAuthPolicy")
	return opts, err
}
