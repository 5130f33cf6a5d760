// Package todo is an example Greenroom plugin: a per-user todo list served
// at /api/todo.
//
// It uses the core services a typical plugin needs: the HTTP router (with
// an unauthenticated /health and every other route secure by default), a
// logger, its own database with migrations for SQLite, PostgreSQL and
// MySQL, HTTPAuth to require user credentials, UserInfo to find who the
// caller is, the config, the scheduler, the cache, permissions and the
// auditor. Todos belong to the calling user; another user's todo is
// answered with 404, exactly like a todo that does not exist.
//
// # Deleting, permissions and audit
//
// A delete asks the permissions service for [DeletePermission] on the
// todo's resource ref ("todo-item:<id>") and evaluates a conditional
// decision with the rule core.IsOwnerRule. With the production default
// policy, the owner of a todo and the members of a group listed in
// permission.admins may delete it, and nobody else:
//
//	permission:
//	  admins: [group:default/admins]
//
// A policy module (a root factory for core.PermissionPolicyRef) can decide
// otherwise. Every delete, allowed or not, is an audit event
// ([AuditDelete]) with the caller, the request and the outcome; every run
// of the purge task is one too ([AuditPurge]).
//
// # Cache
//
// Todos read by id are kept in the plugin's cache for todo.cache.ttl
// (default 1m) and dropped when they change. The cache is not the source
// of truth: when it fails, the plugin logs a warning and reads the
// database. With several instances, use a shared cache
// (backend.cache.store: redis), or an instance may serve a todo changed
// through another until its entry expires.
//
// # Title validators
//
// Modules extend the plugin through [ValidatorsExtensionPoint]: they add
// a [Validator] by name to [Validators] in their init, and the plugin runs
// every validator, sorted by name, on each title created or renamed, after
// trimming it. A validator returns nil to accept, [Reject] to refuse (400,
// an InputError naming the validator, with a field error on "title"), or
// another error when it cannot decide (500). Without modules every title
// is accepted. Package examples/todo/modules/nobadwords is such a module;
// docs/plugin-to-plugin.md shows how to write and test one, alone with
// testbackend.WithExtensionPoint or next to the plugin.
//
// A user's titles are unique (trimmed, case-sensitive, on every engine): a
// duplicate is answered with 409 through sqlkit.HTTPError, which is how a
// plugin turns database errors into HTTP errors without importing a driver.
// Request validation matches the columns, so that no engine answers 500 for
// input another engine stores.
//
// The plugin schedules a global task, "purge-completed" ([PurgeTaskID]),
// that deletes, in one statement, the todos of every user completed more
// than a configured age ago, and logs how many. A todo's completion time is
// set when it becomes done and cleared when it is reopened. Its config,
// read at start (durations such as "12h", or whole seconds, all positive):
//
//	todo:
//	  purge:
//	    completedOlderThan: 720h  # the age; the default is 30 days
//	    frequency: 1h             # how often the task runs
//	    timeout: 1m               # how long one run may take
//
// Tests drive the task with the scheduler fake of package mockservices,
// which runs it only when told to:
//
//	s := mockservices.Scheduler()
//	testbackend.Start(t, todo.Plugin, mockservices.SchedulerFactory(s))
//	_, err := s.Run(ctx, todo.PluginID, todo.PurgeTaskID)
//
// The routes are described by an OpenAPI 3 document, openapi.yaml,
// exported as [OpenAPI]; contract_test.go runs the plugin's flows with
// openapitest.WithOpenAPI(todo.PluginID, todo.OpenAPI), which checks every
// request and response against it and fails on routes it does not describe
// (see docs/contract-testing.md).
//
// Routes, relative to /api/todo:
//
//	GET    /health        {"status":"ok"}, no credentials needed
//	GET    /todos         the caller's todos
//	POST   /todos         {"title":"...","done":false} creates one (201; 409 for a title the user has)
//	GET    /todos/{id}    one todo
//	PATCH  /todos/{id}    {"title":"...","done":true} changes given fields
//	DELETE /todos/{id}    deletes it (204), for its owner or an admin
package todo
