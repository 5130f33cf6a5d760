// Package testbackend starts Greenroom backends inside tests.
//
// [Start] boots plugins, modules and service factories in-process, with
// the fake of package mockservices for every core service the test does
// not provide, and stops the backend when the test finishes:
//
//	func TestTodos(t *testing.T) {
//		tb := testbackend.Start(t, todo.Plugin)
//
//		tb.Post("/api/todo/todos", map[string]any{"title": "write tests"}).
//			AsUser("user:default/alice").
//			Do(t).
//			ExpectStatus(t, http.StatusCreated)
//
//		tb.Get("/api/todo/todos").Do(t).ExpectStatus(t, http.StatusUnauthorized)
//	}
//
// Options go to [New], whose [Setup] starts backends with them; an option
// is not a feature, so passing one among the plugins does not compile:
//
//	tb := testbackend.New(testbackend.WithDefaultUser("user:default/alice")).Start(t, todo.Plugin)
//
// [TryStart] returns the error of a start that fails (a plugin refusing
// invalid config, a failed init, an invalid wiring) instead of failing the
// test, so that a test can assert it.
//
// # Requests
//
// Requests go through the same handler chain as in production: the root
// router, the plugin's mount at /api/<pluginId>, the lifecycle gate, the
// credentials barrier, the plugin's routes and the JSON error handling.
// They are served in-process by default: [Backend.Client] is an
// *http.Client whose transport calls the root handler, with no listener
// and no socket. [Backend.URL] starts a real HTTP server on first use, for
// clients that need one; discovery places plugins under it, so plugins of
// one test backend can call each other over HTTP.
//
// [Backend.Get], [Backend.Post] and their siblings build a [Request]: chain
// [Request.AsUser], [Request.AsService], [Request.AsLimitedUser] or
// [Request.WithoutCredentials] to choose who sends it, and [Request.Do] to
// send it. The [Response] checks the status ([Response.ExpectStatus],
// showing the body when it differs), decodes JSON ([Response.DecodeJSON])
// and compares it with a go-cmp diff ([Response.ExpectJSON]).
//
// # Secure by default
//
// Unlike Backstage's test backend, a request without credentials is not
// silently a user: it is anonymous, and routes that no auth policy opens
// answer it 401, as in production. A test that wants a default identity
// says so with [WithDefaultUser]. [Backend.AssertSecureByDefault] checks
// every route of every plugin this way in one call, except the routes the
// test lists as public, so that an auth policy broader than meant fails.
//
// # Credentials
//
// The tokens the request helpers send depend on the backend's auth: with
// the mock auth service (the default) they are the mock tokens of package
// mockservices, which the production auth rejects. With [WithRealAuth] the
// backend runs the production auth services of package defaults/auth, and
// the same helpers send real signed tokens: user tokens signed by a key
// that the test backend generates and configures under
// backend.auth.userTokens, plugin tokens issued by the calling plugin's own
// Auth service, and a static external access token. [Request.WithInvalidToken]
// sends an invalid token of the same kind, for negative tests.
//
// # Several instances
//
// Production runs several instances of a backend behind a load balancer,
// sharing one database. [StartInstances] starts n of them: each is a
// backend of its own (its services, client, server and discovery), and
// every plugin of every instance uses one database through a connection
// pool of its instance, so their queries and transactions meet as in
// production. [WithDatabase] chooses that database, a test database of
// package testdatabases in Clone isolation on server engines; without it
// the instances share a new SQLite database of the test:
//
//	testdatabases.New(t).With(testdatabases.Clone).Each(t, func(t *testing.T, db *testdatabases.DB) {
//		t.Parallel()
//		tbs := testbackend.New(testbackend.WithDatabase(db)).StartInstances(t, 3, todo.Plugin)
//		tbs[0].Post("/api/todo/todos", map[string]any{"title": "milk"}).AsUser("user:default/alice").Do(t)
//		tbs[1].Get("/api/todo/todos").AsUser("user:default/alice").Do(t) // sees it
//		tbs[0].Stop(t) // instances 1 and 2 keep serving
//	})
//
// The instances start together, so their plugins' inits (migrations
// above all) race as replicas' do. [Backend.Stop] stops one instance
// before the test ends, in the production shutdown order.
//
// # Fuzzing every route
//
// [Backend.FuzzRoutes] turns a backend started with a *testing.F into a
// fuzz target over every route of every plugin: each input is a request
// (route, method, path values, query, header, body, caller), and one that
// is answered 5xx, answered an error without the JSON error body of
// package errs, or let in without credentials on a route not listed with
// [FuzzPublic], fails:
//
//	func FuzzTodoRoutes(f *testing.F) {
//		tb := testbackend.Start(f, todo.Plugin)
//		tb.FuzzRoutes(f, testbackend.FuzzPublic("GET /api/todo/health"))
//	}
//
// # Outbound HTTP
//
// [MockOutbound] stands in for the servers a plugin calls, with the
// responders of package github.com/jarcoal/httpmock: [OutboundMock.StandIn]
// points discovery of other plugins at it, [OutboundMock.URL] and
// [OutboundMock.Client] serve any other server. A request no responder
// matches fails the test:
//
//	mock := testbackend.MockOutbound(t)
//	mock.On("GET", "/api/catalog/entities", httpmock.NewStringResponder(200, `[]`))
//	tb := testbackend.New(mock.StandIn("catalog")).Start(t, plugin)
//
// # OpenAPI contracts (opt-in)
//
// Package testbackend/openapitest checks every request to a plugin, and
// every answer, against the plugin's OpenAPI 3 document, and its routes
// against the document's operations. It is a package of its own so that
// only the tests that import it compile the OpenAPI libraries:
//
//	tb := testbackend.New(openapitest.WithOpenAPI(todo.PluginID, todo.OpenAPI)).Start(t, todo.Plugin)
//
// # Services
//
// [Service] returns a service instance of a started backend, to assert on
// what a plugin did (the records of a mock logger, the rows in its
// database). [NewFactoryTester] builds a single service factory with mock
// dependencies, to unit-test a service of your own.
//
// # Scheduled tasks
//
// Each test backend has a scheduler fake of its own (mockservices.Scheduler),
// on which a plugin's tasks never run by themselves. A test that runs them
// passes its own fake and drives it; tasks run when it says so, on a fake
// clock, and the test never sleeps:
//
//	s := mockservices.Scheduler()
//	tb := testbackend.Start(t, todo.Plugin, mockservices.SchedulerFactory(s))
//	s.Advance(ctx, time.Hour) // runs what became due, each task once
//
// # Cache
//
// Each test backend has a cache fake of its own (mockservices.Cache), in
// memory on a fake clock. A test that expires entries, or inspects them,
// passes its own; one that wants the production stores, memory and Redis,
// uses package testcaches:
//
//	c := mockservices.Cache()
//	tb := testbackend.Start(t, todo.Plugin, mockservices.CacheFactory(c))
//	c.Advance(time.Hour) // entries with a shorter TTL are gone
//
// # Events
//
// Each test backend also has an events fake of its own (mockservices.Events),
// shared by its plugins, which delivers each event synchronously within
// Publish: once a plugin's request that publishes has returned, the
// subscribers have handled the event. A test that publishes or reads what
// was published passes its own:
//
//	ev := mockservices.Events()
//	tb := testbackend.Start(t, todo.Plugin, mockservices.EventsFactory(ev))
//	tb.Post("/api/todo/todos/1/complete", nil).AsUser("user:default/alice").Do(t)
//	got := ev.PublishedOn("todo.completed")
//
// # Permissions and audit events
//
// Each test backend also has a permissions fake that decides as the
// production default policy does (owners and services; see
// mockservices.Permissions) and
// an auditor fake of its own (mockservices.Permissions, mockservices.Auditor).
// A test that denies a permission or reads the audit events passes its own:
//
//	p := mockservices.Permissions(mockservices.DenyPermission("todo.item.delete"))
//	a := mockservices.Auditor()
//	tb := testbackend.Start(t, todo.Plugin, mockservices.PermissionsFactory(p), mockservices.AuditorFactory(a))
//
// # Reading URLs
//
// Each test backend has an empty URL reader fake of its own
// (mockservices.URLReader), which reads nothing over the network. A test
// whose plugin reads URLs passes a fake holding the files:
//
//	r := mockservices.URLReader(map[string]string{"https://example.com/a.yaml": "kind: A"})
//	tb := testbackend.Start(t, catalog.Plugin, mockservices.URLReaderFactory(r))
//
// The backend's instance metadata (core.RootInstanceMetadataRef) is built
// into the engine and lists the plugins and modules the test started.
package testbackend
