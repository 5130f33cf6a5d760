// Package defaults assembles a production Greenroom backend: [New] returns a
// backend whose core services are the default implementations, one package
// each under defaults/:
//
//	config      core.RootConfig     YAML files, ${VAR} substitution, GREENROOM_CONFIG_* overrides
//	logger      core.RootLogger, core.Logger    log/slog, plugin=<id> on plugin loggers
//	health      core.RootHealth     liveness and readiness
//	httprouter  core.RootHTTPRouter, core.HTTPRouter    the listener, /api/<pluginId> mounts, the auth barrier
//	auth        core.Auth, core.HTTPAuth, core.UserInfo    signed tokens
//	discovery   core.Discovery      where plugins are reachable
//	database    core.Database       SQLite, PostgreSQL, MySQL/MariaDB, a database per plugin
//	scheduler   core.Scheduler      background tasks, once per period across instances through the plugin's database
//	permissions core.Permissions, core.PermissionPolicy    decisions; the ownership policy unless a module replaces it
//	auditor     core.Auditor        audit events as structured log records
//
// The lifecycle and plugin metadata services are built into package backend.
// Any factory added to the backend replaces the default for its service.
package defaults
