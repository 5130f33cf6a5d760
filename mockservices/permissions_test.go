package mockservices_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/mockservices/mockcreds"
	"github.com/greenroom-dev/greenroom/testbackend"
)

func TestPermissionsRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	owner := core.PermissionCondition{Rule: core.IsOwnerRule, Params: map[string]any{"claims": []string{"user:default/alice"}}}
	p := mockservices.Permissions(
		mockservices.DenyPermission("todo.item.delete"),
		mockservices.AllowPermission("todo.item.delete").ForUser("user:default/admin"),
		mockservices.AllowPermission("todo.item.delete").ForService("plugin:catalog"),
		mockservices.ConditionalPermission("todo.item.update", owner),
	)
	del := core.PermissionRequest{Permission: core.Permission{Name: "todo.item.delete", ResourceType: "todo-item"}, ResourceRef: "todo-item:1"}
	upd := core.PermissionRequest{Permission: core.Permission{Name: "todo.item.update", ResourceType: "todo-item"}}
	other := core.PermissionRequest{Permission: core.Permission{Name: "todo.list.read"}}
	tests := []struct {
		name   string
		caller mockcreds.Caller
		req    core.PermissionRequest
		want   core.PermissionResult
	}{
		{"a general rule", mockcreds.User("user:default/alice"), del, core.Deny},
		{"a later rule for the user", mockcreds.User("user:default/admin"), del, core.Allow},
		{"a rule for another user", mockcreds.User("user:default/bob"), del, core.Deny},
		{"a later rule for the service", mockcreds.ServiceCaller(mockcreds.ServiceOptions{Subject: "plugin:catalog"}), del, core.Allow},
		{"a rule for another service", mockcreds.ServiceCaller(mockcreds.ServiceOptions{Subject: "plugin:search"}), del, core.Deny},
		{"a user rule does not match a service", mockcreds.ServiceCaller(mockcreds.ServiceOptions{Subject: "user:default/admin"}), del, core.Deny},
		{"a conditional rule", mockcreds.User("user:default/alice"), upd, core.Conditional},
		{"no rule: allowed", mockcreds.User("user:default/alice"), other, core.Allow},
		{"none credentials, whatever the rules", mockcreds.None(), other, core.Deny},
		{"limited credentials, whatever the rules", mockcreds.LimitedUser("user:default/admin"), del, core.Deny},
	}
	for _, tt := range tests {
		ds, err := p.Authorize(ctx, tt.caller.Credentials(), tt.req)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if ds[0].Result != tt.want {
			t.Errorf("%s: %s = %s, want %s", tt.name, tt.caller, ds[0].Result, tt.want)
		}
	}
	calls := p.Calls()
	if len(calls) != len(tests) {
		t.Fatalf("Calls() = %d, want %d", len(calls), len(tests))
	}
	for i, c := range calls {
		if c.PluginID != "test" || c.Request != tests[i].req || c.Decision.Result != tests[i].want || c.Credentials.Principal != tests[i].caller.Credentials().Principal {
			t.Errorf("call %d = %v, want the question of %q", i, c, tests[i].name)
		}
	}
}

func TestPermissionsDenyUnmatchedAndErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := mockservices.Permissions(mockservices.DenyUnmatched(),
		mockservices.ConditionalPermission("todo.list.read", core.PermissionCondition{Rule: core.IsOwnerRule}))
	alice := mockcreds.User("user:default/alice").Credentials()
	ds, err := p.Authorize(ctx, alice, core.PermissionRequest{Permission: core.Permission{Name: "todo.list.export"}})
	if err != nil || ds[0].Result != core.Deny {
		t.Errorf("unmatched with DenyUnmatched = %v, %v, want DENY", ds, err)
	}
	_, err = p.Authorize(ctx, alice, core.PermissionRequest{Permission: core.Permission{Name: "todo.list.read"}})
	if err == nil || !strings.Contains(err.Error(), "todo.list.read") {
		t.Errorf("a conditional rule for a basic permission = %v, want an error naming it", err)
	}
	if _, err := p.Authorize(ctx, alice, core.PermissionRequest{}); !errs.Is(err, errs.Input) {
		t.Errorf("an empty request = %v, want an errs.Input", err)
	}
	if n := len(p.Calls()); n != 1 {
		t.Errorf("Calls() = %d, want 1: errors record nothing", n)
	}
}

func TestPermissionsWithPolicy(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	p := mockservices.PermissionsWithPolicy(core.PermissionPolicyFunc(func(_ context.Context, q core.PolicyQuery) (core.PermissionDecision, error) {
		if q.User == nil || q.User.UserEntityRef != "user:default/alice" || !cmp.Equal(q.User.OwnershipEntityRefs, []string{"group:default/team"}) {
			return core.PermissionDecision{}, boom
		}
		return core.PermissionDecision{Result: core.Allow}, nil
	}))
	alice := mockcreds.User("user:default/alice").WithOwnership("group:default/team").Credentials()
	if ds, err := p.ForPlugin("todo").Authorize(context.Background(), alice, core.PermissionRequest{Permission: core.Permission{Name: "x"}}); err != nil || ds[0].Result != core.Allow {
		t.Errorf("Authorize = %v, %v, want ALLOW with the user's details given to the policy", ds, err)
	}
	if c := p.Calls(); len(c) != 1 || c[0].PluginID != "todo" {
		t.Errorf("Calls() = %v, want one of plugin todo", c)
	}
}

// asker is a plugin that depends on permissions and the auditor.
var asker = backend.NewPlugin("asker", backend.Init(func(context.Context, struct {
	Permissions core.Permissions
	Auditor     core.Auditor
}) error {
	return nil
}))

// TestPermissionsAndAuditorFactoriesPerBackend checks that with a nil
// fake each backend has its own, and that a given fake serves the
// plugins of its backend.
func TestPermissionsAndAuditorFactoriesPerBackend(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := mockservices.Permissions(mockservices.DenyUnmatched())
	a := mockservices.Auditor()
	given := testbackend.Start(t, asker, mockservices.PermissionsFactory(p), mockservices.AuditorFactory(a))
	ds, err := testbackend.Service(t, given, core.PermissionsRef, "asker").Authorize(ctx, mockcreds.User().Credentials(), core.PermissionRequest{Permission: core.Permission{Name: "x"}})
	if err != nil || ds[0].Result != core.Deny || len(p.Calls()) != 1 || p.Calls()[0].PluginID != "asker" {
		t.Errorf("the given fake: %v, %v, calls %v", ds, err, p.Calls())
	}
	req := httptest.NewRequest("GET", "/api/asker/x", nil)
	req.Header.Set("Authorization", mockcreds.User("user:default/alice").Header())
	if _, err := testbackend.Service(t, given, core.AuditorRef, "asker").CreateEvent(ctx, core.AuditEventOptions{EventID: "asker-x", Request: req}); err != nil {
		t.Fatal(err)
	}
	if e := a.EventsWithID("asker-x"); len(e) != 1 || e[0].ActorSubject != "user:default/alice" || e[0].PluginID != "asker" {
		t.Errorf("the given auditor's events = %+v, want alice's, read by the plugin's httpAuth", e)
	}

	for range 2 {
		tb := testbackend.Start(t, asker)
		ds, err := testbackend.Service(t, tb, core.PermissionsRef, "asker").Authorize(ctx, mockcreds.User().Credentials(), core.PermissionRequest{Permission: core.Permission{Name: "x"}})
		if err != nil || ds[0].Result != core.Allow {
			t.Errorf("the default fake: %v, %v, want ALLOW", ds, err)
		}
		if _, err := testbackend.Service(t, tb, core.AuditorRef, "asker").CreateEvent(ctx, core.AuditEventOptions{EventID: "asker-x"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(p.Calls()); n != 1 {
		t.Errorf("the given fake answered %d questions, want 1: the other backends have their own", n)
	}
	if n := len(a.Events()); n != 1 {
		t.Errorf("the given auditor recorded %d events, want 1", n)
	}
}
