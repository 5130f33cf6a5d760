// Package errs is Greenroom's small set of typed errors and the one JSON
// error shape every HTTP response uses:
//
//	{"error":{"name":"InputError","message":"..."},
//	 "request":{"method":"POST","url":"/api/todo/todos"},
//	 "response":{"statusCode":400}}
//
// Plugin handlers return or write these errors; the backend's error
// middleware turns them into responses. Any error that is not one of them
// becomes a 500 whose message reveals nothing of the cause.
package errs
