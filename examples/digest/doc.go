// Package digest is an example Greenroom plugin that calls another plugin:
// served at /api/digest, it summarises the calling user's todos, which it
// reads from the todo plugin (package examples/todo) over HTTP.
//
//	GET /api/digest/summary   {"user":"user:default/alice","open":2,"completed":1}
//
// For each request it
//
//  1. reads the caller's credentials with core.HTTPAuth: a user is
//     required (401 without credentials, 403 for a service),
//  2. asks core.Discovery for the base URL of the plugin "todo",
//  3. asks core.Auth for a plugin-to-plugin token for the target "todo" on
//     behalf of the caller (Auth.PluginRequestToken): the todo plugin sees
//     the user, not the digest plugin, so each user reads only their own
//     todos,
//  4. sends GET <base>/todos with that token and counts the items.
//
// Failures of the todo plugin become JSON errors naming it: unreachable,
// not installed (404 on its mount), or failing with 5xx is a 503
// ServiceUnavailableError; refusing the digest's token is a 500
// InternalError saying so. The plugin has no database and no migrations.
//
// Config: digest.todoTimeout (default 10s) bounds each call to todo.
package digest
