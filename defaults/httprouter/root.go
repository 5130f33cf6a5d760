package httprouter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/health"
	"github.com/greenroom-dev/greenroom/errs"
)

// DefaultPort is the port the root router listens on when the config key
// backend.listen.port is not set.
const DefaultPort = 7007

// The defaults of [ServerTimeouts], the timeouts of the HTTP server that
// [Root.Listen] starts.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 60 * time.Second
	DefaultIdleTimeout       = 2 * time.Minute
)

// ServerTimeouts are the timeouts of the HTTP server that [Root.Listen]
// starts, with the meaning of the fields of the same names in
// net/http.Server. A zero field disables its timeout.
//
// The write timeout bounds the time from the end of the request headers to
// the end of the response, handler included. A handler that streams (such
// as server-sent events) or legitimately runs longer lifts or extends it
// for its own response:
//
//	http.NewResponseController(w).SetWriteDeadline(time.Time{}) // no deadline
//
// The read timeout bounds reading a whole request, body included: raise it
// (config key backend.server.readTimeout) along with
// backend.http.maxRequestBodyBytes for large uploads.
type ServerTimeouts struct {
	// ReadHeader is backend.server.readHeaderTimeout (default
	// [DefaultReadHeaderTimeout]).
	ReadHeader time.Duration
	// Read is backend.server.readTimeout (default [DefaultReadTimeout]).
	Read time.Duration
	// Write is backend.server.writeTimeout (default [DefaultWriteTimeout]).
	Write time.Duration
	// Idle is backend.server.idleTimeout (default [DefaultIdleTimeout]):
	// how long a keep-alive connection waits for its next request.
	Idle time.Duration
}

// DefaultServerTimeouts returns the timeouts used when none are
// configured.
func DefaultServerTimeouts() ServerTimeouts {
	return ServerTimeouts{
		ReadHeader: DefaultReadHeaderTimeout,
		Read:       DefaultReadTimeout,
		Write:      DefaultWriteTimeout,
		Idle:       DefaultIdleTimeout,
	}
}

// healthPrefix is the path under which the root router serves health.
const healthPrefix = "/.greenroom/health/"

// RootOptions configures [NewRoot].
type RootOptions struct {
	// Logger logs panics (at error level) and every request (at debug
	// level). Nil discards the logs.
	Logger core.Logger
	// Health, if not nil, is served at health.LivenessPath and
	// health.ReadinessPath, before any mount and without authentication.
	Health core.RootHealth
	// Timeouts are the timeouts of the server [Root.Listen] starts. Nil
	// means [DefaultServerTimeouts].
	Timeouts *ServerTimeouts
	// CORS, if not nil, answers the CORS preflight requests it allows and
	// adds the CORS headers to the responses to allowed origins. Nil
	// means no CORS: preflights go through the chain like any request.
	CORS *CORSOptions
}

// Root is the default [core.RootHTTPRouter]: it mounts handlers at path
// prefixes and serves them behind panic recovery, request logging and the
// health endpoints. Build it with [NewRoot]; serve its [Root.Handler] with
// any server or in-process transport, or call [Root.Listen].
type Root struct {
	logger   core.Logger
	health   http.Handler
	handler  http.Handler
	timeouts ServerTimeouts

	mu     sync.RWMutex
	mounts []mount

	srvMu  sync.Mutex
	srv    *http.Server
	ln     net.Listener
	served chan struct{}
}

type mount struct {
	prefix string
	h      http.Handler
}

var _ core.RootHTTPRouter = (*Root)(nil)

// NewRoot returns a root router with nothing mounted. It does not listen:
// see [Root.Listen] and [RootFactory].
func NewRoot(opts RootOptions) *Root {
	rt := &Root{logger: opts.Logger, timeouts: DefaultServerTimeouts()}
	if rt.logger == nil {
		rt.logger = discardLogger()
	}
	if opts.Health != nil {
		rt.health = health.NewHandler(opts.Health)
	}
	if opts.Timeouts != nil {
		rt.timeouts = *opts.Timeouts
	}
	rt.handler = http.HandlerFunc(rt.serve)
	if opts.CORS != nil {
		rt.handler = opts.CORS.handler(rt.handler)
	}
	return rt
}

// Use mounts h at prefix: h serves the requests whose path is prefix or
// starts with prefix + "/", and sees their full path. prefix must be a
// clean absolute path other than "/", such as "/api/todo", and may be
// neither a prefix nor an extension (by whole segments) of a path already
// mounted. Use may be called while the router serves.
func (rt *Root) Use(prefix string, h http.Handler) error {
	switch {
	case prefix == "":
		return errors.New("httprouter: Root router path may not be empty; mount handlers at a path such as /api/<pluginId>")
	case prefix == "/":
		return errors.New(`httprouter: Root router path may not be "/"; mount handlers at a path such as /api/<pluginId>`)
	case prefix[0] != '/':
		return fmt.Errorf("httprouter: Root router path %q must start with \"/\", such as \"/%s\"", prefix, prefix)
	case path.Clean(prefix) != prefix:
		return fmt.Errorf("httprouter: Root router path %q is not a clean path; use %q", prefix, path.Clean(prefix))
	case h == nil:
		return fmt.Errorf("httprouter: Root router path %s: the handler is nil", prefix)
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	for _, m := range rt.mounts {
		if underPrefix(prefix, m.prefix) || underPrefix(m.prefix, prefix) {
			return fmt.Errorf("httprouter: Path %s conflicts with the existing path %s; mounted paths may not be prefixes of one another", prefix, m.prefix)
		}
	}
	rt.mounts = append(rt.mounts, mount{prefix: prefix, h: h})
	return nil
}

// underPrefix reports whether p is prefix or lies under it, by segments:
// "/api/a/b" is under "/api/a", "/api/ab" is not.
func underPrefix(p, prefix string) bool {
	return p == prefix || (strings.HasPrefix(p, prefix) && p[len(prefix)] == '/')
}

// Handler returns the root handler chain:
//
//  1. panic recovery: a panic is logged with its stack and answered with a
//     500 JSON error that reveals nothing of it;
//  2. request logging at debug level;
//  3. CORS, when configured (see [CORSOptions]): an allowed preflight is
//     answered here, before any auth barrier;
//  4. one canonical path: a path whose escaped form has an encoded dot
//     segment ("%2e", "%2e%2E", ".%2e" ...), an encoded slash or
//     backslash ("%2F", "%5C") or an encoded NUL ("%00") is answered 400
//     InputError, because the auth policies (which match its segments)
//     and a handler that decodes and cleans r.URL.Path would see
//     different paths; double encoding ("%252e") decodes once to literal
//     text that both see alike;
//  5. a 307 redirect of unclean paths such as /api/todo//x or
//     /api/todo/a/../b to their clean form (as net/http.ServeMux does), so
//     that auth policies always see clean paths;
//  6. the health endpoints, the mounted handlers, and a 404 JSON
//     NotFoundError for any other path.
//
// Other escapes in a segment, such as "%20" or "%3A", are fine: they
// decode within their segment.
func (rt *Root) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		r, body := trackBody(r)
		tw := &responseWriter{ResponseWriter: w, body: body}
		serveRecovering(rt.logger, "", tw, r, rt.handler)
		rt.logger.Debug("request", "method", r.Method, "path", r.URL.Path, "status", tw.status,
			"duration", time.Since(start))
	})
}

func (rt *Root) serve(w http.ResponseWriter, r *http.Request) {
	if r.RequestURI == "" {
		// A request from an in-process transport: record the target the
		// client asked for, which error bodies name (see errs.ToBody)
		// after a plugin router has stripped its mount from r.URL.
		r2 := new(http.Request)
		*r2 = *r
		r2.RequestURI = r.URL.RequestURI()
		r = r2
	}
	p := r.URL.EscapedPath()
	if err := checkEscapes(p); err != nil {
		errs.WriteJSON(w, r, err)
		return
	}
	if r.Method != http.MethodConnect {
		if clean := cleanPath(p); clean != p {
			u := clean
			if r.URL.RawQuery != "" {
				u += "?" + r.URL.RawQuery
			}
			http.Redirect(w, r, u, http.StatusTemporaryRedirect)
			return
		}
	}
	if rt.health != nil && strings.HasPrefix(p, healthPrefix) {
		rt.health.ServeHTTP(w, r)
		return
	}
	if h := rt.match(p); h != nil {
		h.ServeHTTP(w, r)
		return
	}
	if rest, ok := strings.CutPrefix(p, "/api/"); ok {
		id, _, _ := strings.Cut(rest, "/")
		errs.WriteJSON(w, r, errs.NewNotFound("No plugin with id '%s' is mounted at /api/%s; check that the plugin is added to the backend", id, id))
		return
	}
	errs.WriteJSON(w, r, errs.NewNotFound("Nothing is served at %s; plugin routes are under /api/<pluginId>", r.URL.Path))
}

// checkEscapes returns an InputError if the escaped path p has an escape
// that changes the structure of the path once decoded: a segment that
// decodes to "." or ".." without being one literally, an encoded "/" or
// "\", or an encoded NUL. Literal dot segments are left to the redirect
// to the clean path.
func checkEscapes(p string) error {
	if !strings.Contains(p, "%") {
		return nil // the common case
	}
	for seg := range strings.SplitSeq(p, "/") {
		if !strings.Contains(seg, "%") {
			continue
		}
		lower := strings.ToLower(seg)
		for _, bad := range [...]string{"%2f", "%5c", "%00"} {
			if strings.Contains(lower, bad) {
				return errs.NewInput("The request path has an encoded %q (%s) in a segment; such paths are ambiguous and are not served: send the path without it", badEscapes[bad], strings.ToUpper(bad))
			}
		}
		if d, err := url.PathUnescape(seg); err == nil && (d == "." || d == "..") {
			return errs.NewInput("The request path has the encoded dot segment %q; dot segments are not served encoded: send the path without it", seg)
		}
	}
	return nil
}

var badEscapes = map[string]string{"%2f": "/", "%5c": `\`, "%00": "NUL"}

// match returns the handler mounted at the longest prefix of p.
func (rt *Root) match(p string) http.Handler {
	rt.mu.RLock()
	defer rt.mu.RUnlock()
	var best *mount
	for i, m := range rt.mounts {
		if underPrefix(p, m.prefix) && (best == nil || len(m.prefix) > len(best.prefix)) {
			best = &rt.mounts[i]
		}
	}
	if best == nil {
		return nil
	}
	return best.h
}

// cleanPath returns the canonical form of p, like the unexported function
// of the same name in net/http: one slash between segments, no "." or ".."
// segments, and the trailing slash kept.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}

// Listen binds addr (host:port; port 0 picks a free port) and serves
// [Root.Handler] on it in a new goroutine until [Root.Shutdown]. It
// returns once the listener is bound, so that requests are answered (by
// the health endpoints, or 503 while plugins start) from then on. Listen
// may be called once.
func (rt *Root) Listen(ctx context.Context, addr string) error {
	rt.srvMu.Lock()
	defer rt.srvMu.Unlock()
	if rt.srv != nil {
		return fmt.Errorf("httprouter: the root router already listens on %s", rt.ln.Addr())
	}
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("httprouter: listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           rt.Handler(),
		ReadHeaderTimeout: rt.timeouts.ReadHeader,
		ReadTimeout:       rt.timeouts.Read,
		WriteTimeout:      rt.timeouts.Write,
		IdleTimeout:       rt.timeouts.Idle,
		ErrorLog:          slog.NewLogLogger(rt.logger.Handler(), slog.LevelWarn),
	}
	served := make(chan struct{})
	rt.srv, rt.ln, rt.served = srv, ln, served
	go func() {
		defer close(served)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			rt.logger.Error("HTTP server stopped serving", "addr", ln.Addr().String(), "error", err)
		}
	}()
	return nil
}

// Addr returns the address the router listens on, or nil if
// [Root.Listen] was not called. Discovery uses it to learn the port
// picked for backend.listen.port 0.
func (rt *Root) Addr() net.Addr {
	rt.srvMu.Lock()
	defer rt.srvMu.Unlock()
	if rt.ln == nil {
		return nil
	}
	return rt.ln.Addr()
}

// Shutdown stops the server started by [Root.Listen] gracefully: it stops
// accepting connections and waits for the requests in flight until ctx is
// done, then closes the connections that remain and says so in its error,
// which wraps ctx's cause. It returns nil if the router does not listen.
// [RootFactory] adds it as a root drain hook.
func (rt *Root) Shutdown(ctx context.Context) error {
	rt.srvMu.Lock()
	srv, served := rt.srv, rt.served
	rt.srvMu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Shutdown(ctx)
	if err != nil {
		_ = srv.Close()
		if cause := context.Cause(ctx); cause != nil && cause != err {
			err = fmt.Errorf("%w (%w)", err, cause)
		}
		err = fmt.Errorf("httprouter: shut down the HTTP server gracefully: %w; open connections were closed", err)
	}
	<-served
	return err
}

type rootDeps struct {
	Config    core.RootConfig
	Logger    core.RootLogger
	Lifecycle core.RootLifecycle
	Health    core.RootHealth
}

// RootFactory returns the default factory of [core.RootHTTPRouterRef]. It
// builds a [Root] with the root logger and health, and makes it listen,
// when the backend creates its root services (before any plugin starts).
// It reads these config keys:
//
//   - backend.listen.host (default: all interfaces) and
//     backend.listen.port (default 7007; 0 picks a free port);
//   - backend.server.readHeaderTimeout, readTimeout, writeTimeout and
//     idleTimeout: durations, 0 for none (see [ServerTimeouts] for their
//     defaults and meaning);
//   - backend.cors: CORS, off when the key is missing (see
//     [CORSOptionsFromConfig]).
//
// [Root.Shutdown] is added as a root drain hook, so the server drains
// after readiness has gone down and before any plugin or root service
// shuts down (see core.RootLifecycle). The service is a *Root, whose Addr
// method reports the bound address.
func RootFactory() *backend.ServiceFactory {
	return backend.NewRootServiceFactory(core.RootHTTPRouterRef, newRootService)
}

func newRootService(ctx context.Context, d rootDeps) (core.RootHTTPRouter, error) {
	addr, err := listenAddr(d.Config)
	if err != nil {
		return nil, err
	}
	timeouts, err := serverTimeoutsFromConfig(d.Config)
	if err != nil {
		return nil, fmt.Errorf("httprouter: %w", err)
	}
	corsOpts, err := CORSOptionsFromConfig(d.Config)
	if err != nil {
		return nil, fmt.Errorf("httprouter: %w", err)
	}
	rt := NewRoot(RootOptions{Logger: d.Logger, Health: d.Health, Timeouts: &timeouts, CORS: corsOpts})
	if err := rt.Listen(ctx, addr); err != nil {
		return nil, fmt.Errorf("%w; free the port, or choose another with the config key backend.listen.port (0 picks a free one)", err)
	}
	if err := d.Lifecycle.AddDrainHook(rt.Shutdown); err != nil {
		_ = rt.Shutdown(ctx)
		return nil, fmt.Errorf("httprouter: add the root drain hook that stops the HTTP server: %w", err)
	}
	d.Logger.Info("Listening on " + rt.Addr().String())
	return rt, nil
}

// serverTimeoutsFromConfig reads backend.server.*Timeout.
func serverTimeoutsFromConfig(cfg core.Config) (ServerTimeouts, error) {
	t := DefaultServerTimeouts()
	for _, f := range []struct {
		key string
		v   *time.Duration
	}{
		{"backend.server.readHeaderTimeout", &t.ReadHeader},
		{"backend.server.readTimeout", &t.Read},
		{"backend.server.writeTimeout", &t.Write},
		{"backend.server.idleTimeout", &t.Idle},
	} {
		d, ok, err := cfg.OptionalDuration(f.key)
		switch {
		case err != nil:
			return t, err
		case ok && d < 0:
			return t, fmt.Errorf("config key %s is %s; use a duration such as %s, or 0 for no timeout", f.key, d, *f.v)
		case ok:
			*f.v = d
		}
	}
	return t, nil
}

// listenAddr reads backend.listen.host and backend.listen.port.
func listenAddr(cfg core.Config) (string, error) {
	host, _, err := cfg.OptionalString("backend.listen.host")
	if err != nil {
		return "", fmt.Errorf("httprouter: %w", err)
	}
	port, ok, err := cfg.OptionalInt("backend.listen.port")
	if err != nil {
		return "", fmt.Errorf("httprouter: %w", err)
	}
	if !ok {
		port = DefaultPort
	}
	if port < 0 || port > 65535 {
		return "", fmt.Errorf("httprouter: config key backend.listen.port is %d; use a port from 1 to 65535, or 0 to pick a free one", port)
	}
	return net.JoinHostPort(host, fmt.Sprint(port)), nil
}
