package mockservices

// The conformance suites of package servicetest, run against the fakes.
// Package servicetest runs them against the production services.

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/httprouter"
	"github.com/greenroom-dev/greenroom/mockservices/mockcreds"
	"github.com/greenroom-dev/greenroom/servicetest"
)

func TestConformanceConfig(t *testing.T) {
	servicetest.TestConfig(t, func(t *testing.T, data map[string]any) core.Config { return Config(data) })
}

func TestConformanceLogger(t *testing.T) {
	servicetest.TestLogger(t, func(t *testing.T) (core.Logger, func() []map[string]any) {
		l := Logger(t)
		return l, func() []map[string]any {
			var out []map[string]any
			for _, r := range l.Records() {
				out = append(out, slogtestMap(r))
			}
			return out
		}
	})
}

// slogtestMap turns a captured record into the map form of testing/slogtest,
// nesting the dotted keys of groups.
func slogtestMap(r LogRecord) map[string]any {
	m := map[string]any{"level": r.Level.String(), "msg": r.Message}
	for k, v := range r.Attrs {
		parts := strings.Split(k, ".")
		cur := m
		for _, p := range parts[:len(parts)-1] {
			next, ok := cur[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				cur[p] = next
			}
			cur = next
		}
		cur[parts[len(parts)-1]] = v
	}
	return m
}

func mockAuthEnv(t *testing.T) servicetest.AuthEnv {
	return servicetest.AuthEnv{
		Auth: func(pluginID string) core.Auth { return Auth(pluginID) },
		UserToken: func(ref string, ownership ...string) string {
			if len(ownership) == 0 {
				return mockcreds.User(ref).Token()
			}
			return mockcreds.User(ref).WithOwnership(ownership...).Token()
		},
		HTTPAuth: func(a core.Auth) core.HTTPAuth { return HTTPAuth(a) },
		UserInfo: func() core.UserInfo { return UserInfo() },
	}
}

func TestConformanceAuth(t *testing.T)     { servicetest.TestAuth(t, mockAuthEnv) }
func TestConformanceHTTPAuth(t *testing.T) { servicetest.TestHTTPAuth(t, mockAuthEnv) }
func TestConformanceUserInfo(t *testing.T) { servicetest.TestUserInfo(t, mockAuthEnv) }

func TestConformanceDiscovery(t *testing.T) {
	for _, base := range []string{"", "http://127.0.0.1:4567/"} {
		t.Run(fmt.Sprintf("Discovery(%q)", base), func(t *testing.T) {
			servicetest.TestDiscovery(t, func(t *testing.T) core.Discovery { return Discovery(base) })
		})
	}
	t.Run("DiscoveryFactory", func(t *testing.T) {
		servicetest.TestDiscovery(t, func(t *testing.T) core.Discovery {
			return resolve(t, startBackend(t), core.DiscoveryRef, "todo")
		})
	})
}

func TestConformanceDatabase(t *testing.T) {
	t.Run("Database", func(t *testing.T) {
		servicetest.TestDatabase(t, func(t *testing.T, _ string) core.Database { return Database(t) })
	})
	t.Run("DatabaseFactory", func(t *testing.T) {
		backends := map[*testing.T]*backend.Backend{}
		servicetest.TestDatabase(t, func(t *testing.T, pluginID string) core.Database {
			if backends[t] == nil {
				backends[t] = startBackend(t)
			}
			return resolve(t, backends[t], core.DatabaseRef, pluginID)
		})
	})
}

func TestConformanceRootHealth(t *testing.T) {
	servicetest.TestRootHealth(t, func(t *testing.T, lc core.RootLifecycle) core.RootHealth {
		h := RootHealth()
		if err := h.followLifecycle(lc); err != nil {
			t.Fatal(err)
		}
		return h
	})
}

func TestConformanceLifecycle(t *testing.T) {
	servicetest.TestLifecycle(t, func(t *testing.T, init func(core.Lifecycle)) (start, stop func(context.Context) error) {
		lc := Lifecycle()
		init(lc)
		return lc.RunStartupHooks, lc.RunShutdownHooks
	})
}

// TestConformanceHTTPRouter runs the router suite on the production router
// with the fake auth services, as a test backend wires them.
func TestConformanceHTTPRouter(t *testing.T) {
	servicetest.TestHTTPRouter(t, func(t *testing.T, setup func(core.HTTPRouter)) servicetest.RouterEnv {
		ctx := context.Background()
		a := Auth("todo")
		lc := Lifecycle()
		rt, err := httprouter.New(httprouter.Options{PluginID: "todo", Auth: a, HTTPAuth: HTTPAuth(a), Lifecycle: lc})
		if err != nil {
			t.Fatal(err)
		}
		setup(rt)
		root := httprouter.NewRoot(httprouter.RootOptions{})
		if err := root.Use(rt.MountPath(), rt); err != nil {
			t.Fatal(err)
		}
		if err := lc.RunStartupHooks(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = lc.RunShutdownHooks(ctx) })
		return servicetest.RouterEnv{
			Handler:    root.Handler(),
			MountPath:  rt.MountPath(),
			UserHeader: mockcreds.User("user:default/alice").Header(),
			UserCookie: mockcreds.LimitedUser("user:default/alice").Cookie(),
		}
	})
}

// startBackend starts a backend with the mock defaults and the given
// features, stopped when the test ends.
func startBackend(t *testing.T, features ...backend.Feature) *backend.Backend {
	t.Helper()
	b := backend.New(backend.WithDefaults(DefaultFactories(t)...))
	if err := b.Add(features...); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Stop(context.Background()); err != nil {
			t.Errorf("stopping the backend: %v", err)
		}
	})
	return b
}

func resolve[T any](t *testing.T, b *backend.Backend, ref core.ServiceRef[T], pluginID string) T {
	t.Helper()
	v, err := backend.Resolve(context.Background(), b, ref, pluginID)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestConformanceScheduler(t *testing.T) {
	t.Parallel()
	servicetest.TestScheduler(t, func(t testing.TB) core.Scheduler {
		s := Scheduler()
		t.Cleanup(func() { _ = s.Stop(context.Background()) })
		return s.ForPlugin("servicetest")
	})
}

func TestConformanceCache(t *testing.T) {
	t.Parallel()
	servicetest.TestCache(t, func(t *testing.T) servicetest.CacheEnv {
		c := Cache()
		return servicetest.CacheEnv{ForPlugin: c.ForPlugin, Advance: c.Advance}
	})
}

func TestConformanceEvents(t *testing.T) {
	t.Parallel()
	servicetest.TestEvents(t, func(t *testing.T) servicetest.EventsEnv {
		e := Events()
		return servicetest.EventsEnv{ForPlugin: e.ForPlugin}
	})
}

func TestConformancePermissions(t *testing.T) {
	t.Parallel()
	servicetest.TestPermissions(t, func(t *testing.T, policy core.PermissionPolicy) core.Permissions {
		return PermissionsWithPolicy(policy).ForPlugin("todo")
	})
}

func TestConformanceAuditor(t *testing.T) {
	t.Parallel()
	servicetest.TestAuditor(t, func(t *testing.T, pluginID string) (core.Auditor, func() []servicetest.AuditRecord) {
		a := Auditor()
		return a.ForPlugin(pluginID), func() []servicetest.AuditRecord { return auditRecords(a.Events()) }
	})
}

// auditRecords are the fake's events as the suite reads them: one record
// per event, in its current state.
func auditRecords(events []AuditRecord) []servicetest.AuditRecord {
	var out []servicetest.AuditRecord
	for _, e := range events {
		r := servicetest.AuditRecord{Plugin: e.PluginID, EventID: e.EventID, Severity: string(e.Severity),
			ActorSubject: e.ActorSubject, ActorType: string(e.Actor.Type), Method: e.Method, URL: e.URL,
			Meta: e.Meta, Status: string(e.Status)}
		if e.Status == AuditOpen {
			r.Status = "initiated"
		}
		if e.Err != nil {
			r.Error = e.Err.Error()
		}
		out = append(out, r)
	}
	return out
}
