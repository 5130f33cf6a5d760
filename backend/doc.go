// Package backend assembles plugins, modules and service factories into a
// running backend.
//
// A plugin declares its dependencies as the fields of a struct and receives
// them, resolved and typed, in its init function:
//
//	type deps struct {
//		Router   core.HTTPRouter
//		Logger   core.Logger
//		Database core.Database
//	}
//
//	var Plugin = backend.NewPlugin("todo", backend.Init(func(ctx context.Context, d deps) error {
//		d.Router.Handle("GET /todos", listTodos(d.Database))
//		d.Router.AddAuthPolicy("/health", core.AllowUnauthenticated)
//		return nil
//	}))
//
// [Backend.Start] validates the whole wiring before any init runs and
// reports every problem at once; then it creates root services, inits the
// plugins concurrently (each plugin's modules first) and runs the startup
// hooks. [Backend.Stop] runs the shutdown hooks in reverse.
//
// Package backend holds no default implementations: a production backend
// comes from package defaults, a test backend from package testbackend.
package backend
