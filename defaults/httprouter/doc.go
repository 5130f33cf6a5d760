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
// backend.listen.port (default 7007; 0 picks a free port). [Factory] reads
// backend.lifecycle.startupRequestPauseTimeout (default 5s),
// backend.http.maxRequestBodyBytes (default 1 MiB) and
// backend.auth.dangerouslyDisableDefaultAuthPolicy (default false).
package httprouter
