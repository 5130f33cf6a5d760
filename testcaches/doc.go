// Package testcaches runs one test on each production cache store, in
// memory and in Redis, giving every test an isolated store.
//
//	func TestCatalogCache(t *testing.T) {
//		t.Parallel()
//		testcaches.New(t).Each(t, func(t *testing.T, c *testcaches.Cache) {
//			t.Parallel()
//			tb := testbackend.Start(t, catalog.Plugin, c.Factory())
//			// ...
//		})
//	}
//
// [Set.Each] runs one subtest per engine, named after it ("memory",
// "redis7"), so go test -run 'TestCatalogCache/redis7' picks one.
// [Set.Init] gives one test a store of one engine.
//
// # What a test gets
//
// A [Cache]: the engine's production store (package defaults/cache), which
// no other test sees, its factory for a test backend ([Cache.Factory]) and
// a plugin's view of it ([Cache.ForPlugin]). A memory store is the test's
// own; on Redis, the test's keys share a unique prefix ([Cache.KeyPrefix])
// and are deleted (SCAN and UNLINK by prefix) when the test ends, so
// parallel tests never see each other's keys.
//
// # Where engines come from
//
// Memory needs nothing. Redis comes from the connection string in
// GREENROOM_TEST_CACHE_REDIS7_CONNECTION_STRING (for example
// redis://127.0.0.1:6379/0); when it is not set, the engine's subtests skip
// with a message naming the variable, and with CI=true they fail instead.
// A connection string that is set but does not work always fails.
//
// With [WithContainerProvider], an engine whose variable is not set is
// started in a container instead, once per test binary ([SpecFor] says
// which). The provider interface has the shape of testdatabases'; this
// package ships no implementation, so that no container SDK is compiled
// into test binaries that do not ask for one.
//
// # Process-wide state
//
// One Redis client per connection string is shared by the tests of a
// binary, in an unexported, mutex-guarded map: a connection pool per test
// would cost a dial per test. Nothing in it can be changed by users.
//
// docs/cache.md shows the matrix, the fake of package mockservices, and
// how to run Redis locally and in CI.
package testcaches
