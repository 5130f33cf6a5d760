// Package httprouter is the default implementation of the root HTTP router
// (core.RootHTTPRouter) and of the plugin HTTP router (core.HTTPRouter).
//
// The root router ([Root], built by [NewRoot], provided by [RootFactory])
// listens, recovers from panics, logs requests, serves the health
// endpoints of package defaults/health at /.greenroom/health/v1/liveness
// and /.greenroom/health/v1/readiness, and dispatches to the handlers
// mounted with Use. Paths nobody serves get a 404 JSON error.
//
// Each plugin gets a [Router] (built by [New], provided by [Factory]),
// mounted at /api/<pluginId>. It is secure by default: every path, whether
// a route serves it or not, needs user or service credentials unless an
// auth policy opens it:
//
//	router.Handle("GET /todos/{id}", getTodo)          // needs credentials
//	router.HandleFunc("GET /health", health)
//	router.AddAuthPolicy("/health", core.AllowUnauthenticated) // open
//	router.AddAuthPolicy("/images", core.AllowUserCookie)     // browser cookie too
//
// The plugin's handlers see paths relative to the mount ("/todos/7"), as
// with http.StripPrefix; error bodies name the full URL the caller used.
// See [Router] for the whole request chain.
//
// # Configuration
//
// [RootFactory] reads backend.listen.host (default: all interfaces) and
// backend.listen.port (default 7007; 0 picks a free port); the server
// timeouts backend.server.readHeaderTimeout (default 10s), readTimeout
// (30s), writeTimeout (60s) and idleTimeout (2m), 0 for none (see
// [ServerTimeouts]); and backend.cors, the CORS settings (origin, methods,
// allowedHeaders, exposedHeaders, credentials, maxAge; no CORS when
// missing; see [CORSOptionsFromConfig]). [Factory] reads
// backend.lifecycle.startupRequestPauseTimeout (default 5s),
// backend.http.maxRequestBodyBytes (default 1 MiB) and
// backend.auth.dangerouslyDisableDefaultAuthPolicy (default false).
//
// # Shutdown
//
// The server drains in the root lifecycle's drain phase (see
// core.RootLifecycle): after readiness has gone down and the optional
// backend.lifecycle.serverShutdownDelay, it stops accepting connections
// and finishes the requests in flight, within
// backend.lifecycle.serverShutdownTimeout; only then do the plugins'
// shutdown hooks (which close their routers' lifecycle gates: 503 for any
// request still arriving in-process) and the root services' hooks run.
//
// # Paths
//
// A request path whose escaped form has an encoded dot segment, an encoded
// slash or backslash, or an encoded NUL is answered 400: the auth policies
// and a handler that decodes the path would see different paths (see
// [Root.Handler]).
package httprouter
