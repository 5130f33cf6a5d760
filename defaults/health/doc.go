// Package health is the default implementation of the root health service
// (core.RootHealth) and of the HTTP endpoints that serve it:
//
//	GET /.greenroom/health/v1/liveness   200 {"status":"ok"}
//	GET /.greenroom/health/v1/readiness  200 {"status":"ok"}, or 503 with
//	                                     {"status":"error","message":"..."}
//
// Liveness is always ok: the process answers. Readiness follows the root
// lifecycle: it is "Backend has not started yet" until the root startup
// hooks run (after every plugin has started), ok from then on, and "Backend
// is shutting down" once the before-shutdown hooks run, so that a load
// balancer stops sending traffic before plugins stop.
//
// The root HTTP router (package defaults/httprouter) serves [NewHandler] on
// its root, before any plugin mount and without authentication. Health
// reads no configuration.
package health
