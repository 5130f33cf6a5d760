// Package servicetest holds conformance suites for implementations of the
// core service interfaces, in the manner of testing/slogtest: the
// production services of the defaults packages and the fakes of package
// mockservices run the same checks, so that a fake cannot drift from the
// real thing.
//
// Each suite is a function that takes the *testing.T of the calling test
// and a constructor (or an environment) of the implementation under test,
// and runs one subtest per contract, named after it. A failure says which
// contract was broken:
//
//	func TestMyDiscovery(t *testing.T) {
//		servicetest.TestDiscovery(t, func(t *testing.T) core.Discovery {
//			return mydiscovery.New("https://example.com")
//		})
//	}
//
// The suites check what the core interfaces document, and the messages users
// see most (such as "Missing credentials"), not details an implementation is
// free to choose.
package servicetest
