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
// # Dependencies
//
// Every exported field of a dependency struct names a service (or, for a
// module, an extension point) by its Go type, through the ref declared with
// core.NewServiceRef for that type. A multiton service is received as []T,
// with the instances of every factory in registration order (empty when
// there is none). When two refs share a Go type, the field names its ref
// with a struct tag: `greenroom:"<ref id>"`. Unexported fields are an error.
//
// # Services
//
// A service is provided by a [ServiceFactory]. The factory used for a
// singleton service is, in order of precedence, the one added with
// [Backend.Add], the last one given to [WithDefaults], or the default factory
// declared on the ref (core.WithDefaultFactory, whose function returns a
// core.ServiceFactory: a *ServiceFactory implements it).
//
// A root service has one instance per backend, created when the backend
// starts, before any plugin; it may depend only on root services. A plugin
// service has one instance per plugin, created when first needed (or for
// every plugin as it starts, with [Eager]); the root context of
// [NewPluginServiceFactoryWithContext] is created once per backend. Creation
// is memoized: plugins resolving a service concurrently share one instance.
//
// Four services are built into the backend and cannot be replaced:
// core.PluginMetadataRef (the id of the plugin), core.LifecycleRef (a
// plugin's startup and shutdown hooks), core.RootLifecycleRef and
// core.RootInstanceMetadataRef (the plugins and modules given to
// [Backend.Add], sorted by id).
//
// # Modules and extension points
//
// A [Module] extends a plugin. A plugin or one of its modules may provide
// extension points ([ProvideExtensionPoint]); only that plugin and its
// modules may depend on them. An extension point's implementation is made
// once per backend, when its plugin starts, so what modules register
// belongs to one backend even though plugins and modules are declared once,
// in package-level variables, and added to many. Modules init before their
// plugin, and a module that provides an extension point inits after the
// modules that consume it, so that it sees what they registered.
// Independent modules init concurrently, as do plugins.
//
// # Start and Stop
//
// [Backend.Start] first validates the whole wiring and reports every
// problem at once in a [*WiringError]: missing services, fields that name
// no service, cycles, duplicate ids, scope violations, misused extension
// points. Each problem names where its plugin, module or factory was
// declared ([Problem].Declared, "todo/plugin.go:42") and, for a near miss,
// the likely fix (core.RootConfig for a field of type core.Config, the
// service interface for a concrete type, the id a misspelt tag meant).
// [Backend.Graph] prints the whole wiring as text or Graphviz DOT, with the
// nodes problems are about in red, without running anything.
// No factory or init runs until the wiring is valid. Nothing is
// shared between backends: a backend validates its own wiring against the
// refs declared when it starts, whatever the backends started before it in
// the process. Then it creates the root services and starts the plugins
// concurrently: for each plugin, its eager services, its modules, its init
// and its startup hooks. When every plugin has started, the root startup
// hooks run. A failure names the plugin or module and wraps its cause.
//
// [Backend.Stop] shuts down in an order the engine owns, whatever the
// order in which hooks were added: the root before-shutdown hooks
// (readiness goes down), the pause backend.lifecycle.serverShutdownDelay,
// the root drain hooks (the HTTP server stops accepting and finishes the
// requests in flight, within backend.lifecycle.serverShutdownTimeout),
// every plugin's shutdown hooks (the plugins concurrently), and last the
// root shutdown hooks (database pools close). Within one phase, the hooks
// of one lifecycle run in the reverse of the order they were added. Every
// hook runs, and their errors are joined.
//
// When a root logger (core.RootLoggerRef) is installed, the backend logs
// its progress and the failures of plugins and hooks through it.
//
// # Testing
//
// [Resolve] returns the instance of a service, building it and its
// dependencies on demand when the backend has not started: a unit test of
// one factory needs no plugin. Package testbackend builds on it.
//
// Package backend holds no default implementations: a production backend
// comes from package defaults, a test backend from package testbackend.
package backend
