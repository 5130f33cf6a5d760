// Package core is the vocabulary shared by Greenroom plugins and the services
// they depend on: typed service references ([ServiceRef]), extension points
// ([ExtensionPoint]), the core service interfaces (config, logging, lifecycle,
// HTTP routing, auth, database, discovery, ...) and the credentials that flow
// through them.
//
// Plugin code imports core for the types it declares in its dependency
// struct, package backend to declare the plugin, and package errs to answer
// with typed errors. It never imports the production implementations, which
// live under defaults/ and are chosen when the backend is assembled.
//
// Every core service has a reference here (for example [HTTPRouterRef]) whose
// Go type is the service interface. A plugin asks for a service by naming a
// field of that interface type in its dependency struct:
//
//	type deps struct {
//		Router core.HTTPRouter
//		Logger core.Logger
//	}
package core
