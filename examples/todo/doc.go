// Package todo is an example Greenroom plugin: a per-user todo list served
// at /api/todo.
//
// It uses the core services a typical plugin needs: the HTTP router (with
// an unauthenticated /health and every other route secure by default), a
// logger, its own database with migrations for SQLite, PostgreSQL and
// MySQL, HTTPAuth to require user credentials and UserInfo to find who the
// caller is. Todos belong to the calling user; another user's todo is
// answered with 404, exactly like a todo that does not exist.
//
// A user's titles are unique (trimmed, case-sensitive, on every engine): a
// duplicate is answered with 409 through sqlkit.HTTPError, which is how a
// plugin turns database errors into HTTP errors without importing a driver.
// Request validation matches the columns, so that no engine answers 500 for
// input another engine stores.
//
// Routes, relative to /api/todo:
//
//	GET    /health        {"status":"ok"}, no credentials needed
//	GET    /todos         the caller's todos
//	POST   /todos         {"title":"...","done":false} creates one (201; 409 for a title the user has)
//	GET    /todos/{id}    one todo
//	PATCH  /todos/{id}    {"title":"...","done":true} changes given fields
//	DELETE /todos/{id}    deletes it (204)
package todo
