package permissions_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/permissions"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/mockservices/mockcreds"
	"github.com/greenroom-dev/greenroom/testbackend"
)

var (
	read = core.PermissionRequest{Permission: core.Permission{Name: "todo.list.read", Action: core.ActionRead}}
	del  = core.PermissionRequest{Permission: core.Permission{Name: "todo.item.del", Action: core.ActionDelete, ResourceType: "todo-item"}, ResourceRef: "todo-item:42"}
)

func TestOwnershipPolicy(t *testing.T) {
	t.Parallel()
	p, err := permissions.OwnershipPolicy("group:default/admins", "User:default/root")
	if err != nil {
		t.Fatal(err)
	}
	alice := mockcreds.User("user:default/alice").WithOwnership("user:default/alice", "group:default/team").Credentials()
	aliceDetails := &core.UserDetails{UserEntityRef: "user:default/alice", OwnershipEntityRefs: []string{"user:default/alice", "group:default/team"}}
	owns := func(claims ...string) *core.PermissionCondition {
		return &core.PermissionCondition{Rule: core.IsOwnerRule, Params: map[string]any{"claims": claims}}
	}
	tests := []struct {
		name string
		q    core.PolicyQuery
		want core.PermissionResult
		cond *core.PermissionCondition
	}{
		{"a service, a resource permission", core.PolicyQuery{Request: del, Credentials: mockcreds.ServiceCaller(mockcreds.ServiceOptions{}).Credentials()}, core.Allow, nil},
		{"a user, a basic permission", core.PolicyQuery{Request: read, Credentials: alice, User: aliceDetails}, core.Allow, nil},
		{"a user, a resource permission", core.PolicyQuery{Request: del, Credentials: alice, User: aliceDetails}, core.Conditional, owns("user:default/alice", "group:default/team")},
		{"a member of an admin group", core.PolicyQuery{Request: del, Credentials: alice,
			User: &core.UserDetails{UserEntityRef: "user:default/alice", OwnershipEntityRefs: []string{"group:default/admins"}}}, core.Allow, nil},
		{"an admin user, the kind's case aside", core.PolicyQuery{Request: del, Credentials: alice,
			User: &core.UserDetails{UserEntityRef: "user:default/root"}}, core.Allow, nil},
		{"neither user nor service", core.PolicyQuery{Request: read}, core.Deny, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := p.Decide(context.Background(), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if d.Result != tt.want || d.Reason == "" {
				t.Errorf("Decide = %s (reason %q), want %s with a reason", d.Result, d.Reason, tt.want)
			}
			if diff := cmp.Diff(tt.cond, d.Conditions); diff != "" {
				t.Errorf("conditions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOwnershipPolicyInvalidAdmin(t *testing.T) {
	t.Parallel()
	_, err := permissions.OwnershipPolicy("group:default/admins", "admins")
	if err == nil || !strings.Contains(err.Error(), `"admins"`) {
		t.Errorf("OwnershipPolicy with an invalid ref = %v, want an error naming it", err)
	}
}

// checker is a plugin that depends on the permissions service.
var checker = backend.NewPlugin("todo", backend.Init(func(context.Context, struct{ Permissions core.Permissions }) error { return nil }))

func TestPolicyFactoryConfig(t *testing.T) {
	t.Parallel()
	admin := mockcreds.User("user:default/bob").WithOwnership("group:default/admins")
	alice := mockcreds.User("user:default/alice")
	tests := []struct {
		name   string
		config map[string]any
		caller mockcreds.Caller
		want   core.PermissionResult
	}{
		{"by default a user's resource permission is conditional", nil, alice, core.Conditional},
		{"by default an admin group is nothing special", nil, admin, core.Conditional},
		{"an admin is allowed everything", map[string]any{"permission.admins": []any{"group:default/admins"}}, admin, core.Allow},
		{"disabled allows everything", map[string]any{"permission.enabled": false}, alice, core.Allow},
		{"enabled is the default", map[string]any{"permission.enabled": true}, alice, core.Conditional},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tb := testbackend.New(testbackend.WithConfig(tt.config)).Start(t, checker, permissions.Factory(), permissions.PolicyFactory())
			p := testbackend.Service(t, tb, core.PermissionsRef, "todo")
			ds, err := p.Authorize(context.Background(), tt.caller.Credentials(), del)
			if err != nil {
				t.Fatal(err)
			}
			if ds[0].Result != tt.want {
				t.Errorf("decision = %+v, want %s", ds[0], tt.want)
			}
		})
	}
}

func TestPolicyFactoryInvalidConfig(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		config map[string]any
		want   string
	}{
		{"an invalid admin ref", map[string]any{"permission.admins": []any{"group:default/admins", "bob"}}, "permission.admins"},
		{"admins not a list", map[string]any{"permission.admins": "group:default/admins"}, "permission.admins"},
		{"enabled not a boolean", map[string]any{"permission.enabled": "yes"}, "permission.enabled"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := testbackend.New(testbackend.WithConfig(tt.config)).TryStart(t, checker, permissions.Factory(), permissions.PolicyFactory())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("TryStart = %v, want an error naming %s", err, tt.want)
			}
		})
	}
}

// TestPolicyModule checks that a root factory for core.PermissionPolicyRef
// added to a backend decides instead of the default, and that a module
// can wrap the ownership policy.
func TestPolicyModule(t *testing.T) {
	t.Parallel()
	module := backend.NewRootServiceFactory(core.PermissionPolicyRef, func(context.Context, struct{}) (core.PermissionPolicy, error) {
		own, err := permissions.OwnershipPolicy()
		if err != nil {
			return nil, err
		}
		return core.PermissionPolicyFunc(func(ctx context.Context, q core.PolicyQuery) (core.PermissionDecision, error) {
			if q.Request.Permission.Action == core.ActionDelete {
				return core.PermissionDecision{Result: core.Deny, Reason: "nobody deletes"}, nil
			}
			return own.Decide(ctx, q)
		}), nil
	})
	log := mockservices.Logger(t)
	tb := testbackend.Start(t, checker, permissions.Factory(), module, mockservices.RootLoggerFactory(log))
	p := testbackend.Service(t, tb, core.PermissionsRef, "todo")
	ds, err := p.Authorize(context.Background(), mockcreds.User("user:default/alice").Credentials(), del, read)
	if err != nil {
		t.Fatal(err)
	}
	if ds[0].Result != core.Deny || ds[0].Reason != "nobody deletes" || ds[1].Result != core.Allow {
		t.Errorf("decisions = %+v, want the module's DENY and the ownership policy's ALLOW", ds)
	}
	if !log.Contains("permission decision", "permission", "todo.item.del", "result", "DENY") {
		t.Errorf("no debug record of the decision among %v", log.Records())
	}
}

func TestNewNeedsPolicyAndUserInfo(t *testing.T) {
	t.Parallel()
	if _, err := permissions.New(permissions.Options{PluginID: "todo"}); err == nil {
		t.Error("New without a policy and user info succeeded")
	}
}
