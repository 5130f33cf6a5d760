// Package mockservices provides a fake for every core service and the
// factories that put the fakes in a backend. The mock callers whose tokens
// the fakes accept are in package mockservices/mockcreds.
//
// Each service comes in up to three forms:
//
//   - a working fake, built by a function named after the service:
//     [Config], [Logger], [Auth], [HTTPAuth], [UserInfo], [Discovery],
//     [Database], [SQLMock], [RootHealth], [Scheduler], [Cache], [Events],
//     [Permissions], [Auditor], [URLReader], [Lifecycle],
//     [InstanceMetadata];
//   - a factory for a backend, named ...Factory, such as [AuthFactory];
//     [DefaultFactories] returns one for every replaceable core service, and
//     [Factory] hands any instance to a backend;
//   - where a test wants to assert on calls, the fake records them: the
//     Calls method of [AuthService], [HTTPAuthService], [UserInfoService]
//     and [DiscoveryService] returns each [Call] with its arguments;
//     [PermissionsService.Calls] returns each question and its decision,
//     and [AuditorService.Events] each audit event.
//
// The fakes behave as the production services do, and the conformance
// suites of package servicetest, which both pass, keep it so. The config
// fake is the production config over a map, the logger fake the
// production logger over a capturing handler, and the HTTP routers are the
// production routers, so requests pass through the real mount, auth
// barrier and error handling.
//
// # Mock credentials
//
// The auth fakes accept only mock tokens, never real ones, and real
// services never accept mock tokens. The callers that carry them (users,
// limited users, services, none) are built by package
// mockservices/mockcreds:
//
//	req.Header.Set("Authorization", mockcreds.User("user:default/alice").Header())
//
// Unlike Backstage's mocks, a request without a token has none
// credentials: routes without an auth policy answer it 401, as in
// production. A test that wants an implicit user says so with
// [WithDefaultCredentials].
//
// # Scheduler
//
// The [Scheduler] fake runs tasks only when the test says so, on a fake
// clock, so that a test of a scheduled task neither sleeps nor races the
// schedule: it runs a task with [SchedulerService.Run], runs what is due
// after moving the clock with [SchedulerService.Advance], and waits for
// runs that a plugin triggered with [SchedulerService.WaitForRun]:
//
//	s := mockservices.Scheduler()
//	tb := testbackend.Start(t, todo.Plugin, mockservices.SchedulerFactory(s))
//	if _, err := s.Run(ctx, "todo", "purge-completed"); err != nil {
//		t.Fatal(err)
//	}
//
// # Cache
//
// The [Cache] fake keeps every plugin's entries in memory on a fake clock:
// entries expire when the test moves it with [CacheService.Advance], and
// [CacheService.Keys] and [CacheService.TTL] show what a plugin stored:
//
//	c := mockservices.Cache()
//	tb := testbackend.Start(t, todo.Plugin, mockservices.CacheFactory(c))
//	c.Advance(10 * time.Minute) // entries with a shorter TTL are gone
//
// # Events
//
// The [Events] fake delivers each event within Publish, synchronously, to
// the subscribers of every plugin of the backend, and records what was
// published. A test publishes as a plugin would and reads what the plugins
// published:
//
//	ev := mockservices.Events()
//	tb := testbackend.Start(t, todo.Plugin, mockservices.EventsFactory(ev))
//	e, _ := core.NewEvent("catalog.entity.deleted", map[string]string{"ref": "component:default/x"})
//	if err := ev.Publish(ctx, e); err != nil { // the handlers' errors
//		t.Fatal(err)
//	}
//	got := ev.PublishedOn("todo.completed")
//
// # Permissions and audit events
//
// The [Permissions] fake decides by rule ([AllowPermission],
// [DenyPermission], [ConditionalPermission], narrowed with ForUser or
// ForService; unmatched requests are allowed unless [DenyUnmatched]), or
// with a real policy through [PermissionsWithPolicy], and records every
// question. The [Auditor] fake records events instead of logging them:
//
//	p := mockservices.Permissions(mockservices.DenyPermission("todo.item.delete"))
//	a := mockservices.Auditor()
//	tb := testbackend.Start(t, todo.Plugin, mockservices.PermissionsFactory(p), mockservices.AuditorFactory(a))
//	// ... a request that deletes an item ...
//	if ev := a.EventsWithID("todo-delete"); len(ev) != 1 || ev[0].Status != mockservices.AuditFailed {
//		t.Errorf("todo-delete events = %v, want one failed", ev)
//	}
//
// # URL reader
//
// The [URLReader] fake reads from an in-memory map of files, URL to
// content, and records the URLs read ([URLReaderService.Reads]): a test
// publishes files with [URLReaderService.Set] and a tree as the files under
// its URL. It has no allow-list; the production reader's rules are tested in
// package defaults/urlreader.
//
// # Lifecycle
//
// The lifecycle services are built into the backend engine, which runs each
// plugin's hooks as it starts and stops, so they cannot be replaced and
// have no factory here. [Lifecycle] is a standalone fake for unit tests of
// code that takes a core.Lifecycle: the test runs the hooks itself. The
// instance metadata is built in too; [InstanceMetadata] is its standalone
// fake.
package mockservices
