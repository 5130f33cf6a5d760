package servicetest_test

// The suites take the *testing.T of a test, so these examples are compiled
// but not run: each shows the test function that runs a suite. The tests of
// this package and of package mockservices run every suite for real.

import (
	"context"
	"net/http"
	"testing"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/config"
	"github.com/greenroom-dev/greenroom/defaults/discovery"
	"github.com/greenroom-dev/greenroom/defaults/health"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/mockservices/mockcreds"
	"github.com/greenroom-dev/greenroom/servicetest"
)

var t = new(testing.T) // the test's t

func ExampleTestConfig() {
	servicetest.TestConfig(t, func(t *testing.T, data map[string]any) core.Config {
		c, err := config.FromMap(data)
		if err != nil {
			t.Fatal(err)
		}
		return c
	})
}

func ExampleTestLogger() {
	servicetest.TestLogger(t, func(t *testing.T) (core.Logger, func() []map[string]any) {
		log := mockservices.Logger(t)
		return log, func() []map[string]any {
			var records []map[string]any
			for _, r := range log.Records() {
				m := map[string]any{"level": r.Level.String(), "msg": r.Message}
				for k, v := range r.Attrs { // nest dotted group keys here
					m[k] = v
				}
				records = append(records, m)
			}
			return records
		}
	})
}

func ExampleTestAuth() {
	servicetest.TestAuth(t, func(t *testing.T) servicetest.AuthEnv {
		return servicetest.AuthEnv{
			Auth: func(pluginID string) core.Auth { return mockservices.Auth(pluginID) },
			UserToken: func(ref string, ownership ...string) string {
				return mockcreds.User(ref).WithOwnership(ownership...).Token()
			},
		}
	})
}

func ExampleTestHTTPAuth() {
	servicetest.TestHTTPAuth(t, func(t *testing.T) servicetest.AuthEnv {
		return servicetest.AuthEnv{
			Auth:      func(pluginID string) core.Auth { return mockservices.Auth(pluginID) },
			UserToken: func(ref string, _ ...string) string { return mockcreds.User(ref).Token() },
			HTTPAuth:  func(a core.Auth) core.HTTPAuth { return mockservices.HTTPAuth(a) },
		}
	})
}

func ExampleTestUserInfo() {
	servicetest.TestUserInfo(t, func(t *testing.T) servicetest.AuthEnv {
		return servicetest.AuthEnv{
			Auth: func(pluginID string) core.Auth { return mockservices.Auth(pluginID) },
			UserToken: func(ref string, ownership ...string) string {
				return mockcreds.User(ref).WithOwnership(ownership...).Token()
			},
			UserInfo: func() core.UserInfo { return mockservices.UserInfo() },
		}
	})
}

func ExampleTestDiscovery() {
	servicetest.TestDiscovery(t, func(t *testing.T) core.Discovery {
		cfg, _ := config.FromMap(map[string]any{"backend": map[string]any{"baseUrl": "https://example.com"}})
		d, err := discovery.New(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		return d
	})
}

func ExampleTestDatabase() {
	servicetest.TestDatabase(t, func(t *testing.T, pluginID string) core.Database {
		return mockservices.Database(t) // a new database per call: isolated
	})
}

func ExampleTestRootHealth() {
	servicetest.TestRootHealth(t, func(t *testing.T, lc core.RootLifecycle) core.RootHealth {
		h, err := health.New(lc)
		if err != nil {
			t.Fatal(err)
		}
		return h
	})
}

func ExampleTestLifecycle() {
	servicetest.TestLifecycle(t, func(t *testing.T, init func(core.Lifecycle)) (start, stop func(context.Context) error) {
		lc := mockservices.Lifecycle()
		init(lc)
		return lc.RunStartupHooks, lc.RunShutdownHooks
	})
}

func ExampleTestHTTPRouter() {
	servicetest.TestHTTPRouter(t, func(t *testing.T, setup func(core.HTTPRouter)) servicetest.RouterEnv {
		var router core.HTTPRouter // build the plugin router under test
		var root http.Handler      // and the handler that serves it at /api/todo
		setup(router)
		// start the router, then:
		return servicetest.RouterEnv{
			Handler:    root,
			MountPath:  "/api/todo",
			UserHeader: mockcreds.User().Header(),
			UserCookie: mockcreds.LimitedUser().Cookie(),
		}
	})
}

func ExampleTestEvents() {
	servicetest.TestEvents(t, func(t *testing.T) servicetest.EventsEnv {
		ev := mockservices.Events() // or a bus of the implementation under test
		return servicetest.EventsEnv{ForPlugin: ev.ForPlugin}
	})
}

func ExampleTestPermissions() {
	// An implementation that takes its policy, such as the fake.
	servicetest.TestPermissions(t, func(t *testing.T, policy core.PermissionPolicy) core.Permissions {
		return mockservices.PermissionsWithPolicy(policy).ForPlugin("todo")
	})
}

func ExampleTestAuditor() {
	servicetest.TestAuditor(t, func(t *testing.T, pluginID string) (core.Auditor, func() []servicetest.AuditRecord) {
		a := mockservices.Auditor()
		return a.ForPlugin(pluginID), func() []servicetest.AuditRecord {
			var out []servicetest.AuditRecord
			for _, e := range a.Events() { // one record per event, in its current state
				status := string(e.Status)
				if e.Status == mockservices.AuditOpen {
					status = "initiated"
				}
				r := servicetest.AuditRecord{Plugin: e.PluginID, EventID: e.EventID, Severity: string(e.Severity),
					ActorSubject: e.ActorSubject, ActorType: string(e.Actor.Type), Method: e.Method, URL: e.URL, Meta: e.Meta, Status: status}
				if e.Err != nil {
					r.Error = e.Err.Error()
				}
				out = append(out, r)
			}
			return out
		}
	})
}
