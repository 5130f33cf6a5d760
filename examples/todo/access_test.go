package todo_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/permissions"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/examples/todo"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/mockservices/mockcreds"
	"github.com/greenroom-dev/greenroom/testbackend"
	"github.com/greenroom-dev/greenroom/testcaches"
	"github.com/greenroom-dev/greenroom/testdatabases"
)

const (
	carol  = "user:default/carol"
	admins = "group:default/admins"
)

// asAdmin is carol, a member of the admin group.
func asAdmin(r *testbackend.Request) *testbackend.Request {
	return r.WithHeader("Authorization", mockcreds.User(carol).WithOwnership(admins).Header())
}

// TestOnlyOwnerOrAdminMayDelete: a todo can be deleted by its owner and by
// a member of the admin group, by nobody else, and every attempt is
// audited with its caller and outcome. It runs with the permissions fake
// deciding as production's default policy, and with the production
// permissions services configured with permission.admins, on every
// database engine.
func TestOnlyOwnerOrAdminMayDelete(t *testing.T) {
	t.Parallel()
	setups := []struct {
		name     string
		features func() []backend.Feature
		config   map[string]any
	}{
		{"fake", func() []backend.Feature {
			return []backend.Feature{mockservices.PermissionsFactory(mockservices.Permissions(mockservices.PermissionAdmins(admins)))}
		}, nil},
		{"production", func() []backend.Feature {
			return []backend.Feature{permissions.Factory(), permissions.PolicyFactory()}
		}, map[string]any{"permission.admins": []any{admins}}},
	}
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			testdatabases.New(t, testdatabases.WithMigrator(todo.Migrations)).Each(t, func(t *testing.T, db *testdatabases.DB) {
				t.Parallel()
				a := mockservices.Auditor()
				features := append([]backend.Feature{todo.Plugin, mockservices.AuditorFactory(a),
					mockservices.DatabaseFactory(t, mockservices.FromTestDatabase(db))}, s.features()...)
				tb := testbackend.New(testbackend.WithConfig(s.config)).Start(t, features...)
				for _, title := range []string{"one", "two"} {
					tb.Post("/api/todo/todos", map[string]any{"title": title}).AsUser(alice).Do(t).ExpectStatus(t, http.StatusCreated)
				}

				// Bob is neither the owner nor an admin: 404, as for a
				// missing todo, and the todo is still there.
				tb.Delete("/api/todo/todos/1").AsUser(bob).Do(t).ExpectError(t, errs.NotFound)
				tb.Get("/api/todo/todos/1").AsUser(alice).Do(t).ExpectStatus(t, http.StatusOK)
				// A service is not a user: todo's routes refuse it.
				tb.Delete("/api/todo/todos/1").AsService("plugin:other").Do(t).ExpectStatus(t, http.StatusForbidden)
				// An admin deletes alice's todo; alice deletes her own.
				asAdmin(tb.Delete("/api/todo/todos/1")).Do(t).ExpectStatus(t, http.StatusNoContent)
				tb.Delete("/api/todo/todos/2").AsUser(alice).Do(t).ExpectStatus(t, http.StatusNoContent)
				tb.Get("/api/todo/todos").AsUser(alice).Do(t).ExpectJSON(t, list{Items: []todo.Todo{}})
				// A missing todo, for an admin too.
				asAdmin(tb.Delete("/api/todo/todos/1")).Do(t).ExpectError(t, errs.NotFound)

				type audit struct {
					actor  string
					status mockservices.AuditStatus
					err    string
				}
				want := []audit{
					{bob, mockservices.AuditFailed, "todo 1 not found"},
					{"plugin:other", mockservices.AuditFailed, "NotAllowedError"},
					{carol, mockservices.AuditSucceeded, ""},
					{alice, mockservices.AuditSucceeded, ""},
					{carol, mockservices.AuditFailed, "todo 1 not found"},
				}
				got := a.EventsWithID(todo.AuditDelete)
				if len(got) != len(want) {
					t.Fatalf("%d %s audit events, want %d: %+v", len(got), todo.AuditDelete, len(want), got)
				}
				for i, w := range want {
					g := got[i]
					if g.ActorSubject != w.actor || g.Status != w.status || g.Method != http.MethodDelete || g.Severity != core.SeverityMedium {
						t.Errorf("event %d: actor %q status %s method %s severity %s, want %q %s DELETE medium", i, g.ActorSubject, g.Status, g.Method, g.Severity, w.actor, w.status)
					}
					if w.err != "" && (g.Err == nil || !strings.Contains(g.Err.Error(), w.err)) {
						t.Errorf("event %d: error %v, want one containing %q", i, g.Err, w.err)
					}
					if w.err == "" && g.Err != nil {
						t.Errorf("event %d: error %v, want none", i, g.Err)
					}
				}
			})
		})
	}
}

// denyDeletes is a policy module: it replaces the default policy, denying
// todo deletes to everyone and delegating the rest.
func denyDeletes(t *testing.T) *backend.ServiceFactory {
	return backend.NewRootServiceFactory(core.PermissionPolicyRef, func(context.Context, struct{}) (core.PermissionPolicy, error) {
		def, err := permissions.OwnershipPolicy()
		if err != nil {
			return nil, err
		}
		return core.PermissionPolicyFunc(func(ctx context.Context, q core.PolicyQuery) (core.PermissionDecision, error) {
			if q.Request.Permission == todo.DeletePermission {
				return core.PermissionDecision{Result: core.Deny, Reason: "deletes are frozen"}, nil
			}
			return def.Decide(ctx, q)
		}), nil
	})
}

// TestPolicyModuleDecidesDeletes: a policy module replaces the default
// policy; the owner then gets 403 (she can see the todo), and the todo
// stays.
func TestPolicyModuleDecidesDeletes(t *testing.T) {
	t.Parallel()
	a := mockservices.Auditor()
	tb := testbackend.Start(t, todo.Plugin, permissions.Factory(), denyDeletes(t), mockservices.AuditorFactory(a))
	tb.Post("/api/todo/todos", map[string]any{"title": "keep"}).AsUser(alice).Do(t).ExpectStatus(t, http.StatusCreated)
	tb.Delete("/api/todo/todos/1").AsUser(alice).Do(t).ExpectError(t, errs.NotAllowed)
	tb.Get("/api/todo/todos/1").AsUser(alice).Do(t).ExpectStatus(t, http.StatusOK)
	if ev := a.EventsWithID(todo.AuditDelete); len(ev) != 1 || ev[0].Status != mockservices.AuditFailed || !errs.Is(ev[0].Err, errs.NotAllowed) {
		t.Errorf("audit events %+v, want one failed with a NotAllowed error", ev)
	}
}

// TestDeleteAsksForThePermission: the question todo asks, as the fake
// records it, and a rule that denies one user.
func TestDeleteAsksForThePermission(t *testing.T) {
	t.Parallel()
	p := mockservices.Permissions(mockservices.AllowPermission(todo.DeletePermission.Name).ForUser(bob))
	tb := testbackend.Start(t, todo.Plugin, mockservices.PermissionsFactory(p))
	tb.Post("/api/todo/todos", map[string]any{"title": "x"}).AsUser(alice).Do(t).ExpectStatus(t, http.StatusCreated)
	tb.Delete("/api/todo/todos/1").AsUser(bob).Do(t).ExpectStatus(t, http.StatusNoContent)
	calls := p.Calls()
	if len(calls) != 1 {
		t.Fatalf("calls %v, want 1", calls)
	}
	if got, want := calls[0].String(), "todo: credentials{user user:default/bob} todo.item.delete todo-item:1 = ALLOW"; got != want {
		t.Errorf("call %q, want %q", got, want)
	}
}

// TestPurgeIsAudited: each run of the purge task is an audit event of
// the plugin's own service credentials, with the number purged.
func TestPurgeIsAudited(t *testing.T) {
	t.Parallel()
	s, a := mockservices.Scheduler(), mockservices.Auditor()
	tb := testbackend.Start(t, todo.Plugin, mockservices.SchedulerFactory(s), mockservices.AuditorFactory(a))
	tb.Post("/api/todo/todos", map[string]any{"title": "x", "done": true}).AsUser(alice).Do(t).ExpectStatus(t, http.StatusCreated)
	if _, err := s.Run(context.Background(), todo.PluginID, todo.PurgeTaskID); err != nil {
		t.Fatal(err)
	}
	ev := a.EventsWithID(todo.AuditPurge)
	if len(ev) != 1 || ev[0].Status != mockservices.AuditSucceeded || ev[0].ActorSubject != "plugin:todo" || ev[0].Meta["count"] != int64(0) {
		t.Errorf("purge audit events %+v, want one succeeded by plugin:todo with count 0", ev)
	}
}

// TestCacheOnEveryStore runs reads through the cache on every cache engine
// (memory and Redis) and checks that changes and deletes never leave a
// stale todo behind.
func TestCacheOnEveryStore(t *testing.T) {
	t.Parallel()
	testcaches.New(t).Each(t, func(t *testing.T, c *testcaches.Cache) {
		t.Parallel()
		tb := testbackend.Start(t, todo.Plugin, c.Factory())
		cache := c.ForPlugin(todo.PluginID)
		ctx := context.Background()
		tb.Post("/api/todo/todos", map[string]any{"title": "milk"}).AsUser(alice).Do(t).ExpectStatus(t, http.StatusCreated)
		if _, ok, err := cache.Get(ctx, "item:1"); err != nil || ok {
			t.Fatalf("cached before the first read: ok=%v err=%v", ok, err)
		}
		tb.Get("/api/todo/todos/1").AsUser(alice).Do(t).ExpectJSON(t, todo.Todo{ID: 1, Title: "milk"}, ignoreTimes)
		if _, ok, err := cache.Get(ctx, "item:1"); err != nil || !ok {
			t.Fatalf("not cached after a read: ok=%v err=%v", ok, err)
		}
		// Another user's read of a cached todo is still a 404.
		tb.Get("/api/todo/todos/1").AsUser(bob).Do(t).ExpectError(t, errs.NotFound)
		tb.Patch("/api/todo/todos/1", map[string]any{"done": true}).AsUser(alice).Do(t).ExpectStatus(t, http.StatusOK)
		tb.Get("/api/todo/todos/1").AsUser(alice).Do(t).ExpectJSON(t, todo.Todo{ID: 1, Title: "milk", Done: true}, ignoreTimes)
		tb.Delete("/api/todo/todos/1").AsUser(alice).Do(t).ExpectStatus(t, http.StatusNoContent)
		tb.Get("/api/todo/todos/1").AsUser(alice).Do(t).ExpectError(t, errs.NotFound)
		if _, ok, err := cache.Get(ctx, "item:1"); err != nil || ok {
			t.Fatalf("a deleted todo is still cached: ok=%v err=%v", ok, err)
		}
	})
}

// brokenCache is a cache whose store is down.
type brokenCache struct{}

var errDown = errs.NewServiceUnavailable("cache: the store is down")

func (brokenCache) Get(context.Context, string) ([]byte, bool, error)        { return nil, false, errDown }
func (brokenCache) Set(context.Context, string, []byte, time.Duration) error { return errDown }
func (brokenCache) Delete(context.Context, string) error                     { return errDown }
func (c brokenCache) WithDefaultTTL(time.Duration) core.Cache                { return c }

// TestCacheDownKeepsServing: the cache is not the source of truth; with
// its store down every route still answers from the database, and the
// failures are logged as warnings.
func TestCacheDownKeepsServing(t *testing.T) {
	t.Parallel()
	log := mockservices.Logger(t)
	tb := testbackend.Start(t, todo.Plugin, mockservices.Factory[core.Cache](core.CacheRef, brokenCache{}), mockservices.RootLoggerFactory(log))
	tb.Post("/api/todo/todos", map[string]any{"title": "milk"}).AsUser(alice).Do(t).ExpectStatus(t, http.StatusCreated)
	tb.Get("/api/todo/todos/1").AsUser(alice).Do(t).ExpectJSON(t, todo.Todo{ID: 1, Title: "milk"}, ignoreTimes)
	tb.Patch("/api/todo/todos/1", map[string]any{"done": true}).AsUser(alice).Do(t).ExpectStatus(t, http.StatusOK)
	tb.Delete("/api/todo/todos/1").AsUser(alice).Do(t).ExpectStatus(t, http.StatusNoContent)
	tb.Get("/api/todo/todos/1").AsUser(alice).Do(t).ExpectError(t, errs.NotFound)
	warned := log.Filter(func(r mockservices.LogRecord) bool {
		return r.Level == slog.LevelWarn && strings.Contains(r.Message, "todo cache")
	})
	if len(warned) < 3 { // the read, the write after it, the uncaching
		t.Errorf("%d warnings about the cache, want at least 3: %v", len(warned), warned)
	}
}
